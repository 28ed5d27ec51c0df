"""WebKB (CMU 4 universities, raw pages) and Blum & Mitchell's co-training
pages (two views of the course / non-course pages)."""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import numpy as np
from sklearn.utils import Bunch

from .._typing import PathLike
from ._corpus_files import (
    PUBLISHED_SHA256,
    cached_parse,
    find_archive,
    html_to_text,
    iter_tar,
    strip_http_header,
    verify_sha256,
)

WEBKB_ARCHIVE = "webkb-4universities-raw.tar.gz"
COTRAIN_ARCHIVE = "course-cotrain-data.tar.gz"
_ALL_CLASSES = ("course", "department", "faculty", "other", "project",
                "staff", "student")
# Nigam et al. (2000, §6.3) after Craven et al. (1998): 4,199 pages.
FOUR_CLASSES = ("course", "faculty", "project", "student")
_PUBLISHED = object()


def _expected(sha256, filename):
    return PUBLISHED_SHA256[filename] if sha256 is _PUBLISHED else sha256


def _decode(raw):
    # 1997 web pages carry no reliable charset; latin-1 maps every byte.
    return raw.decode("latin-1")


def _parse_webkb(path):
    pages = []
    for name, raw in iter_tar(path, "WebKB"):
        parts = name.split("/")
        if len(parts) != 4 or parts[0] != "webkb" or parts[1] not in _ALL_CLASSES:
            continue
        html = strip_http_header(_decode(raw))
        pages.append((parts[1], parts[2], parts[3], html_to_text(html)))
    if not pages:
        raise ValueError(f"The archive {path!r} is not the WebKB archive: it "
                         "has no 'webkb/<class>/<university>/<page>' members.")
    pages.sort()
    return pages


def load_webkb(
    archive: PathLike | None = None,
    classes: str = "four",
    data_home: PathLike | None = None,
    sha256: str | None = _PUBLISHED,  # type: ignore[assignment]
) -> Bunch:
    """Load WebKB's "4 universities" pages (CMU, 1997) from the raw archive.

    Each page's HTTP header is dropped and its HTML reduced to the visible
    text with :class:`html.parser.HTMLParser`; the parsed pages are cached
    on disk under ``data_home`` (keyed by the archive's SHA-256).

    Parameters
    ----------
    archive : str or path-like, default=None
        ``webkb-4universities-raw.tar.gz`` or a folder holding it. By
        default ``$PROBSSL_DATA`` (the file, or a folder holding it) and
        then ``data_home`` are searched. Nothing is downloaded.
    classes : {"four", "all"}, default="four"
        ``"four"``: student, faculty, course, project (4,199 pages, Nigam
        et al. 2000, §6.3); ``"all"``: the seven classes (8,282 pages).
    data_home : str or path-like, default=None
        Folder of the parse cache (:func:`get_data_home`).
    sha256 : str or None, default=the published digest
        Expected SHA-256 of the archive; None skips the check.

    Returns
    -------
    bunch : :class:`~sklearn.utils.Bunch`
        ``data`` (page texts), ``target``, ``target_names``,
        ``university`` (``cornell``, ``misc``, ``texas``, ``washington``,
        ``wisconsin`` per page: the groups of leave-one-university-out),
        ``filenames`` (``<class>/<university>/<page>``). Pages are sorted
        by class, university and file name.

    Examples
    --------
    Leave-one-university-out groups for
    :class:`sklearn.model_selection.LeaveOneGroupOut` (needs the archive):

    >>> from probssl.datasets import load_webkb
    >>> pages = load_webkb()  # doctest: +SKIP
    >>> len(pages.data), pages.target_names  # doctest: +SKIP
    (4199, ['course', 'faculty', 'project', 'student'])
    >>> groups = pages.university  # doctest: +SKIP
    """
    if classes not in ("four", "all"):
        raise ValueError(f"classes must be 'four' or 'all', got {classes!r}.")
    path = find_archive(archive, WEBKB_ARCHIVE, "WebKB", data_home)
    digest = verify_sha256(path, _expected(sha256, WEBKB_ARCHIVE), "WebKB")
    pages = cached_parse("webkb", digest, data_home, lambda: _parse_webkb(path))
    keep = FOUR_CLASSES if classes == "four" else _ALL_CLASSES
    pages = [p for p in pages if p[0] in keep]
    names = sorted({p[0] for p in pages})
    index = {c: i for i, c in enumerate(names)}
    return Bunch(
        data=[p[3] for p in pages],
        target=np.array([index[p[0]] for p in pages], dtype=np.int64),
        target_names=names,
        university=np.array([p[1] for p in pages]),
        filenames=np.array(["/".join(p[:3]) for p in pages]),
        DESCR=("WebKB 4 universities (CMU World Wide Knowledge Base project, "
               f"1997), {len(pages)} pages, classes {names}; source {path}."),
    )


def _parse_cotrain(path):
    views = {"fulltext": {}, "inlinks": {}}
    for name, raw in iter_tar(path, "co-training pages"):
        parts = name.split("/")
        if (len(parts) != 4 or parts[1] not in views
                or parts[2] not in ("course", "non-course")):
            continue
        text = _decode(raw)
        if parts[1] == "fulltext":
            text = html_to_text(strip_http_header(text))
        views[parts[1]][(parts[2], parts[3])] = text
    pages, links = views["fulltext"], views["inlinks"]
    if not pages:
        raise ValueError(
            f"The archive {path!r} is not the co-training archive: it has no "
            "'course-cotrain-data/fulltext/<class>/<page>' members.")
    missing = sorted(set(pages) ^ set(links))
    if missing:
        cls, page = missing[0]
        raise ValueError(
            f"The co-training archive {path!r} is not aligned: the page "
            f"{cls}/{page} is in only one of fulltext/ and inlinks/ "
            f"({len(missing)} such pages).")
    keys = sorted(pages)
    return [(c, p, pages[(c, p)], links[(c, p)]) for c, p in keys]


def load_cotrain_pages(
    archive: PathLike | None = None,
    data_home: PathLike | None = None,
    sha256: str | None = _PUBLISHED,  # type: ignore[assignment]
) -> Bunch:
    """Load Blum & Mitchell's (1998) course / non-course pages in two views.

    Parameters
    ----------
    archive : str or path-like, default=None
        ``course-cotrain-data.tar.gz`` (the original CMU archive) or a folder
        holding it; by default ``$PROBSSL_DATA`` then ``data_home``.
    data_home : str or path-like, default=None
        Folder of the parse cache.
    sha256 : str or None, default=the published digest
        Expected SHA-256 of the archive; None skips the check.

    Returns
    -------
    bunch : :class:`~sklearn.utils.Bunch`
        ``data`` (view 1: the page's visible text, HTML stripped by
        :class:`html.parser.HTMLParser`), ``links`` (view 2: the anchor
        text of the links pointing to the page), ``views`` (the pair
        ``(data, links)``), ``target`` (1 = course), ``target_names``
        (``['non-course', 'course']``), ``filenames``. 230 course and 821
        non-course pages, aligned by file name.

    Examples
    --------
    The two views, ready for :class:`~probssl.CoTraining` once vectorized
    (needs the archive):

    >>> from probssl.datasets import load_cotrain_pages
    >>> pages = load_cotrain_pages()  # doctest: +SKIP
    >>> len(pages.data), len(pages.links), int(pages.target.sum())  # doctest: +SKIP
    (1051, 1051, 230)
    """
    path = find_archive(archive, COTRAIN_ARCHIVE, "co-training pages", data_home)
    digest = verify_sha256(path, _expected(sha256, COTRAIN_ARCHIVE),
                           "co-training pages")
    rows = cached_parse("cotrain", digest, data_home, lambda: _parse_cotrain(path))
    data = [r[2] for r in rows]
    links = [r[3] for r in rows]
    return Bunch(
        data=data, links=links, views=(data, links),
        target=np.array([int(r[0] == "course") for r in rows], dtype=np.int64),
        target_names=["non-course", "course"],
        filenames=np.array([f"{r[0]}/{r[1]}" for r in rows]),
        DESCR=("Blum & Mitchell (1998) course / non-course pages (WebKB), "
               f"{len(rows)} pages in two views; source {path}."),
    )
