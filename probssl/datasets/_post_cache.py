"""The on-disk cache of parsed 20 Newsgroups posts: one checksummed
:mod:`probssl._cache` entry per archive."""

# SPDX-License-Identifier: BSD-3-Clause

import hashlib
import io
import os
import pickle
import warnings

from .._cache import CacheWarning, data_home_path, read_entry, write_entry
from ._archive import _SPLIT_FOLDERS, _parse_archive

# Bump whenever the layout of the pickled cache changes, so that caches
# written by an older version are rebuilt instead of misread.
_CACHE_VERSION = 1


def _archive_identity(path):
    stat = os.stat(path)
    return {"path": path, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def _cache_path(cache_dir, identity):
    key = repr(sorted(identity.items())).encode("utf-8")
    digest = hashlib.sha256(key).hexdigest()[:16]
    return os.path.join(cache_dir, f"20news-bydate-{digest}.pkl")


_CACHE_KIND = "20 Newsgroups"


def _cache_meta(identity):
    return {"version": _CACHE_VERSION, "archive": identity}


def _read_cache(cache_path, identity):
    """Return the cached raw posts, or None if absent, stale or damaged.

    The entry is checksummed (:mod:`probssl._cache`): a changed byte, a
    truncated file or an entry made for another archive is reported with a
    warning naming the file and rebuilt, never returned.
    """
    payload = read_entry(cache_path, _CACHE_KIND, _cache_meta(identity),
                         stacklevel=4)
    if payload is None:
        return None
    try:
        # Only a payload whose SHA-256 matched reaches pickle.
        raw = pickle.loads(payload)
        for split in _SPLIT_FOLDERS:
            filenames, texts = raw[split]
            if len(filenames) != len(texts):
                raise ValueError("filenames and texts differ in length")
        return raw
    except Exception as exc:  # a good checksum over a bad payload
        warnings.warn(
            f"Ignoring the unreadable cache file {cache_path} "
            f"({type(exc).__name__}: {exc}); it is rebuilt.",
            CacheWarning, stacklevel=4)
        return None


def _write_cache(cache_path, identity, raw):
    """Write the cache atomically; warn and carry on if that is impossible.

    An unwritable cache folder never costs the data: the posts are returned
    and the warning names the folder (the archive is parsed again next
    time).
    """
    try:
        os.makedirs(os.path.dirname(cache_path), exist_ok=True)
        buf = io.BytesIO()
        pickle.dump(raw, buf, protocol=pickle.HIGHEST_PROTOCOL)
    except OSError as exc:
        warnings.warn(
            f"Could not write the 20 Newsgroups cache to {cache_path!r} "
            f"({exc}); the archive will be parsed again on the next load.",
            CacheWarning, stacklevel=4)
        return
    write_entry(cache_path, buf.getvalue(), _CACHE_KIND,
                _cache_meta(identity), stacklevel=4)


def _load_raw(archive_path, data_home):
    identity = _archive_identity(archive_path)
    cache_path = _cache_path(data_home_path(data_home), identity)
    raw = _read_cache(cache_path, identity)
    if raw is None:
        raw = _parse_archive(archive_path)
        _write_cache(cache_path, identity, raw)
    return raw
