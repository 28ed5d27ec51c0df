"""The 20 Newsgroups loaders: the bydate splits, the split by article
number (Nigam et al. 2000) and the demo sample shipped with probssl."""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import os
from collections.abc import Sequence
from numbers import Real

import numpy as np
from sklearn.utils import Bunch

from ._home import ARCHIVE_NAME, _find_archive
from ._post_cache import _load_raw

# sklearn.datasets is imported inside the functions that use it: importing
# it pulls in most of scikit-learn's text and preprocessing code, a cost
# users of mask_labels or make_multinomial_mixture should not pay.

_SUBSETS = ("train", "test", "all")
_REMOVE_OPTIONS = ("headers", "footers", "quotes")

_DESCR = """\
20 Newsgroups ("bydate" version)
--------------------------------

18,846 Usenet posts from 20 newsgroups, split by date into a training
set (11,314 posts) and a test set (7,532 posts).  Duplicates and most
cross-posts have been removed from this version of the corpus.

Source archive: {source}

Order: posts are sorted by (newsgroup, numeric post id) within the training
set and within the test set; ``subset="all"`` is train followed by test.
The loader never shuffles; draw random labeled subsets with
:func:`probssl.datasets.mask_labels` or your own random generator.

Texts are decoded as latin-1, as in :func:`sklearn.datasets.fetch_20newsgroups`.
Removed parts: {removed}.

Reference: K. Lang, "NewsWeeder: Learning to Filter Netnews", ICML 1995.
Homepage: http://qwone.com/~jason/20Newsgroups/
"""


def _check_remove(remove):
    if remove is None:
        return ()
    if isinstance(remove, str):
        remove = (remove,)
    try:
        remove = tuple(remove)
    except TypeError:
        raise TypeError(
            "remove must be a str or a sequence of str among "
            f"{_REMOVE_OPTIONS}, got {remove!r}."
        ) from None
    unknown = [r for r in remove if r not in _REMOVE_OPTIONS]
    if unknown:
        raise ValueError(
            f"remove may only contain {_REMOVE_OPTIONS}; got unknown "
            f"entries {unknown!r}."
        )
    return remove


def load_demo_sample() -> tuple[Bunch, Bunch]:
    """A small sample of real 20 Newsgroups posts shipped with probssl.

    60 training and 25 test posts per newsgroup (1,200 and 500), drawn
    once with a fixed seed from the bydate archive, headers removed, posts
    cut at 2,000 characters (``scripts/make_demo_sample.py``). For demos
    and tests on machines without the archive.

    Returns
    -------
    train, test : :class:`~sklearn.utils.Bunch`
        ``data``, ``target``, ``target_names``, ``filenames``.

    Examples
    --------
    >>> from probssl.datasets import load_demo_sample
    >>> train, test = load_demo_sample()
    >>> len(train.data), len(test.data), len(train.target_names)
    (1200, 500, 20)
    >>> train.target_names[:2]
    ['alt.atheism', 'comp.graphics']
    """
    import gzip
    import json

    path = os.path.join(os.path.dirname(os.path.dirname(__file__)),
                        "data", "20news_sample.json.gz")
    with gzip.open(path, "rt", encoding="utf-8") as f:
        sample = json.load(f)
    names = sample["target_names"]
    return tuple(
        Bunch(data=sample[s]["data"],
              target=np.asarray(sample[s]["target"], dtype=np.int64),
              target_names=list(names),
              filenames=np.asarray(sample[s]["filenames"]),
              DESCR="20 Newsgroups demo sample shipped with probssl")
        for s in ("train", "test")
    )


def _strip(texts, remove):
    from sklearn.datasets._twenty_newsgroups import (
        strip_newsgroup_footer,
        strip_newsgroup_header,
        strip_newsgroup_quoting,
    )

    # Same order as sklearn.datasets.fetch_20newsgroups, so that results match.
    if "headers" in remove:
        texts = [strip_newsgroup_header(text) for text in texts]
    if "footers" in remove:
        texts = [strip_newsgroup_footer(text) for text in texts]
    if "quotes" in remove:
        texts = [strip_newsgroup_quoting(text) for text in texts]
    return texts


def _bunch_from_raw(raw, subset, remove, source):
    splits = ("train", "test") if subset == "all" else (subset,)
    filenames = [name for split in splits for name in raw[split][0]]
    texts = [text for split in splits for text in raw[split][1]]
    groups = [name.split("/")[1] for name in filenames]
    # Groups of both splits, so that labels agree between train and test.
    target_names = sorted({name.split("/")[1] for s in raw for name in raw[s][0]})
    index = {name: i for i, name in enumerate(target_names)}
    return Bunch(
        data=_strip(texts, remove),
        target=np.array([index[g] for g in groups], dtype=np.int64),
        target_names=target_names,
        filenames=np.array(filenames, dtype=str),
        DESCR=_DESCR.format(source=source, removed=", ".join(remove) or "none"),
    )


def load_20newsgroups(
    subset: str = "train",
    archive: str | os.PathLike[str] | None = None,
    data_home: str | os.PathLike[str] | None = None,
    remove: str | Sequence[str] | None = ("headers",),
) -> Bunch:
    """Load the 20 Newsgroups "bydate" corpus from a local archive.

    The archive ``20news-bydate.tar.gz`` (14 MB) is parsed once; the raw
    posts are then cached on disk under ``data_home`` so that later loads,
    in any process, skip the archive.

    The archive is looked for, in this order, at

    1. ``archive``, if given (and nowhere else);
    2. the environment variable ``PROBSSL_DATA``: the archive itself, or a
       folder holding ``20news-bydate.tar.gz``;
    3. ``<data_home>/20news-bydate.tar.gz``.

    If it is in none of these places, ``FileNotFoundError`` lists the
    paths tried. Nothing is ever downloaded.

    Parameters
    ----------
    subset : {"train", "test", "all"}, default="train"
        Which split to load. ``"all"`` is the training set followed by the
        test set.

    archive : str or path-like, default=None
        Path of ``20news-bydate.tar.gz``, or of a folder that holds it.
        When given, no other location is tried.

    data_home : str or path-like, default=None
        Folder for the on-disk cache, also searched for the archive. See
        :func:`get_data_home` for the default.

    remove : str, tuple of str or None, default=("headers",)
        Parts of each post to strip, any of ``"headers"``, ``"footers"``
        and ``"quotes"``, using scikit-learn's heuristics
        (:func:`sklearn.datasets.fetch_20newsgroups` has the details).
        Use ``()`` or None to keep posts whole.

    Returns
    -------
    bunch : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the attributes

        data : list of str
            The posts, decoded as latin-1.
        target : ndarray of shape (n_samples,), dtype int64
            Index of each post's newsgroup in ``target_names``.
        target_names : list of str
            The 20 newsgroup names, sorted (the order scikit-learn uses).
        filenames : ndarray of shape (n_samples,), dtype str
            Archive member names, such as
            ``"20news-bydate-train/alt.atheism/49960"``.
        DESCR : str
            Description of the dataset.

    Raises
    ------
    ValueError
        If ``subset`` or ``remove`` is invalid, or the archive is corrupt.
    FileNotFoundError
        If ``archive`` is given but does not exist, or if the archive is
        found nowhere; the message names the paths tried.

    Notes
    -----
    Posts are returned in a fixed order, sorted by (newsgroup, numeric post
    id) within each split, and are never shuffled. For random labeled
    subsets use :func:`mask_labels` (or your own random generator).

    The cache file is named after the archive's absolute path, size and
    modification time, so a changed archive is parsed afresh. It is written
    atomically and carries the SHA-256 of its content and the identity of
    its archive (:mod:`probssl._cache`): a changed byte, a truncated file or
    an entry of another archive is reported with a warning naming the file
    and rebuilt, never returned. If the cache cannot be written, the data
    is still returned, with a warning naming the folder.

    The archive is checked as it is read (gzip CRC-32 and length, tar
    structure, nothing after the end): a damaged archive raises
    ``ValueError`` naming the file and the problem, and nothing is cached.

    Examples
    --------
    >>> from probssl.datasets import load_20newsgroups
    >>> train = load_20newsgroups("train")  # doctest: +SKIP
    >>> len(train.data), len(train.target_names)  # doctest: +SKIP
    (11314, 20)
    >>> train.filenames[0]  # doctest: +SKIP
    np.str_('20news-bydate-train/alt.atheism/49960')
    """
    if subset not in _SUBSETS:
        raise ValueError(f"subset must be one of {_SUBSETS}, got {subset!r}.")
    remove = _check_remove(remove)

    archive_path, tried = _find_archive(archive, data_home)
    if archive_path is not None:
        raw = _load_raw(archive_path, data_home)
        return _bunch_from_raw(raw, subset, remove, source=archive_path)

    # No fallback to sklearn.datasets.fetch_20newsgroups: it downloads, and
    # probssl promises to run offline.
    raise FileNotFoundError(
        f"The 20 Newsgroups archive {ARCHIVE_NAME!r} was not found; paths "
        f"tried: {tried}. probssl never downloads it: put the file at one of "
        "these paths (the last is the data folder, $PROBSSL_HOME or "
        "~/.cache/probssl by default), or point the environment variable "
        "PROBSSL_DATA or the archive= argument at the file or its folder. "
        "The archive is the 'bydate' version from "
        "http://qwone.com/~jason/20Newsgroups/ (14 MB)."
    )


# --------------------------------------------------------------------------
# 20 Newsgroups, split by article number (Nigam et al. 2000)
# --------------------------------------------------------------------------


def _article_number(filename):
    post = str(filename).split("/")[-1]
    return int(post) if post.isdigit() else -1


def load_20newsgroups_by_article(
    test_fraction: float = 0.2,
    archive: str | os.PathLike[str] | None = None,
    data_home: str | os.PathLike[str] | None = None,
    remove: str | Sequence[str] | None = ("headers",),
) -> tuple[Bunch, Bunch]:
    """All 20 Newsgroups posts, split in time by article number per group.

    The test set of Nigam et al. (2000): in every newsgroup, the last
    ``test_fraction`` of its posts by posting date. The bydate archive has
    no Date headers, but within a group the article number (the file
    name) grows with time, so posts are ordered by it; the bydate
    train/test folders are pooled first (all 18,846 posts).

    Parameters
    ----------
    test_fraction : float, default=0.2
        Fraction of every group's posts (rounded to the nearest post) put
        in the test set, the highest article numbers.
    archive, data_home, remove
        As in :func:`load_20newsgroups`.

    Returns
    -------
    rest, test : :class:`~sklearn.utils.Bunch`
        ``data``, ``target``, ``target_names``, ``filenames`` and
        ``article`` (the article number, int64), each sorted by
        (group, article number). ``rest`` holds the earlier posts, from
        which unlabeled and labeled sets are drawn.

    Notes
    -----
    Article numbers are a proxy for the date: a few posts were numbered out
    of order (e.g. some ``rec.motorcycles`` training posts carry numbers
    beyond the bydate test range), and this split follows the numbers.
    Ties (none in the bydate archive) keep the loader's order.

    Examples
    --------
    Nigam et al.'s split (needs the archive, see :func:`load_20newsgroups`):

    >>> from probssl.datasets import load_20newsgroups_by_article
    >>> rest, test = load_20newsgroups_by_article()  # doctest: +SKIP
    >>> len(rest.data), len(test.data)  # doctest: +SKIP
    (15076, 3770)
    """
    if not (isinstance(test_fraction, Real) and 0 < test_fraction < 1):
        raise ValueError(
            f"test_fraction must be a number in (0, 1), got {test_fraction!r}."
        )
    everything = load_20newsgroups(
        "all", archive=archive, data_home=data_home, remove=remove
    )
    article = np.array([_article_number(f) for f in everything.filenames],
                       dtype=np.int64)
    target = everything.target
    # (group, article) order: the loader sorts within each bydate folder,
    # so train and test posts of a group must be merged again.
    order = np.lexsort((article, target))
    is_test = np.zeros(target.size, dtype=bool)
    for c in np.unique(target):
        rows = order[target[order] == c]
        n_test = int(round(test_fraction * rows.size))
        is_test[rows[rows.size - n_test:]] = True

    def subset(mask):
        idx = order[mask[order]]
        return Bunch(
            data=[everything.data[i] for i in idx],
            target=target[idx],
            target_names=list(everything.target_names),
            filenames=everything.filenames[idx],
            article=article[idx],
            DESCR=everything.DESCR + (
                "\nSplit by article number within each group: the last "
                f"{test_fraction:.0%} of every group is the test set "
                "(Nigam et al. 2000).\n"),
        )

    return subset(~is_test), subset(is_test)
