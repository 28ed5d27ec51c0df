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

    @property
    def flag(self):
        return self.name.replace("_", "-")


def integer(lo=None, hi=None):
    """An int in ``[lo, hi]``."""
    def parse(text):
        try:
            value = int(str(text).strip())
        except ValueError:
            raise ValueError(f"expected an integer, got {text!r}") from None
        if lo is not None and value < lo:
            raise ValueError(f"expected an integer ≥ {lo:,}, got {text!r}")
        if hi is not None and value > hi:
            raise ValueError(f"expected an integer ≤ {hi:,}, got {text!r}")
        return value
    return parse


def integers(lo=None, hi=None):
    """A comma-separated, non-empty tuple of ints in ``[lo, hi]``."""
    one = integer(lo, hi)

    def parse(text):
        parts = [p for p in str(text).split(",") if p.strip()]
        if not parts:
            raise ValueError(f"expected comma-separated integers, got "
                             f"{text!r}")
        values = tuple(one(p) for p in parts)
        if len(set(values)) < len(values):
            raise ValueError(f"a value is repeated in {text!r}")
        return values
    return parse


def number(lo=None, hi=None, open_low=False, allow_none=False):
    """A finite float in ``[lo, hi]`` (``(lo, hi]`` with ``open_low``);
    ``allow_none``: the text ``none`` gives None."""
    def parse(text):
        if allow_none and str(text).strip().lower() == "none":
            return None
        try:
            value = float(text)
        except ValueError:
            raise ValueError(f"expected a number, got {text!r}") from None
        if not math.isfinite(value):
            raise ValueError(f"expected a finite number, got {text!r}")
        if lo is not None and (value < lo or (open_low and value == lo)):
            raise ValueError(f"expected a number {'>' if open_low else '≥'}"
                             f" {lo:g}, got {text!r}")
        if hi is not None and value > hi:
            raise ValueError(f"expected a number ≤ {hi:g}, got {text!r}")
        return value
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


def out_folder(text):
    """A results folder: not empty, not an existing file, writable."""
    from ._report import check_out_folder

    return check_out_folder(text, "folder")
