"""20 Newsgroups as word counts, by Nigam et al.'s (2000) recipe or the
modern one, each choice switchable (their ablation)."""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import functools
import os

import numpy as np
from sklearn.utils import Bunch

from .._typing import PathLike

_TOKEN_PATTERNS = {"letters": r"[A-Za-z]+", "sklearn": r"(?u)\b\w\w+\b"}


def read_stop_list(path: PathLike) -> list[str]:
    """The words of a stop-list file (whitespace-separated), lower-cased
    and sorted, duplicates removed.

    For Nigam et al.'s own list: Rainbow's built-in SMART list (524
    entries, ``stopwords.c`` of McCallum's libbow), which probssl does not
    ship.

    Parameters
    ----------
    path : str or path-like
        A UTF-8 text file.

    Returns
    -------
    words : list of str

    Examples
    --------
    >>> import tempfile, os
    >>> from probssl.datasets import read_stop_list
    >>> with tempfile.TemporaryDirectory() as d:
    ...     path = os.path.join(d, "stop.txt")
    ...     with open(path, "w") as f:
    ...         _ = f.write("The of\\nand the A")
    ...     read_stop_list(path)
    ['a', 'and', 'of', 'the']
    """
    with open(path, encoding="utf-8") as f:
        return sorted({w.lower() for w in f.read().split()})


def vectorize_20newsgroups(archive: PathLike | None = None, *,
                           split: str = "time", tokens: str = "letters",
                           stop_words: str | None = "english",
                           vocabulary: str = "count2",
                           length: float | None = None) -> Bunch:
    """20 Newsgroups word counts by Nigam et al.'s (2000) recipe, or with
    any of its choices switched to the modern one.

    Headers (the Subject line among them) are removed. The raw counts of
    one preprocessing are cached in the process (the length can change
    without recounting); do not modify the returned matrices.

    Parameters
    ----------
    archive : str or path-like, default=None
        The bydate archive, found as by :func:`load_20newsgroups`.
    split : {"time", "bydate"}, default="time"
        ``"time"``: the last 20 % of every group by article number is the
        test set (:func:`load_20newsgroups_by_article`, the paper's);
        ``"bydate"``: the bydate train / test folders.
    tokens : {"letters", "sklearn"}, default="letters"
        Runs of letters (the paper's) or scikit-learn's default tokens
        (two or more letters or digits); lower-cased, unstemmed.
    stop_words : "english", "none", None or path, default="english"
        scikit-learn's English list, no list, or a stop-list file
        (:func:`read_stop_list`).
    vocabulary : {"count2", "min_df2"}, default="count2"
        Words occurring more than once in all posts (the paper's; no label
        involved, so the test posts count), or words in at least two
        training posts.
    length : float, default=None
        Every document's counts scaled to this length
        (:func:`probssl.feature_selection.scale_to_length`; the paper's
        is 1,500); None keeps raw counts.

    Returns
    -------
    bunch : :class:`~sklearn.utils.Bunch`
        ``X`` (CSR, float64) and ``y`` of the posts labeled and unlabeled
        sets are drawn from, ``X_test`` and ``y_test``, and ``n_words``,
        ``mean_length`` (of the raw counts), ``n_rest``, ``n_test``.

    Examples
    --------
    The paper's features (needs the archive, see :func:`load_20newsgroups`):

    >>> from probssl.datasets import vectorize_20newsgroups
    >>> b = vectorize_20newsgroups(length=1500.0)  # doctest: +SKIP
    >>> b.X.shape[0], b.X_test.shape[0]  # doctest: +SKIP
    (15076, 3770)
    """
    from ..feature_selection import scale_to_length

    if stop_words is None:
        stop_words = "none"
    elif stop_words not in ("english", "none"):
        stop_words = os.fspath(stop_words)
    X, y, X_test, y_test, info = _counts(
        None if archive is None else os.fspath(archive), split, tokens,
        stop_words, vocabulary)
    return Bunch(X=scale_to_length(X, length), y=y,
                 X_test=scale_to_length(X_test, length), y_test=y_test,
                 **info)


@functools.lru_cache(maxsize=3)
def _counts(archive, split, tokens, stop_words, vocabulary):
    from sklearn.feature_extraction.text import (ENGLISH_STOP_WORDS,
                                                 CountVectorizer)

    from ._newsgroups import load_20newsgroups, load_20newsgroups_by_article

    if split == "time":
        rest, test = load_20newsgroups_by_article(archive=archive)
    elif split == "bydate":
        rest = load_20newsgroups("train", archive=archive)
        test = load_20newsgroups("test", archive=archive)
    else:
        raise ValueError(f"split must be 'time' or 'bydate', got {split!r}.")
    if tokens not in _TOKEN_PATTERNS:
        raise ValueError(f"tokens must be 'letters' or 'sklearn', got "
                         f"{tokens!r}.")
    stop = (sorted(ENGLISH_STOP_WORDS) if stop_words == "english" else
            None if stop_words == "none" else read_stop_list(stop_words))
    pattern = _TOKEN_PATTERNS[tokens]
    if vocabulary == "count2":
        counter = CountVectorizer(token_pattern=pattern, stop_words=stop)
        counts = counter.fit_transform(list(rest.data) + list(test.data))
        keep = np.asarray(counts.sum(axis=0)).ravel() >= 2
        words = np.asarray(counter.get_feature_names_out())[keep]
        vectorizer = CountVectorizer(token_pattern=pattern, stop_words=stop,
                                     vocabulary=words)
        vectorizer.fit(rest.data[:1])
    elif vocabulary == "min_df2":
        vectorizer = CountVectorizer(token_pattern=pattern, stop_words=stop,
                                     min_df=2).fit(rest.data)
    else:
        raise ValueError(f"vocabulary must be 'count2' or 'min_df2', got "
                         f"{vocabulary!r}.")
    X = vectorizer.transform(rest.data).astype(np.float64)
    X_test = vectorizer.transform(test.data).astype(np.float64)
    info = {"n_words": int(X.shape[1]),
            "mean_length": float(X.sum() / X.shape[0]),
            "n_rest": int(X.shape[0]), "n_test": int(X_test.shape[0])}
    return X, rest.target, X_test, test.target, info
