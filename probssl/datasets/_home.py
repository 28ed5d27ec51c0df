"""The probssl data folder, and where the 20 Newsgroups archive is looked
for."""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import os

from .._cache import data_home_path
from .._typing import PathLike

ARCHIVE_NAME = "20news-bydate.tar.gz"


def get_data_home(data_home: PathLike | None = None) -> str:
    """Return the path of the probssl data folder, creating it if needed.

    The folder holds dataset archives (for instance ``20news-bydate.tar.gz``)
    and the caches built from them.

    Parameters
    ----------
    data_home : str or path-like, default=None
        The folder to use. By default it is the value of the environment
        variable ``PROBSSL_HOME`` or, if that is unset, ``~/.cache/probssl``.
        A leading ``~`` is expanded to the user's home folder.

    Returns
    -------
    data_home : str
        Absolute path of the data folder.

    Examples
    --------
    >>> import os, tempfile
    >>> from probssl.datasets import get_data_home
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = get_data_home(tmp)
    ...     path == os.path.abspath(tmp)
    True
    """
    path = data_home_path(data_home)
    os.makedirs(path, exist_ok=True)
    return path


def _archive_in(path):
    """``path`` itself if it is a file, else the archive inside the folder."""
    return os.path.join(path, ARCHIVE_NAME) if os.path.isdir(path) else path


def _find_archive(archive, data_home):
    """Locate the archive; return ``(path or None, list of paths tried)``."""
    if archive is not None:
        path = os.path.abspath(os.path.expanduser(os.fspath(archive)))
        path = _archive_in(path)
        if not os.path.isfile(path):
            raise FileNotFoundError(
                f"20 Newsgroups archive not found at {path!r} (given as "
                f"archive={os.fspath(archive)!r})."
            )
        return path, [path]

    candidates = []
    env = os.environ.get("PROBSSL_DATA")
    if env:
        candidates.append(_archive_in(os.path.abspath(os.path.expanduser(env))))
    candidates.append(os.path.join(data_home_path(data_home), ARCHIVE_NAME))
    for path in candidates:
        if os.path.isfile(path):
            return path, candidates
    return None, candidates


def find_20newsgroups_archive(archive: PathLike | None = None,
                              data_home: PathLike | None = None) -> str | None:
    """Path of ``20news-bydate.tar.gz`` where :func:`load_20newsgroups`
    would read it, or None. Never downloads.

    Parameters
    ----------
    archive : str or path-like, default=None
        The archive, or a folder holding it. When None, the archive is
        looked for at ``$PROBSSL_DATA`` (the file or a folder holding it),
        then in ``data_home``.
    data_home : str or path-like, default=None
        The probssl data folder (:func:`get_data_home`).

    Returns
    -------
    str or None
        The archive's absolute path; None if it is in none of the places
        searched.

    Raises
    ------
    FileNotFoundError
        If an explicit ``archive`` does not exist.

    Examples
    --------
    >>> import os, tempfile
    >>> from probssl.datasets import find_20newsgroups_archive
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     archive = os.path.join(folder, "20news-bydate.tar.gz")
    ...     open(archive, "wb").close()
    ...     find_20newsgroups_archive(archive=folder) == archive
    True
    """
    return _find_archive(archive, data_home)[0]
