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
import threading
import warnings

import numpy as np

from .._cache import atomic_write, file_sha256, remove_orphans

try:  # POSIX; elsewhere concurrent writers are not serialized
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None

RESULTS_JSON = "results.json"
RESULTS_CSV = "results.csv"
# The field of each stored row that holds the settings it was made with.
SETTINGS_FIELD = "settings"
# Fields that tell two rows of one protocol apart, when the store is not
# given its own ``key``; only those a row has are used.
DEFAULT_KEY = ("representation", "method", "n_labeled", "n_unlabeled",
               "seed")
_MISSING = object()


def _plain(value):
    # numpy scalars and arrays reach the rows through metrics and params.
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON-serializable")


CHECKSUM_FIELD = "checksum"
# Fields of a stored row that hold a fraction in [0, 1].
FRACTIONS = ("accuracy", "macro_f1", "breakeven", "error")


def row_checksum(row):
    """SHA-256 (16 hex digits) of a stored row without its checksum."""
    body = {k: v for k, v in row.items() if k != CHECKSUM_FIELD}
    text = json.dumps(body, sort_keys=True, default=_plain)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def check_row(row):
    """Why a result row is not sound (types, ranges), or None."""
    if not isinstance(row.get("method"), str):
        return f"method {row.get('method')!r} is not a name"
    for name in ("n_labeled", "seed"):
        v = row.get(name, 0)
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            return f"{name} {v!r} is not a count"
    if "accuracy" not in row:
        return "it has no accuracy"
    for name in FRACTIONS:
        if name not in row:
            continue
        v = row[name]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or \
                not math.isfinite(v) or not 0 <= v <= 1:
            return f"{name} {v!r} is not a fraction in [0, 1]"
    v = row.get("fit_time_s", 0)
    if v is not None and (isinstance(v, bool) or not isinstance(
            v, (int, float)) or not v >= 0):
        return f"fit_time_s {v!r} is not a time"
    return None


def checked_rows(rows, path):
    """``rows`` if every checksummed row is intact and sound; else
    ``ValueError`` naming the file and the row (the store is refused
    whole: one damaged row puts every other in doubt)."""
    for i, row in enumerate(rows):
        if CHECKSUM_FIELD not in row:
            continue  # an older probssl's row: kept, never reused
        why = (None if row[CHECKSUM_FIELD] == row_checksum(row)
               else "its checksum does not match (edited or damaged)")
        why = why or check_row(row)
        if why:
            raise ValueError(
                f"The results file {path} is damaged: row {i} "
                f"({row.get('method')!r}, n_labeled={row.get('n_labeled')!r},"
                f" seed={row.get('seed')!r}): {why}. Its rows are not "
                "reused and it is not overwritten; move it away (or run "
                "with another --out) and run again.")
    return rows


def _canonical(obj):
    """``obj`` as it will read back from JSON (tuples as lists, ...)."""
    return json.loads(json.dumps(obj, default=_plain))


def settings_id(settings):
    """Short SHA-256 of ``settings`` (canonical JSON), for the CSV column."""
    text = json.dumps(_canonical(settings), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


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
    if not str(os.fspath(out)).strip():
        raise ValueError(f"{name} '': expected a folder name (an empty one "
                         "would write into the current folder)")
    path = os.path.abspath(os.fspath(out))
    probe = path
    while not os.path.exists(probe):
        parent = os.path.dirname(probe)
        if parent == probe:
            break
        probe = parent
    if probe == path and not os.path.isdir(path):
        raise ValueError(f"{name} {os.fspath(out)!r} is an existing file, not "
                         "a folder for the result files")
    if probe != path and not os.path.isdir(probe):
        raise ValueError(f"{name} {os.fspath(out)!r} cannot be created: "
                         f"{probe!r} is a file")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise ValueError(f"{name} {os.fspath(out)!r}: the folder {probe!r} is "
                         "not writable")
    return path


def _load_rows(path):
    """The rows of a ``results.json``; ``ValueError`` naming it if damaged."""
    try:
        with open(path, "rb") as f:
            text = f.read()
    except FileNotFoundError:
        return []
    except OSError as exc:  # a folder of that name, no permission, ...
        raise ValueError(f"The results file {path} cannot be read "
                         f"({exc.strerror or exc}).") from None
    try:
        rows = json.loads(text.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(
            f"The results file {path} is damaged ({exc}); its rows are not "
            "reused and it is not overwritten. Move it away (or repair it) "
            "and run again.") from None
    if not isinstance(rows, list) or not all(isinstance(r, dict)
                                             for r in rows):
        raise ValueError(
            f"The results file {path} is not a list of result rows; move it "
            "away (it is not overwritten) and run again.")
    return checked_rows(rows, path)


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
        :data:`DEFAULT_KEY` that the row has.

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
        if not isinstance(settings, dict):
            raise TypeError(f"settings must be a dict, got "
                            f"{type(settings).__name__}")
        self.settings = _canonical(settings)
        self.key = None if key is None else tuple(key)
        self.rows = []
        self.other_rows = []
        self.out = None if out is None else check_out_folder(out)
        self.path = None
        if self.out is not None:
            os.makedirs(self.out, exist_ok=True)
            self.path = os.path.join(self.out, RESULTS_JSON)
            remove_orphans(self.out, [RESULTS_JSON, RESULTS_CSV])
            self._split(_load_rows(self.path))
            if fresh and self.rows:
                # --fresh: this settings' rows are recomputed; dropped from
                # the file now, before any worker adds its new ones.
                with self._guarded():
                    self._split(_load_rows(self.path))
                    self.rows = []
                    self._write()
            unknown = sum(SETTINGS_FIELD not in r for r in self.other_rows)
            if unknown:
                # Otherwise the user sees every row recomputed, not why.
                warnings.warn(
                    f"{unknown} row(s) of {self.path} were written without "
                    "their settings (by an older probssl): they are kept in "
                    "the file but not reused.", UserWarning, stacklevel=2)
            if self.rows or self.other_rows:
                # A run killed between the two replacements left the CSV
                # one row behind the JSON record: bring it up to date.
                with self._guarded():
                    self._split(_load_rows(self.path), keep=self.rows)
                    self._write_csv(self._stored_rows(), only_if_changed=True)

    # -- queries -----------------------------------------------------------

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
            ``"settings"`` field.

        Returns
        -------
        row : dict
            The row as stored (and as it will read back).
        """
        if not isinstance(row, dict):
            raise TypeError(f"a row must be a dict, got {type(row).__name__}")
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

    # -- internals ---------------------------------------------------------

    def _same_key(self, a, b):
        fields = self.key or [f for f in DEFAULT_KEY if f in a or f in b]
        return all(a.get(f, _MISSING) == b.get(f, _MISSING) for f in fields)

    def _merge_into(self, rows, row):
        for i, old in enumerate(rows):
            if self._same_key(old, row):
                rows[i] = row
                return
        rows.append(row)

    def _split(self, stored, keep=()):
        mine, other = [], []
        for r in stored:
            if r.get(SETTINGS_FIELD) == self.settings:
                r = {k: v for k, v in r.items()
                     if k not in (SETTINGS_FIELD, CHECKSUM_FIELD)}
                self._merge_into(mine, r)
            else:
                other.append(r)
        # Rows this store holds but the file lost (deleted by hand, ...):
        # a finished row is never dropped.
        for r in keep:
            if not any(self._same_key(r, m) for m in mine):
                mine.append(r)
        self.rows, self.other_rows = mine, other

    def _stored_rows(self):
        mine = []
        for r in self.rows:
            r = {**r, SETTINGS_FIELD: self.settings}
            mine.append({**r, CHECKSUM_FIELD: row_checksum(r)})
        return self.other_rows + mine

    def _write(self):
        stored = self._stored_rows()
        atomic_write(self.path, json.dumps(stored, indent=1).encode())
        self._write_csv(stored)

    def _write_csv(self, stored, only_if_changed=False):
        sid = settings_id(self.settings)
        flat = []
        for r in stored:
            s = r.get(SETTINGS_FIELD)
            flat.append({**{k: v for k, v in r.items()
                            if k not in (SETTINGS_FIELD, CHECKSUM_FIELD)},
                         "settings_id": sid if s == self.settings else
                         (settings_id(s) if s is not None else "")})
        fields = list(dict.fromkeys(k for r in flat for k in r))
        buf = io.StringIO(newline="")
        writer = csv.DictWriter(buf, fieldnames=fields)
        writer.writeheader()
        writer.writerows(flat)
        path = os.path.join(self.out, RESULTS_CSV)
        data = buf.getvalue().encode()
        if only_if_changed:
            try:
                with open(path, "rb") as f:
                    if f.read() == data:
                        return
            except OSError:
                pass
        atomic_write(path, data)

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
        if (hasattr(signal, "pthread_sigmask")
                and threading.current_thread() is threading.main_thread()):
            old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            if fcntl is not None:
                fd = os.open(os.path.join(self.out, ".results.lock"),
                             os.O_RDWR | os.O_CREAT, 0o644)
                fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            if fd is not None:
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)
            if old is not None:
                signal.pthread_sigmask(signal.SIG_SETMASK, old)
