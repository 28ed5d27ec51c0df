"""The parts of a protocol declaration (see :mod:`.engine`)."""

import functools
import hashlib
import importlib
import json
import os
import pkgutil
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Optional

from ._options import Option, existing_path, integer, integers, names

# Keys of the settings that do not change a row.
ENGINE_KEYS = ("out", "jobs", "fresh", "quiet")


@dataclass
class Data:
    """What a protocol's ``load`` returns: the pool the draws split
    (``X``, ``y``), the test rows and facts about them (``info``)."""
    X: Any = None
    y: Any = None
    X_test: Any = None
    y_test: Any = None
    info: dict = field(default_factory=dict)


@dataclass
class Method:
    """A named estimator factory: ``make(s)`` returns an unfitted model.

    ``semi``: fit on labeled + unlabeled rows (``y == -1``) or on the
    labeled rows only; ``extra``: constant fields of its rows.
    """
    make: Callable
    semi: bool = True
    extra: dict = field(default_factory=dict)


@dataclass
class Protocol:
    """A protocol's declaration; see the module docstring."""
    name: str
    title: str
    options: tuple = ()
    load: Optional[Callable] = None
    split: Optional[Callable] = None
    methods: Mapping[str, Method] = field(default_factory=dict)
    metrics: tuple = ("accuracy", "macro_f1")
    published: Mapping = field(default_factory=dict)
    published_label: str = "published"
    # More values beside ours: (column, metric, {method: {x: value}}, label).
    references: tuple = ()
    key: tuple = ("method", "n_labeled", "seed")
    x: str = "n_labeled"
    # The rows' field whose values are the table's columns.
    column: str = "method"
    group: tuple = ()
    draws: Optional[Callable] = None
    run_draw: Optional[Callable] = None
    check: Optional[Callable] = None
    identity: Optional[Callable] = None
    summarize: Optional[Callable] = None
    # False: no default table (``summarize`` writes the protocol's own).
    table: bool = True
    figure: Optional[Callable] = None
    notes: str = ""
    constants: Mapping = field(default_factory=dict)
    # The options of its section in ``probssl report`` (None: no section)
    # and the section's prose.
    report: Optional[Mapping] = None
    about: str = ""


@dataclass
class Dispatch:
    """Protocols of one name told apart by an option's value."""
    name: str
    option: str
    choices: Mapping[str, Any]
    default: str
    help: str = ""

    def select(self, value):
        if value not in self.choices:
            raise ValueError(f"--{self.option}: expected one of "
                             f"{', '.join(self.choices)}, got {value!r}")
        target = self.choices[value]
        if isinstance(target, str):
            module, _, attr = target.partition(":")
            target = getattr(importlib.import_module(module),
                             attr or "PROTOCOL")
        return target


def published_values(name, keys=None):
    """The published numbers ``name`` of ``published.json`` (in %), keys
    converted by ``keys`` (``int`` for labeled counts)."""
    with open(os.path.join(os.path.dirname(__file__), "published.json"),
              encoding="utf-8") as f:
        values = json.load(f)[name]
    return {(keys or str)(k): v for k, v in values.items()}


# -- ready-made options ------------------------------------------------------

def data_option(help="20news-bydate.tar.gz or its folder (default: "
                "$PROBSSL_DATA)"):
    """``--data``: the 20 Newsgroups archive, resolved before any work."""
    return Option("data", None, existing_path, help, metavar="PATH")


def labeled_option(default, multiple_of=1, help="labeled-document counts",
                   hi=1_000_000):
    def parse(text):
        values = integers(1, hi)(text)
        bad = [v for v in values if v % multiple_of]
        if bad:
            raise ValueError(f"sizes must be multiples of {multiple_of} "
                             f"(the classes), got {bad[0]}")
        return values
    return Option("labeled", tuple(default), parse, help, metavar="N,N,...",
                  selects=True)


def seeds_option(default, help="random draws 0 ... seeds - 1", hi=1000):
    return Option("seeds", default, integer(1, hi), help, selects=True)


def methods_option(known, default=None, help="comma-separated methods"):
    return Option("methods", tuple(default or known), names(known, "method"),
                  f"{help}: any of {', '.join(known)}", metavar="M,M,...",
                  selects=True)


# -- code identity -----------------------------------------------------------

@functools.lru_cache(maxsize=None)
def _source_sha256():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    h = hashlib.sha256()
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(f for f in files if f.endswith(".py")):
            path = os.path.join(folder, name)
            h.update(os.path.relpath(path, root).encode() + b"\0")
            with open(path, "rb") as f:
                h.update(f.read() + b"\0")
    return h.hexdigest()[:16]


def code_identity():
    """What identifies the code that makes a row: the version and the
    SHA-256 of every ``.py`` file of the package (path and bytes).

    A stored row is reused only when this matches (with the settings and
    data): any change to any source file of probssl recomputes.
    """
    from probssl import __version__

    return {"version": __version__, "source_sha256": _source_sha256()}


# -- discovery ---------------------------------------------------------------

def protocols():
    """``{name: Protocol or Dispatch}`` of every ``probssl run`` protocol."""
    import probssl.experiments as pkg

    found = {}
    for info in pkgutil.iter_modules(pkg.__path__):
        if info.name.startswith("_") or info.name == "engine":
            continue
        module = importlib.import_module(f"{pkg.__name__}.{info.name}")
        proto = getattr(module, "PROTOCOL", None)
        if proto is not None and proto.name == info.name:
            found[info.name] = proto
    return dict(sorted(found.items()))


def resolve(proto, given):
    """The :class:`Protocol` a (possibly nested) :class:`Dispatch` selects
    with the options ``given`` (a dict of raw values)."""
    while isinstance(proto, Dispatch):
        proto = proto.select(given.get(proto.option, proto.default))
    return proto


def variants(proto, words=()):
    """``(command words, protocol)`` of every variant of ``proto``: the
    options that select it (none for a default)."""
    if not isinstance(proto, Dispatch):
        yield words, proto
        return
    for value in proto.choices:
        picked = () if value == proto.default else (f"--{proto.option}",
                                                    value)
        yield from variants(proto.select(value), words + picked)


# -- the run -----------------------------------------------------------------

def parse_settings(proto, given):
    """Every option of ``proto`` parsed and checked: ``given`` maps option
    names to raw strings (or to values already parsed); ``ValueError``
    naming the option."""
    known = {o.name: o for o in proto.options}
    unknown = [k for k in given if k not in known and k not in ENGINE_KEYS]
    if unknown:
        raise ValueError(f"--{unknown[0].replace('_', '-')} is not an option "
                         f"of {proto.name}")
    s = {"protocol": proto.name, **proto.constants}
    for name, opt in known.items():
        value = given.get(name, opt.default)
        if isinstance(value, str) and (name in given):
            try:
                value = opt.parse(value)
            except ValueError as exc:
                raise ValueError(f"--{opt.flag}: {exc}") from None
        s[name] = value
    if proto.check is not None:
        proto.check(s)
    return s


def store_settings(proto, s):
    """What keys the stored rows: settings, data and code identity (the
    data's: ``Protocol.identity``, else that of the file ``s["data"]``)."""
    from ._report import archive_identity

    unkeyed = {"data", *(o.name for o in proto.options if o.selects)}
    kept = {k: v for k, v in s.items() if k not in unkeyed}
    if proto.identity is not None:
        data = proto.identity(s)
    elif isinstance(s.get("data"), str) and os.path.isfile(s["data"]):
        data = archive_identity(s["data"])
    else:
        data = None
    return {**kept, "data": data, "code": code_identity()}
