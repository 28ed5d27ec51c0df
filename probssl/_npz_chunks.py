"""Chunk folders on disk (:func:`write_npz_chunks`, :class:`NpzChunks`) and
one pass over any re-iterable of chunks (:func:`_chunk_items`).

A chunk folder says what it holds: ``manifest.json`` lists its chunks in
order, each with its number of rows and the SHA-256 of each of its files,
and carries a folder id drawn anew whenever the folder is (re)written from
its first chunk. :class:`NpzChunks` reads only the chunks listed there and
checks every file's checksum on every pass, so that stale chunks of an
older write, chunks copied in from another folder, and chunks rewritten or
damaged between two passes of EM are refused with an error naming the
chunk, never read into the fit.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import os
import re
import uuid
import zipfile
from collections.abc import Iterator
from numbers import Integral

import numpy as np
import scipy.sparse as sp

from ._cache import atomic_write
from ._typing import ArrayLike, MatrixLike, NDArray, PathLike
from ._validation import unlabeled_mask

MANIFEST = "manifest.json"
_FORMAT = "probssl-npz-chunks"
# Files write_npz_chunks owns in a folder (cleared when it starts afresh).
_OWN_FILE = re.compile(r"chunk_\d{6,}\.(npz|X\.npy|y\.npy|w\.npy)$")
_X_FILE = re.compile(r".*(\.npz|\.X\.npy)$")
# What np.load / sp.load_npz raise on a damaged file.
_READ_ERRORS = (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile,
                zipfile.LargeZipFile)


def _sha256(data):
    return hashlib.sha256(data).hexdigest()


def _read_manifest(folder):
    path = os.path.join(folder, MANIFEST)
    try:
        with open(path, "rb") as f:
            manifest = json.loads(f.read().decode("utf-8"))
    except FileNotFoundError:
        if not os.path.isdir(folder):
            raise FileNotFoundError(f"no chunk folder {folder!r}.") from None
        legacy = [n for n in os.listdir(folder) if _X_FILE.match(n)]
        raise FileNotFoundError(
            f"no {MANIFEST} in {folder!r}: not a chunk folder written by "
            "probssl.chunked.write_npz_chunks"
            + (f" (it holds {len(legacy)} chunk file(s) without a manifest, "
               "e.g. from an older probssl: write them again with "
               "write_npz_chunks)." if legacy else ".")) from None
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot read the chunk manifest {path!r}: "
                         f"{exc}") from None
    try:
        ok = (manifest["format"] == _FORMAT
              and isinstance(manifest["folder_id"], str)
              and all(isinstance(c["name"], str) and isinstance(c["X"], str)
                      and isinstance(c["rows"], int)
                      and isinstance(c["sha256"], dict)
                      for c in manifest["chunks"]))
    except (KeyError, TypeError):
        ok = False
    if not ok:
        raise ValueError(f"{path!r} is not a probssl chunk manifest (or it "
                         "is damaged).")
    return manifest


def _unlisted_chunks(folder, manifest):
    """Chunk files (X) in ``folder`` that its manifest does not list."""
    listed = {c["X"] for c in manifest["chunks"]}
    return sorted(n for n in os.listdir(folder)
                  if _X_FILE.match(n) and n not in listed
                  and not n.startswith(".tmp-"))


class NpzChunks:
    """Re-iterable chunks from a folder written by :func:`write_npz_chunks`.

    The folder's ``manifest.json`` lists the chunks: ``NAME.npz`` (a
    :func:`scipy.sparse.save_npz` CSR matrix) or ``NAME.X.npy`` (a dense
    array) holds the rows of one chunk, ``NAME.y.npy`` its labels (``-1``:
    unlabeled) and, optionally, ``NAME.w.npy`` its sample weights. Chunks
    are read one at a time, in the manifest's order, every time the object
    is iterated.

    Every pass checks the folder against its manifest: a chunk file the
    manifest does not list (a stale or foreign chunk), a file whose SHA-256
    differs from the one written (truncated, damaged, edited or replaced;
    checked on the first pass, later passes check that each file's size,
    modification time and inode are those of the first), a folder
    rewritten since this object was made (its id changed) or a chunk whose
    files disagree in rows raises ``ValueError`` naming the chunk and its
    file; a folder without a manifest raises ``FileNotFoundError``.

    Parameters
    ----------
    folder : str or path-like
        A chunk folder written by :func:`write_npz_chunks`.

    Attributes
    ----------
    folder : str
        The folder.
    manifest : dict
        Its ``manifest.json`` when this object was made.
    folder_id : str
        The folder's id; a rewrite gives it a new one.
    files : list of str
        The X file of every chunk, in order.

    Examples
    --------
    >>> import tempfile
    >>> from probssl import EMNaiveBayes
    >>> from probssl.chunked import NpzChunks, write_npz_chunks
    >>> from probssl.datasets import make_multinomial_mixture
    >>> X, y = make_multinomial_mixture(300, 40, 2, random_state=0)
    >>> y[20:] = -1                                  # 20 labeled rows
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     write_npz_chunks(folder, X, y, chunk_rows=100)
    ...     chunks = NpzChunks(folder)
    ...     print(len(chunks), [Xc.shape for Xc, yc in chunks])
    ...     clf = EMNaiveBayes().fit_chunks(chunks)
    3
    3 [(100, 40), (100, 40), (100, 40)]
    >>> clf.classes_.tolist()
    [0, 1]
    """

    def __init__(self, folder: PathLike) -> None:
        self.folder = os.fspath(folder)
        self.manifest = _read_manifest(self.folder)
        self.folder_id = self.manifest["folder_id"]
        self.files = [os.path.join(self.folder, c["X"])
                      for c in self.manifest["chunks"]]
        if not self.files:
            raise FileNotFoundError(f"no chunk in {self.folder!r} (its "
                                    f"{MANIFEST} lists none).")
        self._seen = {}  # file name -> its status when its hash was checked
        self._check_listing(self.manifest)

    def _check_listing(self, manifest):
        extra = _unlisted_chunks(self.folder, manifest)
        if extra:
            raise ValueError(
                f"chunk folder {self.folder!r}: {extra[0]!r}"
                + (f" (and {len(extra) - 1} more)" if len(extra) > 1 else "")
                + f" is not listed in its {MANIFEST}: a stale chunk of an "
                "older write or a chunk from another folder; remove it, or "
                "write the folder again with write_npz_chunks.")

    def __len__(self) -> int:
        return len(self.files)

    def __iter__(self) -> Iterator[tuple[MatrixLike, NDArray]
                                   | tuple[MatrixLike, NDArray, NDArray]]:
        manifest = _read_manifest(self.folder)
        if (manifest["folder_id"] != self.folder_id
                or manifest["chunks"] != self.manifest["chunks"]):
            raise ValueError(
                f"chunk folder {self.folder!r} was rewritten since this "
                "NpzChunks was made (its manifest changed): its chunks "
                "changed between two passes; make a new NpzChunks and fit "
                "again.")
        self._check_listing(manifest)
        for k, entry in enumerate(manifest["chunks"]):
            yield self._read_chunk(k, entry)

    def _read_chunk(self, k, entry):
        """Chunk ``k``: on this object's first pass every file is checked
        against its SHA-256; later passes check that its status (size,
        modification time, inode) is still the one seen then, which costs
        a stat instead of a hash of every byte."""
        where = f"chunk {k} ({self.files[k]})"
        arrays = {}
        for name, digest in entry["sha256"].items():
            path = os.path.join(self.folder, name)
            try:
                status = os.stat(path)
                seen = self._seen.get(name)
                status = (status.st_size, status.st_mtime_ns, status.st_ino)
                if seen is not None and seen != status:
                    raise ValueError(
                        f"{where}: {name} changed between two passes (its "
                        "size, time or inode differ from the first pass's).")
                source = path
                if seen is None:
                    with open(path, "rb") as f:
                        data = f.read()
                    if _sha256(data) != digest:
                        raise ValueError(
                            f"{where}: {name} is not the file "
                            "write_npz_chunks wrote (its SHA-256 differs "
                            f"from the {MANIFEST}'s: truncated, damaged, or "
                            "changed since it was written).")
                    source = io.BytesIO(data)
            except OSError as exc:
                raise ValueError(f"{where}: cannot read {name}: "
                                 f"{exc}") from None
            try:
                arrays[name[len(entry["name"]):]] = (
                    sp.load_npz(source) if name.endswith(".npz")
                    else np.load(source, allow_pickle=False))
            except _READ_ERRORS as exc:
                raise ValueError(f"{where}: cannot read {name}: "
                                 f"{exc}") from None
            self._seen[name] = status
        X = arrays.get(".npz", arrays.get(".X.npy"))
        y, w = arrays.get(".y.npy"), arrays.get(".w.npy")
        if X is None or y is None:
            raise ValueError(f"{where}: the {MANIFEST} lists no X or no y "
                             "file for it.")
        for name, n in (("X", X.shape[0]), ("y", np.shape(y)[0]),
                        ("sample_weight", None if w is None else w.shape[0])):
            if n is not None and n != entry["rows"]:
                raise ValueError(f"{where}: its {name} has {n} rows, the "
                                 f"{MANIFEST} says {entry['rows']}.")
        return (X, y) if w is None else (X, y, w)


def _check_positive_int(value, name, minimum=1):
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"{name} must be an integer, got {value!r}.")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got "
                         f"{value!r}.")
    return int(value)


def _savable_labels(y):
    """``y`` as an array np.load reads without pickle: numbers, or text
    with ``"-1"`` marking unlabeled rows."""
    y = np.asarray(y)
    if y.dtype != object:
        return y
    unlabeled = unlabeled_mask(y)
    labeled = y[~unlabeled].tolist()
    if labeled and all(isinstance(v, str) for v in labeled):
        return np.where(unlabeled, "-1", y).astype(str)
    out = np.asarray(y.tolist())
    if out.dtype == object:
        raise TypeError("y: labels must be numbers or text (with -1 for "
                        "unlabeled rows), got objects of other types.")
    return out


def _clear(folder):
    """Remove the manifest, then every chunk file of an older write."""
    path = os.path.join(folder, MANIFEST)
    if os.path.exists(path):
        os.remove(path)
    for name in os.listdir(folder):
        if _OWN_FILE.match(name):
            os.remove(os.path.join(folder, name))


def _append_manifest(folder, start, n_features):
    """The manifest to extend from chunk ``start`` (a new one at 0)."""
    if start == 0:
        return {"format": _FORMAT, "version": 1,
                "folder_id": uuid.uuid4().hex, "n_features": n_features,
                "chunks": []}
    manifest = _read_manifest(folder)
    have = len(manifest["chunks"])
    if have != start:
        raise ValueError(
            f"start={start}, but {folder!r} holds {have} chunk(s): append "
            f"with start={have}, or write afresh with start=0.")
    if manifest.get("n_features") != n_features:
        raise ValueError(
            f"chunk {start} would have {n_features} features, the chunks "
            f"of {folder!r} have {manifest.get('n_features')}.")
    return manifest


def write_npz_chunks(folder: PathLike, X: MatrixLike, y: ArrayLike,
                     chunk_rows: int, sample_weight: ArrayLike | None = None,
                     start: int = 0) -> int:
    """Write (X, y[, sample_weight]) as chunks of ``chunk_rows`` rows.

    Sparse X is written as ``chunk_{i:06d}.npz``, dense X as
    ``chunk_{i:06d}.X.npy``, beside ``.y.npy`` / ``.w.npy``, with ``i``
    counted from ``start``, and listed in the folder's ``manifest.json``
    (rows and SHA-256 of every file; see :class:`NpzChunks`).

    ``start=0`` writes a new chunk folder: the manifest and every chunk
    file (``chunk_NNNNNN.*``) of an older write in ``folder`` are removed
    first (other files are left alone), and the folder gets a new id.
    ``start > 0`` appends to the folder's chunks, which must number exactly
    ``start`` (to write a corpus chunk by chunk).

    Every file is written whole or not at all, and the manifest is
    rewritten after each chunk: a write that is interrupted leaves the
    chunks before it, listed and readable by :class:`NpzChunks`.

    Parameters
    ----------
    folder : str or path-like
        The chunk folder; created if needed.
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        The rows: sparse X is saved as CSR, dense X as it is.
    y : array-like of shape (n_samples,)
        Their labels, ``-1`` for unlabeled rows.
    chunk_rows : int
        Rows per chunk (the last chunk may have fewer). Memory while
        fitting is about one chunk's.
    sample_weight : array-like of shape (n_samples,), default=None
        Row weights, saved beside each chunk.
    start : int, default=0
        Number of the first chunk written: 0 writes the folder afresh,
        ``start > 0`` appends after the ``start`` chunks already there.

    Returns
    -------
    n_chunks : int
        The number of chunks written.

    Raises
    ------
    TypeError, ValueError
        If ``chunk_rows`` or ``start`` is not an integer (at least 1, at
        least 0), if X is not 2-D or has no rows, if ``y`` or
        ``sample_weight`` does not have one entry per row of X, or (when
        appending) if the folder does not hold ``start`` chunks.

    Examples
    --------
    A corpus written in two calls, chunk by chunk:

    >>> import os, tempfile
    >>> import numpy as np
    >>> from probssl.chunked import NpzChunks, write_npz_chunks
    >>> X = np.arange(12.0).reshape(6, 2)
    >>> y = np.array([0, 1, -1, -1, -1, -1])
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     write_npz_chunks(folder, X[:4], y[:4], chunk_rows=2)
    ...     write_npz_chunks(folder, X[4:], y[4:], chunk_rows=2, start=2)
    ...     files = sorted(os.listdir(folder))
    ...     n_rows = [len(yc) for Xc, yc in NpzChunks(folder)]
    2
    1
    >>> files[:3], n_rows
    (['chunk_000000.X.npy', 'chunk_000000.y.npy', 'chunk_000001.X.npy'], [2, 2, 2])
    """
    step = _check_positive_int(chunk_rows, "chunk_rows")
    start = _check_positive_int(start, "start", minimum=0)
    dense = not sp.issparse(X)
    X = np.asarray(X) if dense else sp.csr_matrix(X)
    if X.ndim != 2 or X.shape[0] == 0:
        raise ValueError(f"X must be 2-D with at least one row, got shape "
                         f"{X.shape}.")
    y = _savable_labels(y)
    arrays = [("y", ".y.npy", y)]
    if sample_weight is not None:
        arrays.append(("sample_weight", ".w.npy",
                       np.asarray(sample_weight, dtype=np.float64)))
    for name, _, a in arrays:
        if a.ndim != 1 or a.shape[0] != X.shape[0]:
            raise ValueError(f"{name} must have one entry per row of X "
                             f"({X.shape[0]}), got shape {a.shape}.")
    folder = os.fspath(folder)
    os.makedirs(folder, exist_ok=True)
    if start == 0:
        _clear(folder)
    manifest = _append_manifest(folder, start, X.shape[1])
    save = np.save if dense else functools.partial(sp.save_npz,
                                                   compressed=False)
    x_suffix = ".X.npy" if dense else ".npz"
    starts = range(0, X.shape[0], step)
    for i, lo in enumerate(starts, start):
        rows = slice(lo, lo + step)
        name = f"chunk_{i:06d}"
        digests = {}
        # X last: its file is what makes the chunk (see _unlisted_chunks)
        for suffix, value, write in (
                [(s, a[rows], np.save) for _, s, a in arrays]
                + [(x_suffix, X[rows], save)]):
            buffer = io.BytesIO()
            write(buffer, value)
            data = buffer.getvalue()
            atomic_write(os.path.join(folder, name + suffix), data)
            digests[name + suffix] = _sha256(data)
        manifest["chunks"].append({"name": name, "X": name + x_suffix,
                                   "rows": int(X[rows].shape[0]),
                                   "sha256": digests})
        atomic_write(os.path.join(folder, MANIFEST),
                     json.dumps(manifest, indent=1).encode("utf-8"))
    return len(starts)


def _label_kind(y):
    """"text" or "number": the kind of ``y``'s labels (None: none, or not
    readable here: the block's own checks report it)."""
    try:
        y = np.asarray(y)
        labeled = y[~unlabeled_mask(y)]
    except (TypeError, ValueError):
        return None
    if labeled.size == 0:
        return None
    if labeled.dtype == object:
        kinds = {isinstance(v, str) for v in labeled.tolist()}
        return None if len(kinds) > 1 else (
            "text" if kinds == {True} else "number")
    return "text" if labeled.dtype.kind in "US" else "number"


def _chunk_items(chunks):
    """One pass over ``chunks``: a callable returning an iterator, or a
    re-iterable (list, :class:`NpzChunks`); items (X, y) or (X, y, w).
    Every chunk's labels must be of the first labeled chunk's kind."""
    source = chunks() if callable(chunks) else chunks
    it = iter(source)
    if it is source and not callable(chunks):
        raise TypeError(
            "chunks must be re-iterable (EM reads them once per iteration): "
            "pass a list, an NpzChunks, or a callable returning an iterator.")
    first = None
    files = getattr(chunks, "files", ())
    for k, item in enumerate(it):
        if not isinstance(item, (tuple, list)) or len(item) not in (2, 3):
            raise ValueError(f"chunk {k}: a chunk must be (X, y) or "
                             "(X, y, sample_weight).")
        kind = _label_kind(item[1])
        if kind is not None and first is None:
            first = (k, kind)
        elif kind is not None and kind != first[1]:
            name = f" ({files[k]})" if k < len(files) else ""
            raise TypeError(
                f"chunk {k}{name}: its labels are {kind}, those of chunk "
                f"{first[0]} are {first[1]}: use one kind of label in every "
                "chunk (-1 marks unlabeled rows in both).")
        yield k, item[0], item[1], item[2] if len(item) == 3 else None


def _in_chunk(k, func, *args, files=()):
    """``func(*args)``, its errors naming chunk ``k`` (and its file)."""
    try:
        return func(*args)
    except (ValueError, TypeError) as exc:
        name = f" ({files[k]})" if k < len(files) else ""
        raise type(exc)(f"chunk {k}{name}: {exc}") from None
