"""Atomic, checksummed files on disk: the caches and the result files.

Two layers:

* :func:`atomic_write` writes bytes to a temporary file in the target's own
  folder, flushes it to disk (``fsync``) and renames it over the target
  (``os.replace``), so a reader, or a process killed mid-write, only ever
  sees the old file or the complete new one;
* :func:`write_entry` / :func:`read_entry` store a payload followed by a
  short trailer with a format version, a *kind*, the caller's metadata
  (what the entry was made from) and the SHA-256 and length of the payload.
  On read every one of them is checked: a damaged, truncated or foreign
  entry is reported with a :class:`CacheWarning` naming the file and
  treated as absent, so the caller rebuilds it; it is never returned.
  The trailer comes *after* the payload so that the file stays readable by
  the payload's own reader (``np.load`` for a ``.npy`` payload,
  ``pickle.load`` for a pickle): both stop at the end of their data.

Layout: ``payload + MAGIC + header JSON + b"\\n" + b"%016x\\n" % n``, where
``n`` is the length of ``MAGIC + header JSON + b"\\n"``.

The 20 Newsgroups post cache (:mod:`probssl.datasets`) and the embedding
cache (:mod:`probssl.embeddings`) use the second layer; the result files of
``probssl run`` (:mod:`probssl.experiments._report`) the first. Both caches
default to folders under :func:`data_home_path`.
"""

# SPDX-License-Identifier: BSD-3-Clause

import hashlib
import json
import os
import tempfile
import time
import warnings

__all__ = ["CacheWarning", "atomic_write", "read_entry", "write_entry",
           "file_sha256", "hash_file", "remove_orphans", "data_home_path"]

MAGIC = b"\nPROBSSL-CACHE\n"
_FOOTER = 17  # 16 hex digits and a newline: the trailer's length
# Bump when the header layout changes; entries of another format are
# rebuilt, never parsed.
FORMAT_VERSION = 1


class CacheWarning(UserWarning, RuntimeWarning):
    """A cache entry was damaged, foreign or could not be written.

    A :class:`UserWarning` (it is about the user's files) and, for code
    written against earlier versions, a :class:`RuntimeWarning`.
    """


def atomic_write(path, data, mode=0o644):
    """Write ``data`` to ``path`` atomically.

    Parameters
    ----------
    path : str
        The target file; its folder must exist.
    data : bytes or callable
        The whole new content, or ``data(file)`` writing it to the open
        binary file (e.g. ``lambda f: np.save(f, a)``).
    mode : int, default=0o644
        Permission bits of the new file (``mkstemp`` would leave 0600).

    Raises
    ------
    OSError
        If the folder is not writable or the disk is full; the target is
        then left as it was and no temporary file remains.
    """
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-",
                               suffix="-" + os.path.basename(path))
    try:
        with os.fdopen(fd, "wb") as f:
            data(f) if callable(data) else f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
        tmp = None
    finally:
        if tmp is not None:
            try:
                os.remove(tmp)
            except OSError:
                pass
    try:
        # The rename itself is durable only once the folder is synced.
        dfd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)


def data_home_path(data_home=None):
    """Absolute path of the probssl data folder, not created.

    ``data_home`` if given, else ``$PROBSSL_HOME``, else
    ``~/.cache/probssl``; a leading ``~`` is expanded. The folder of the
    dataset archives and caches and of the embedding cache;
    :func:`probssl.datasets.get_data_home` also creates it.
    """
    if data_home is None:
        data_home = os.environ.get("PROBSSL_HOME") or os.path.join(
            "~", ".cache", "probssl"
        )
    return os.path.abspath(os.path.expanduser(os.fspath(data_home)))


# A temporary file older than this was left by a process killed while it
# wrote (writes take well under a second), not by one still writing.
ORPHAN_AGE_S = 60


def remove_orphans(folder, names):
    """Delete ``atomic_write``'s temporary files for the targets ``names``
    in ``folder`` that a killed writer left behind (older than
    :data:`ORPHAN_AGE_S`)."""
    now = time.time()
    try:
        entries = os.listdir(folder)
    except OSError:
        return
    suffixes = tuple("-" + os.path.basename(n) for n in names)
    for entry in entries:
        if entry.startswith(".tmp-") and entry.endswith(suffixes):
            path = os.path.join(folder, entry)
            try:
                if now - os.stat(path).st_mtime > ORPHAN_AGE_S:
                    os.remove(path)
            except OSError:
                pass


def _canonical(obj):
    # JSON round trip: tuples become lists, keys strings, as they come back
    # from the file, so that stored and expected metadata compare equal.
    return json.loads(json.dumps(obj, sort_keys=True))


def write_entry(path, payload, kind, meta=None, stacklevel=2):
    """Store ``payload`` at ``path`` with its checksum; warn on failure.

    Parameters
    ----------
    path : str
        The cache file. Its folder is created if needed.
    payload : bytes
        What to store.
    kind : str
        What the entry is (``"20news-posts"``, ``"embeddings"``); an entry
        of another kind is never accepted by :func:`read_entry`.
    meta : dict, default=None
        JSON-serializable description of what the payload was made from;
        :func:`read_entry` accepts the entry only for the same ``meta``.
    stacklevel : int, default=2
        Passed to :func:`warnings.warn`, counted from the caller.

    Returns
    -------
    written : bool
        False if the folder or file could not be written; a
        :class:`CacheWarning` naming the folder has then been emitted and
        nothing (no temporary file either) is left behind.
    """
    header = {"format": FORMAT_VERSION, "kind": kind,
              "meta": _canonical(meta or {}),
              "sha256": hashlib.sha256(payload).hexdigest(),
              "size": len(payload)}
    trailer = MAGIC + json.dumps(header, sort_keys=True).encode() + b"\n"
    trailer += b"%016x\n" % len(trailer)
    folder = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(folder, exist_ok=True)
        remove_orphans(folder, [path])
        atomic_write(path, payload + trailer)
    except OSError as exc:
        warnings.warn(
            f"Could not write the {kind} cache file {path} into the cache "
            f"folder {folder} ({exc.strerror or exc}); the result is "
            "returned but will be computed again next time.",
            CacheWarning, stacklevel=stacklevel + 1)
        return False
    return True


def _check_entry(blob, kind, meta):
    """``(payload, None)`` if ``blob`` is a good entry, else ``(None, why)``."""
    footer = blob[-_FOOTER:]
    try:
        if len(blob) < _FOOTER or footer[-1:] != b"\n":
            raise ValueError
        n = int(footer[:-1].decode("ascii"), 16)
    except ValueError:
        return None, ("no checksum trailer (truncated, or not written by "
                      "this version of probssl)")
    start = len(blob) - _FOOTER - n
    if start < 0 or not blob[start:].startswith(MAGIC):
        return None, "damaged checksum trailer (truncated or changed)"
    try:
        header = json.loads(blob[start + len(MAGIC):-_FOOTER].decode())
        fmt, got_kind = header["format"], header["kind"]
        digest, size, got_meta = header["sha256"], header["size"], header["meta"]
    except (ValueError, UnicodeDecodeError, KeyError, TypeError) as exc:
        return None, f"damaged checksum trailer ({type(exc).__name__})"
    if fmt != FORMAT_VERSION:
        return None, f"cache format {fmt!r}, this probssl writes {FORMAT_VERSION}"
    if got_kind != kind:
        return None, f"a {got_kind!r} entry, expected {kind!r}"
    if got_meta != _canonical(meta or {}):
        return None, "made from other data or settings than its name says"
    payload = blob[:start]
    if len(payload) != size:
        return None, f"truncated: {len(payload)} of {size} payload bytes"
    if hashlib.sha256(payload).hexdigest() != digest:
        return None, "checksum mismatch (the file was changed or damaged)"
    return payload, None


def read_entry(path, kind, meta=None, stacklevel=2):
    """The payload stored at ``path`` by :func:`write_entry`, or None.

    Parameters
    ----------
    path : str
        The cache file.
    kind, meta
        As given to :func:`write_entry`: an entry of another kind, or made
        for other metadata, is foreign.
    stacklevel : int, default=2
        Passed to :func:`warnings.warn`, counted from the caller.

    Returns
    -------
    payload : bytes or None
        None if there is no such file, or if it is unreadable, truncated,
        changed (checksum), of another format version or foreign; in the
        last cases a :class:`CacheWarning` naming the file and the problem
        is emitted, so that the caller rebuilds the entry.
    """
    try:
        with open(path, "rb") as f:
            blob = f.read()
    except (FileNotFoundError, NotADirectoryError):
        return None  # no entry (yet): nothing to report
    except OSError as exc:
        why = f"unreadable ({exc.strerror or exc})"
        payload = None
    else:
        payload, why = _check_entry(blob, kind, meta)
    if payload is None:
        warnings.warn(
            f"Ignoring the unreadable cache file {path}: damaged {kind} "
            f"cache ({why}); it is rebuilt.",
            CacheWarning, stacklevel=stacklevel + 1)
    return payload


_FILE_DIGESTS = {}


def hash_file(path, h):
    """Feed the content of the file ``path`` to the hash object ``h`` (the
    one file reader of every digest here); returns ``h``."""
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h


def file_sha256(path):
    """SHA-256 (hex) of a file's content, memoized per process.

    The memo is keyed by the path, size and modification time, so a changed
    file is hashed again.
    """
    st = os.stat(path)
    key = (os.path.abspath(path), st.st_size, st.st_mtime_ns)
    digest = _FILE_DIGESTS.get(key)
    if digest is None:
        digest = _FILE_DIGESTS[key] = hash_file(path,
                                                hashlib.sha256()).hexdigest()
    return digest
