"""A protocol's options and their parsers (see :mod:`.engine`).

A parser takes the command-line text and returns the value, or raises
``ValueError`` with what is wrong; the caller adds the option's name.
"""

import math
import os
from dataclasses import dataclass
from typing import Any, Callable, Optional


@dataclass(frozen=True)
class Option:
    """One option of a protocol: ``--name`` (underscores as dashes)."""
    name: str
    default: Any
    parse: Callable[[str], Any]
    help: str = ""
    metavar: Optional[str] = None
    # False: settable from Python only (an in-memory corpus), not a flag.
    cli: bool = True
    # True: the option picks which rows run (sizes, seeds, methods), not
    # what a row is; a stored row is reused whatever its value.
    selects: bool = False

    @property
    def flag(self):
        return self.name.replace("_", "-")


def _within(value, text, what, lo, hi, open_low=False):
    """``value`` if it lies in ``[lo, hi]`` (``(lo, hi]`` with
    ``open_low``); else ``ValueError`` saying the bound it misses."""
    def shown(bound):
        return f"{bound:,}" if isinstance(bound, int) else f"{bound:g}"

    if lo is not None and (value < lo or (open_low and value == lo)):
        raise ValueError(f"expected {what} {'>' if open_low else '≥'} "
                         f"{shown(lo)}, got {text!r}")
    if hi is not None and value > hi:
        raise ValueError(f"expected {what} ≤ {shown(hi)}, got {text!r}")
    return value


def integer(lo=None, hi=None):
    """An int in ``[lo, hi]``."""
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise ValueError(f"expected an integer, got {text!r}") from None
        return _within(value, text, "an integer", lo, hi)
    return parse


def integers(lo=None, hi=None):
    """A comma-separated, non-empty tuple of ints in ``[lo, hi]``."""
    one = integer(lo, hi)

    def parse(text):
        values = tuple(one(p) for p in str(text).split(",") if p.strip())
        if not values:
            raise ValueError(f"expected comma-separated integers, got "
                             f"{text!r}")
        if len(set(values)) < len(values):
            raise ValueError(f"a value is repeated in {text!r}")
        return values
    return parse


def number(lo=None, hi=None, open_low=False):
    """A finite float in ``[lo, hi]`` (``(lo, hi]`` with ``open_low``)."""
    def parse(text):
        try:
            value = float(text)
        except ValueError:
            raise ValueError(f"expected a number, got {text!r}") from None
        if not math.isfinite(value):
            raise ValueError(f"expected a finite number, got {text!r}")
        return _within(value, text, "a number", lo, hi, open_low)
    return parse


def choice(*values):
    """One of ``values``."""
    def parse(text):
        if text not in values:
            raise ValueError(f"expected one of {', '.join(values)}, got "
                             f"{text!r}")
        return text
    return parse


def names(known, what="name"):
    """A comma-separated tuple of names among ``known`` (in given order;
    ``known`` may be a function returning them, called on use)."""
    def parse(text):
        choices = known() if callable(known) else known
        given = tuple(dict.fromkeys(p.strip() for p in str(text).split(",")
                                    if p.strip()))
        if not given:
            raise ValueError(f"expected one or more of "
                             f"{', '.join(choices)}")
        unknown = [g for g in given if g not in choices]
        if unknown:
            raise ValueError(f"unknown {what} {unknown[0]!r}; choose from "
                             f"{', '.join(choices)}")
        return given
    return parse


def existing_path(text):
    """A file or folder that exists, as an absolute path."""
    if not str(text).strip():
        raise ValueError("expected a path, got ''")
    if not os.path.exists(text):
        raise ValueError(f"{text!r} does not exist")
    return os.path.abspath(text)


def text_file(text):
    """A readable UTF-8 text file, as an absolute path."""
    path = existing_path(text)
    if not os.path.isfile(path):
        raise ValueError(f"{text!r} is not a file")
    try:
        with open(path, encoding="utf-8") as f:
            content = f.read()
    except UnicodeDecodeError as exc:
        raise ValueError(f"{text!r} is not UTF-8 text (byte "
                         f"{exc.start}: {exc.reason})") from None
    except OSError as exc:
        raise ValueError(f"{text!r} cannot be read ({exc.strerror})") from None
    if "\0" in content:
        raise ValueError(f"{text!r} is a binary file, not text")
    return path
