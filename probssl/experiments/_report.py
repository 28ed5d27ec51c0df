"""The results store of ``probssl run`` (see :mod:`.engine`).

:class:`ResultStore` keeps the rows of ``probssl run`` on disk as they are
finished: ``results.json`` (the record) and ``results.csv`` (the same rows
for a spreadsheet) are rewritten atomically after every row, so an
interrupted run loses at most the row it was computing, and a re-run
reuses every finished row made from the same data and settings.
"""

import contextlib
import csv
import hashlib
import io
import json
import math
import os
import signal
import warnings

import numpy as np

from .._cache import atomic_write, file_sha256, remove_orphans

try:  # POSIX; elsewhere concurrent writers are not serialized
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None

RESULTS_JSON = "results.json"
RESULTS_CSV = "results.csv"
# The fields the store adds to each stored row: the settings it was made
# with, and a checksum of the row.
SETTINGS_FIELD = "settings"
CHECKSUM_FIELD = "checksum"
# Fields that tell two rows of one protocol apart, when the store is not
# given its own ``key`` (a field neither row has does not tell them apart).
DEFAULT_KEY = ("representation", "method", "n_labeled", "n_unlabeled",
               "seed")
# Fields of a stored row that hold a fraction in [0, 1].
FRACTIONS = ("accuracy", "macro_f1", "breakeven", "error")
_MISSING = object()


def _plain(value):
    # numpy scalars and arrays reach the rows through metrics and params.
    if isinstance(value, (np.generic, np.ndarray)):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON-serializable")


def _canonical(obj):
    """``obj`` as it will read back from JSON (tuples as lists, ...)."""
    return json.loads(json.dumps(obj, default=_plain))


def _sha256(obj, digits):
    text = json.dumps(obj, sort_keys=True, default=_plain)
    return hashlib.sha256(text.encode()).hexdigest()[:digits]


def row_checksum(row):
    """SHA-256 (16 hex digits) of a stored row without its checksum."""
    return _sha256({k: v for k, v in row.items() if k != CHECKSUM_FIELD}, 16)


def settings_id(settings):
    """Short SHA-256 of ``settings`` (canonical JSON), for the CSV column."""
    return _sha256(_canonical(settings), 12)


def check_row(row):
    """Why a result row is not sound (types, ranges), or None."""
    def number(v):
        return not isinstance(v, bool) and isinstance(v, (int, float))

    if not isinstance(row.get("method"), str):
        return f"method {row.get('method')!r} is not a name"
    for name in ("n_labeled", "seed"):
        v = row.get(name, 0)
        if not (number(v) and isinstance(v, int) and v >= 0):
            return f"{name} {v!r} is not a count"
    if "accuracy" not in row:
        return "it has no accuracy"
    for name in (f for f in FRACTIONS if f in row):
        v = row[name]
        if not (number(v) and math.isfinite(v) and 0 <= v <= 1):
            return f"{name} {v!r} is not a fraction in [0, 1]"
    v = row.get("fit_time_s", 0)
    if v is not None and not (number(v) and v >= 0):
        return f"fit_time_s {v!r} is not a time"
    return None


def archive_identity(path):
    """What identifies an archive's data: name, size and SHA-256.

    Parameters
    ----------
    path : str
        The archive.

    Returns
    -------
    identity : dict
        ``{"name", "size", "sha256"}``; the folder it lies in is left out,
        so a copy of the same file is the same data.
    """
    return {"name": os.path.basename(path), "size": os.path.getsize(path),
            "sha256": file_sha256(path)}


def corpus_identity(*bunches):
    """SHA-256 of the texts and targets of in-memory corpora (Bunches)."""
    h = hashlib.sha256()
    for bunch in bunches:
        h.update(b"\0bunch\0")
        for text in bunch.data:
            data = text.encode("utf-8", "surrogatepass")
            h.update(len(data).to_bytes(8, "little"))
            h.update(data)
        h.update(np.ascontiguousarray(bunch.target, dtype=np.int64).tobytes())
    return {"corpus_sha256": h.hexdigest(),
            "n_texts": [len(b.data) for b in bunches]}


def check_out_folder(out, name="out"):
    """Raise ``ValueError`` if ``out`` cannot be a results folder.

    Checked before any work, so that a run does not fail at its end.
    """
    shown = f"{name} {os.fspath(out)!r}"
    if not str(os.fspath(out)).strip():
        raise ValueError(f"{name} '': expected a folder name (an empty one "
                         "would write into the current folder)")
    path = probe = os.path.abspath(os.fspath(out))
    while not os.path.exists(probe) and os.path.dirname(probe) != probe:
        probe = os.path.dirname(probe)
    if not os.path.isdir(probe):
        raise ValueError(f"{shown} is an existing file, not a folder for the "
                         "result files" if probe == path else
                         f"{shown} cannot be created: {probe!r} is a file")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise ValueError(f"{shown}: the folder {probe!r} is not writable")
    return path


def _load_rows(path):
    """The rows of a ``results.json``; ``ValueError`` naming it if damaged
    (the store is refused whole: one damaged row puts every other in
    doubt)."""
    try:
        with open(path, "rb") as f:
            rows = json.loads(f.read().decode("utf-8"))
    except FileNotFoundError:
        return []
    except OSError as exc:  # a folder of that name, no permission, ...
        raise ValueError(f"The results file {path} cannot be read "
                         f"({exc.strerror or exc}).") from None
    except ValueError as exc:  # not UTF-8, not JSON
        raise ValueError(
            f"The results file {path} is damaged ({exc}); its rows are not "
            "reused and it is not overwritten. Move it away (or repair it) "
            "and run again.") from None
    if not isinstance(rows, list) or not all(isinstance(r, dict)
                                             for r in rows):
        raise ValueError(
            f"The results file {path} is not a list of result rows; move it "
            "away (it is not overwritten) and run again.")
    for i, row in enumerate(rows):
        if CHECKSUM_FIELD not in row:
            continue  # an older probssl's row: kept, never reused
        why = ("its checksum does not match (edited or damaged)"
               if row[CHECKSUM_FIELD] != row_checksum(row) else check_row(row))
        if why:
            raise ValueError(
                f"The results file {path} is damaged: row {i} "
                f"({row.get('method')!r}, n_labeled={row.get('n_labeled')!r},"
                f" seed={row.get('seed')!r}): {why}. Its rows are not "
                "reused and it is not overwritten; move it away (or run "
                "with another --out) and run again.")
    return rows


class ResultStore:
    """Finished result rows of a protocol, on disk after every row.

    Parameters
    ----------
    out : str, path-like or None
        The results folder (created if needed). None keeps the rows in
        memory only.
    settings : dict
        Everything that made the rows besides their key: data identity
        (e.g. :func:`archive_identity`), protocol settings, probssl
        version. JSON-serializable. Stored with every row; a row is reused
        only by a store with equal settings.
    key : sequence of str, default=None
        The fields that tell two rows apart (a row added with the same key
        and settings as a stored one replaces it). None uses those of
        :data:`DEFAULT_KEY`.
    fresh : bool, default=False
        Drop the stored rows of these settings (they are recomputed).

    Attributes
    ----------
    rows : list of dict
        The rows made with ``settings``, in insertion order (rows read from
        the file first), without the settings field.
    other_rows : list of dict
        The rows of the file made with other settings, or with none (written
        by an older probssl), as stored: kept in the file, never reused.
    path : str or None
        ``out/results.json``.

    Raises
    ------
    ValueError
        If ``out`` is an existing file or not writable, or if its
        ``results.json`` is damaged (the message names the file, which is
        left untouched).

    Notes
    -----
    ``results.json`` is the record; ``results.csv`` holds the same rows
    plus a ``settings_id`` column (see :func:`settings_id`), without the
    settings themselves. Both are replaced atomically (temporary file,
    ``fsync``, rename) after each :meth:`add`, under a lock on
    ``out/.results.lock``, re-reading the file first: processes adding to
    the same folder (``--jobs``, two runs at once) merge their rows instead
    of overwriting each other's.

    Examples
    --------
    >>> import tempfile
    >>> from probssl.experiments._report import ResultStore
    >>> with tempfile.TemporaryDirectory() as out:
    ...     store = ResultStore(out, {"alpha": 0.01})
    ...     store.get({"method": "NB", "seed": 0}) is None
    ...     _ = store.add({"method": "NB", "seed": 0, "accuracy": 0.5})
    ...     ResultStore(out, {"alpha": 0.01}).get({"method": "NB", "seed": 0})
    ...     ResultStore(out, {"alpha": 1.0}).get({"method": "NB", "seed": 0})
    True
    {'method': 'NB', 'seed': 0, 'accuracy': 0.5}
    """

    def __init__(self, out, settings, key=None, fresh=False):
        self.settings = _canonical(settings)
        self.key = tuple(key or DEFAULT_KEY)
        self.rows, self.other_rows, self.path = [], [], None
        self.out = None if out is None else check_out_folder(out)
        if self.out is None:
            return
        os.makedirs(self.out, exist_ok=True)
        self.path = os.path.join(self.out, RESULTS_JSON)
        remove_orphans(self.out, [RESULTS_JSON, RESULTS_CSV])
        self._split(_load_rows(self.path))
        unknown = sum(SETTINGS_FIELD not in r for r in self.other_rows)
        if unknown:
            # Otherwise the user sees every row recomputed, not why.
            warnings.warn(
                f"{unknown} row(s) of {self.path} were written without "
                "their settings (by an older probssl): they are kept in "
                "the file but not reused.", UserWarning, stacklevel=2)
        if fresh and self.rows:
            # Dropped from the file now, before any worker adds new ones.
            with self._guarded():
                self._split(_load_rows(self.path))
                self.rows = []
                self._write()
        elif self.rows or self.other_rows:
            # A run killed between the two replacements left the CSV one
            # row behind the JSON record: bring it up to date.
            with self._guarded():
                self._split(_load_rows(self.path), keep=self.rows)
                self._write_csv(self._stored_rows())

    def get(self, key):
        """The finished row whose fields equal ``key``'s, or None.

        Parameters
        ----------
        key : dict
            Field values the row must have (e.g. ``{"method": "EM",
            "n_labeled": 100, "seed": 0}``).

        Returns
        -------
        row : dict or None
            A copy of the last such row made with this store's settings.
        """
        want = _canonical(key)
        for row in reversed(self.rows):
            if all(row.get(k, _MISSING) == v for k, v in want.items()):
                return dict(row)
        return None

    def add(self, row):
        """Add a finished row (replacing one with the same key) and rewrite
        ``results.json`` and ``results.csv``.

        Parameters
        ----------
        row : dict
            JSON-serializable (numpy scalars are converted); may not have a
            ``"settings"`` or ``"checksum"`` field.

        Returns
        -------
        row : dict
            The row as stored (and as it will read back).
        """
        for name in (SETTINGS_FIELD, CHECKSUM_FIELD):
            if name in row:
                raise ValueError(f"a row may not have a {name!r} field (the "
                                 "store adds it itself)")
        row = _canonical(row)
        why = check_row(row) if "accuracy" in row else None
        if why:
            raise ValueError(f"refusing to store a result row: {why}")
        if self.out is None:
            self._merge_into(self.rows, row)
            return dict(row)
        with self._guarded():
            # Re-read: another process may have added rows since.
            self._split(_load_rows(self.path), keep=self.rows)
            self._merge_into(self.rows, row)
            self._write()
        return dict(row)

    def __len__(self):
        return len(self.rows)

    def _same_key(self, a, b):
        return all(a.get(f, _MISSING) == b.get(f, _MISSING) for f in self.key)

    def _merge_into(self, rows, row):
        same = [i for i, old in enumerate(rows) if self._same_key(old, row)]
        if same:
            rows[same[0]] = row
        else:
            rows.append(row)

    def _split(self, stored, keep=()):
        mine, other = [], []
        for r in stored:
            if r.get(SETTINGS_FIELD) == self.settings:
                self._merge_into(mine, {k: v for k, v in r.items() if k not in
                                        (SETTINGS_FIELD, CHECKSUM_FIELD)})
            else:
                other.append(r)
        # Rows this store holds but the file lost (deleted by hand, ...):
        # a finished row is never dropped.
        mine += [r for r in keep if not any(self._same_key(r, m)
                                            for m in mine)]
        self.rows, self.other_rows = mine, other

    def _stored_rows(self):
        mine = [{**r, SETTINGS_FIELD: self.settings} for r in self.rows]
        return self.other_rows + [{**r, CHECKSUM_FIELD: row_checksum(r)}
                                  for r in mine]

    def _write(self):
        stored = self._stored_rows()
        atomic_write(self.path, json.dumps(stored, indent=1).encode())
        self._write_csv(stored)

    def _write_csv(self, stored):
        flat = [{**{k: v for k, v in r.items()
                    if k not in (SETTINGS_FIELD, CHECKSUM_FIELD)},
                 "settings_id": settings_id(r[SETTINGS_FIELD])
                 if SETTINGS_FIELD in r else ""} for r in stored]
        buf = io.StringIO(newline="")
        writer = csv.DictWriter(buf, fieldnames=list(dict.fromkeys(
            k for r in flat for k in r)))
        writer.writeheader()
        writer.writerows(flat)
        atomic_write(os.path.join(self.out, RESULTS_CSV),
                     buf.getvalue().encode())

    @contextlib.contextmanager
    def _guarded(self):
        """Hold Ctrl-C (SIGINT) back and the folder's lock while the result
        files are rewritten.

        The files are replaced atomically anyway; deferring the interrupt
        also keeps the row just finished (and leaves no temporary file
        behind): it is delivered, as KeyboardInterrupt, as soon as the block
        ends. The lock (``out/.results.lock``) serializes writers.
        """
        old = fd = None
        if hasattr(signal, "pthread_sigmask"):
            old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            if fcntl is not None:
                fd = os.open(os.path.join(self.out, ".results.lock"),
                             os.O_RDWR | os.O_CREAT, 0o644)
                fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            if fd is not None:
                os.close(fd)  # closing the file releases its lock
            if old is not None:
                signal.pthread_sigmask(signal.SIG_SETMASK, old)
