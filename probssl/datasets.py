"""Datasets for semi-supervised text classification experiments.

This module provides

* :func:`load_20newsgroups`, an offline loader for the 20 Newsgroups
  "bydate" archive that caches the parsed posts on disk;
* :func:`mask_labels`, which hides all but a few labels the way
  scikit-learn's semi-supervised estimators expect (``-1`` = unlabeled);
* :func:`make_multinomial_mixture`, a generator of synthetic bag-of-words
  data from a known mixture of multinomials;
* :func:`get_data_home`, the folder used for archives and caches.
"""

# SPDX-License-Identifier: BSD-3-Clause

import gzip
import hashlib
import io
import os
import pickle
import tarfile
import warnings
import zlib
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.utils import Bunch, check_random_state

from ._cache import CacheWarning, read_entry, write_entry

from ._waveform import make_waveform  # noqa: F401  (re-exported)

# sklearn.datasets is imported inside the functions that use it: importing
# it pulls in most of scikit-learn's text and preprocessing code, a cost
# users of mask_labels or make_multinomial_mixture should not pay.

__all__ = [
    "find_20newsgroups_archive",
    "get_data_home",
    "load_demo_sample",
    "load_20newsgroups",
    "load_20newsgroups_by_article",
    "make_multinomial_mixture",
    "make_waveform",
    "mask_labels",
]

ARCHIVE_NAME = "20news-bydate.tar.gz"
_SPLIT_FOLDERS = {"train": "20news-bydate-train", "test": "20news-bydate-test"}
_SUBSETS = ("train", "test", "all")
_REMOVE_OPTIONS = ("headers", "footers", "quotes")
# Bump whenever the layout of the pickled cache changes, so that caches
# written by an older version are rebuilt instead of misread.
_CACHE_VERSION = 1

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


# --------------------------------------------------------------------------
# Data home
# --------------------------------------------------------------------------


def _data_home_path(data_home=None):
    if data_home is None:
        data_home = os.environ.get("PROBSSL_HOME") or os.path.join(
            "~", ".cache", "probssl"
        )
    return os.path.abspath(os.path.expanduser(os.fspath(data_home)))


def get_data_home(data_home=None):
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
    path = _data_home_path(data_home)
    os.makedirs(path, exist_ok=True)
    return path


# --------------------------------------------------------------------------
# 20 Newsgroups
# --------------------------------------------------------------------------


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
    candidates.append(os.path.join(_data_home_path(data_home), ARCHIVE_NAME))
    for path in candidates:
        if os.path.isfile(path):
            return path, candidates
    return None, candidates


def find_20newsgroups_archive(archive=None, data_home=None):
    """Path of ``20news-bydate.tar.gz`` where :func:`load_20newsgroups`
    would read it (``archive``, ``$PROBSSL_DATA``, ``data_home``), or None.

    Never downloads. Raises ``FileNotFoundError`` if an explicit
    ``archive`` does not exist.
    """
    return _find_archive(archive, data_home)[0]


def load_demo_sample():
    """A small sample of real 20 Newsgroups posts shipped with probssl.

    60 training and 25 test posts per newsgroup (1,200 and 500), drawn
    once with a fixed seed from the bydate archive, headers removed, posts
    cut at 2,000 characters (``scripts/make_demo_sample.py``). For demos
    and tests on machines without the archive.

    Returns
    -------
    train, test : :class:`~sklearn.utils.Bunch`
        ``data``, ``target``, ``target_names``, ``filenames``.
    """
    import gzip
    import json

    path = os.path.join(os.path.dirname(__file__), "data",
                        "20news_sample.json.gz")
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


def _member_sort_key(filename):
    # Numeric ids sort numerically ("9" before "10"); any stray non-numeric
    # file names go after them, alphabetically, so the order stays total.
    group, post = filename.split("/")[-2:]
    if post.isdigit():
        return group, 0, int(post), ""
    return group, 1, 0, post


def _archive_problem(exc):
    """What is wrong with an archive, in words, from the reader's error."""
    text = str(exc)
    if isinstance(exc, EOFError):
        return ("it is truncated, or its gzip header is damaged (the "
                "compressed data ends too early)")
    if "CRC check failed" in text or "Incorrect length" in text:
        return ("its content does not match the gzip checksum (the file is "
                "damaged, e.g. a changed byte)")
    if "Not a gzipped file" in text:
        return ("it is not gzip-compressed, or bytes that are not gzip data "
                "follow its end")
    if isinstance(exc, zlib.error):
        return "its compressed data is damaged"
    if isinstance(exc, tarfile.TarError):
        return "the gzip data inside it is not a valid tar file"
    return "it is not a complete gzip-compressed tar file"


def _parse_archive(path):
    """Read every post of the archive into ``{split: (filenames, texts)}``.

    Raises ``ValueError`` naming the archive if it is damaged in any way
    (truncated, changed bytes, not a gzip-compressed tar file).
    """
    folder_to_split = {folder: split for split, folder in _SPLIT_FOLDERS.items()}
    parsed = {split: [] for split in _SPLIT_FOLDERS}
    try:
        # gzip.GzipFile under tarfile's stream mode: the gzip data is read
        # once, front to back (random access, "r:gz", would re-decompress
        # from the start on every backward seek), and GzipFile, unlike
        # tarfile's own gzip reader, checks the CRC-32 and length trailer.
        with open(path, "rb") as raw_file, gzip.GzipFile(
                fileobj=raw_file, mode="rb") as gz:
            with tarfile.open(fileobj=gz, mode="r|") as tar:
                for member in tar:
                    if not member.isfile():
                        continue
                    name = member.name
                    if name.startswith("./"):
                        name = name[2:]
                    parts = name.split("/")
                    if len(parts) != 3 or parts[0] not in folder_to_split:
                        continue
                    text = tar.extractfile(member).read().decode("latin-1")
                    parsed[folder_to_split[parts[0]]].append((name, text))
            # The tar reader stops at the end-of-archive blocks, before the
            # gzip trailer: only reading to the end checks the CRC (and
            # rejects bytes appended after the gzip stream).
            while gz.read(1 << 20):
                pass
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        if isinstance(exc, (FileNotFoundError, PermissionError)):
            raise
        problem = (_archive_problem(exc) if os.path.getsize(path)
                   else "it is empty (0 bytes)")
        raise ValueError(
            f"Cannot read the 20 Newsgroups archive {path!r}: {problem} "
            f"({type(exc).__name__}: {exc}). Nothing was cached; replace it "
            "with a good copy."
        ) from exc

    for split, folder in _SPLIT_FOLDERS.items():
        if not parsed[split]:
            raise ValueError(
                f"The archive {path!r} is not a 20 Newsgroups 'bydate' "
                f"archive: it has no '{folder}/<group>/<id>' members."
            )

    raw = {}
    for split, posts in parsed.items():
        posts.sort(key=lambda post: _member_sort_key(post[0]))
        raw[split] = ([name for name, _ in posts], [text for _, text in posts])
    return raw


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
    cache_path = _cache_path(_data_home_path(data_home), identity)
    raw = _read_cache(cache_path, identity)
    if raw is None:
        raw = _parse_archive(archive_path)
        _write_cache(cache_path, identity, raw)
    return raw


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


def _bunch_from_sklearn(bunch, remove):
    """Give the output of ``fetch_20newsgroups`` this module's conventions."""
    # scikit-learn returns absolute paths in its own cache; keep the
    # archive-relative tail so filenames look the same whatever the source.
    filenames = [
        "/".join(os.path.normpath(str(f)).split(os.sep)[-3:]) for f in bunch.filenames
    ]
    split_rank = {folder: i for i, folder in enumerate(_SPLIT_FOLDERS.values())}
    order = sorted(
        range(len(filenames)),
        key=lambda i: (
            split_rank.get(filenames[i].split("/")[0], 2),
            _member_sort_key(filenames[i]),
        ),
    )
    return Bunch(
        data=[bunch.data[i] for i in order],
        target=np.asarray(bunch.target, dtype=np.int64)[order],
        target_names=list(bunch.target_names),
        filenames=np.array([filenames[i] for i in order], dtype=str),
        DESCR=_DESCR.format(
            source="sklearn.datasets.fetch_20newsgroups",
            removed=", ".join(remove) or "none",
        ),
    )


def load_20newsgroups(
    subset="train", archive=None, data_home=None, remove=("headers",)
):
    """Load the 20 Newsgroups "bydate" corpus from a local archive.

    The archive ``20news-bydate.tar.gz`` (14 MB) is parsed once; the raw
    posts are then cached on disk under ``data_home`` so that later loads,
    in any process, skip the archive.

    The archive is looked for, in this order, at

    1. ``archive``, if given (and nowhere else);
    2. the environment variable ``PROBSSL_DATA``: the archive itself, or a
       folder holding ``20news-bydate.tar.gz``;
    3. ``<data_home>/20news-bydate.tar.gz``.

    If it is in none of these places, a warning is emitted and the loader
    falls back to :func:`sklearn.datasets.fetch_20newsgroups` (with the same
    ``data_home``), which may download the data.

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
        found nowhere and the scikit-learn fallback fails as well.

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

    warnings.warn(
        f"The 20 Newsgroups archive {ARCHIVE_NAME!r} was not found at any of "
        f"{tried}; falling back to sklearn.datasets.fetch_20newsgroups, which "
        "may download it. Set PROBSSL_DATA or pass archive= to load it offline.",
        stacklevel=2,
    )
    import sklearn.datasets

    try:
        bunch = sklearn.datasets.fetch_20newsgroups(
            subset=subset, remove=remove, data_home=data_home, shuffle=False
        )
    except Exception as exc:
        raise FileNotFoundError(
            f"The 20 Newsgroups archive {ARCHIVE_NAME!r} was not found. Paths "
            f"tried: {tried}. Point the environment variable PROBSSL_DATA or "
            "the archive= argument at the file (or at its folder). The "
            "fallback sklearn.datasets.fetch_20newsgroups failed too: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    return _bunch_from_sklearn(bunch, remove)


# --------------------------------------------------------------------------
# Label masking
# --------------------------------------------------------------------------


def _check_positive_int(value, name):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, Integral):
        raise TypeError(f"{name} must be an integer, got {value!r}.")
    if value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}.")
    return int(value)


def mask_labels(y, n_labeled, per_class=True, random_state=None):
    """Hide all but a few labels, marking the rest unlabeled (``-1``).

    This turns a fully labeled target into the input expected by
    scikit-learn's semi-supervised estimators, where ``-1`` means
    "unlabeled".

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Class labels. Entries equal to ``-1`` are treated as already
        unlabeled and are never kept.

    n_labeled : int
        With ``per_class=True``, the number of labels kept in each class;
        otherwise the total number of labels kept.

    per_class : bool, default=True
        Whether to keep ``n_labeled`` labels of every class (a balanced
        labeled set) or ``n_labeled`` labels drawn uniformly at random
        from all labeled rows.

    random_state : int, RandomState instance or None, default=None
        Controls which rows keep their label. Pass an int for reproducible
        output.

    Returns
    -------
    y_masked : ndarray of shape (n_samples,)
        A copy of ``y`` with every label but the kept ones set to ``-1``.
        Signed integer and floating dtypes are kept, unsigned integers
        become int64 and other labels (strings, ...) become ``object``.

    Raises
    ------
    ValueError
        If ``n_labeled`` is not positive, or asks for more labels than a
        class (``per_class=True``) or ``y`` (``per_class=False``) has.
    TypeError
        If ``n_labeled`` is not an integer.

    Examples
    --------
    >>> import numpy as np
    >>> from probssl.datasets import mask_labels
    >>> y = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2])
    >>> y_masked = mask_labels(y, n_labeled=1, random_state=0)
    >>> np.bincount(y_masked[y_masked != -1])
    array([1, 1, 1])
    >>> int((y_masked == -1).sum())
    6
    """
    n_labeled = _check_positive_int(n_labeled, "n_labeled")
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"y must be 1-dimensional, got shape {y.shape}.")
    rng = check_random_state(random_state)

    if y.dtype.kind in "if":
        if y.dtype.kind == "f" and not np.all(np.isfinite(y)):
            raise ValueError("y contains NaN or infinite labels.")
        y_out = y.copy()
    elif y.dtype.kind == "u":
        y_out = y.astype(np.int64)
    else:
        y_out = y.astype(object)

    labeled = np.flatnonzero(y_out != -1)
    if labeled.size == 0:
        raise ValueError("y has no labeled rows (every entry is -1).")

    if per_class:
        classes, codes, counts = np.unique(
            y_out[labeled], return_inverse=True, return_counts=True
        )
        short = counts < n_labeled
        if np.any(short):
            details = ", ".join(
                f"class {c!r} has {n}"
                for c, n in zip(classes[short].tolist(), counts[short].tolist())
            )
            raise ValueError(
                f"Cannot keep n_labeled={n_labeled} labels per class: "
                f"{details} labeled rows."
            )
        # Shuffle the labeled rows, group them by class (stable, so each
        # group stays shuffled) and keep the first n_labeled of each group:
        # O(n log n) whatever the number of classes.
        perm = rng.permutation(labeled.size)
        order = perm[np.argsort(codes[perm], kind="stable")]
        starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
        rank = np.arange(labeled.size) - np.repeat(starts, counts)
        keep = labeled[order[rank < n_labeled]]
    else:
        if n_labeled > labeled.size:
            raise ValueError(
                f"Cannot keep n_labeled={n_labeled} labels: y has only "
                f"{labeled.size} labeled rows."
            )
        keep = rng.choice(labeled, size=n_labeled, replace=False)

    hidden = np.ones(y_out.shape[0], dtype=bool)
    hidden[keep] = False
    y_out[hidden] = -1
    return y_out


# --------------------------------------------------------------------------
# Synthetic data
# --------------------------------------------------------------------------

# Upper bound on the words drawn at once; bounds the temporary arrays
# (about 40 bytes per word) whatever n_samples is.
_WORDS_PER_BLOCK = 1 << 22


def _draw_words(rng, prob, cdf, n_words):
    """Draw ``n_words`` i.i.d. word ids from the distribution ``prob``."""
    n_features = prob.shape[0]
    if n_words >= n_features // 4:
        # Exact and O(n_features + n_words): i.i.d. draws are distributed as
        # multinomial counts put in a uniformly random order. Several times
        # faster than a binary search per word once n_words is not small.
        counts = rng.multinomial(n_words, prob)
        words = np.repeat(np.arange(n_features, dtype=np.intp), counts)
        rng.shuffle(words)
        return words
    words = np.searchsorted(cdf, rng.random_sample(n_words), side="right")
    # cdf[-1] may round to just below 1.
    return np.minimum(words, n_features - 1)


def _check_positive_real(value, name):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a real number, got {value!r}.")
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive finite number, got {value!r}.")
    return float(value)


def make_multinomial_mixture(
    n_samples=1000,
    n_features=500,
    n_classes=5,
    n_components_per_class=1,
    doc_length=100,
    class_prior=None,
    concentration=0.1,
    random_state=None,
    return_params=False,
):
    """Generate bag-of-words documents from a mixture of multinomials.

    The generative model behind multinomial naive Bayes (with one component
    per class) and its mixture extensions:

    1. every component ``k`` has a word distribution ``theta_k`` drawn from
       a symmetric Dirichlet(``concentration``) over ``n_features`` words;
       component ``k`` belongs to class ``k // n_components_per_class``;
    2. every document draws a class ``c`` from ``class_prior``, then one of
       the class's components uniformly at random;
    3. its length ``L`` is Poisson(``doc_length``), at least 1;
    4. its word counts are Multinomial(``L``, ``theta_k``).

    Documents are generated in blocks, so memory stays proportional to the
    output even for millions of documents.

    Parameters
    ----------
    n_samples : int, default=1000
        Number of documents.

    n_features : int, default=500
        Vocabulary size.

    n_classes : int, default=5
        Number of classes.

    n_components_per_class : int, default=1
        Number of mixture components (word distributions) per class.

    doc_length : float, default=100
        Mean document length (Poisson rate).

    class_prior : array-like of shape (n_classes,), default=None
        Class probabilities, non-negative; normalised to sum to one.
        Uniform by default.

    concentration : float, default=0.1
        Parameter of the symmetric Dirichlet prior on word distributions;
        small values give sparse, well-separated components.

    random_state : int, RandomState instance or None, default=None
        Pass an int for reproducible output.

    return_params : bool, default=False
        Whether to also return the true parameters of the mixture.

    Returns
    -------
    X : scipy.sparse.csr_matrix of shape (n_samples, n_features)
        Word counts, as float64.

    y : ndarray of shape (n_samples,), dtype int64
        Class of each document, in ``0 .. n_classes - 1``.

    params : dict
        Only with ``return_params=True``. The true parameters, with
        ``n_components = n_classes * n_components_per_class``:

        class_prior : ndarray of shape (n_classes,)
        component_weights : ndarray of shape (n_components,)
            Mixing weight of every component (sums to one).
        feature_prob : ndarray of shape (n_components, n_features)
            Word distribution of every component; every entry is > 0.
        component_class : ndarray of shape (n_components,), dtype int64
            Class of every component.

    Examples
    --------
    >>> from probssl.datasets import make_multinomial_mixture
    >>> X, y, params = make_multinomial_mixture(
    ...     n_samples=200, n_features=50, n_classes=3, random_state=0,
    ...     return_params=True)
    >>> X.shape, y.shape
    ((200, 50), (200,))
    >>> sorted(params)
    ['class_prior', 'component_class', 'component_weights', 'feature_prob']
    >>> params["feature_prob"].shape
    (3, 50)
    """
    n_samples = _check_positive_int(n_samples, "n_samples")
    n_features = _check_positive_int(n_features, "n_features")
    n_classes = _check_positive_int(n_classes, "n_classes")
    n_per_class = _check_positive_int(n_components_per_class, "n_components_per_class")
    doc_length = _check_positive_real(doc_length, "doc_length")
    concentration = _check_positive_real(concentration, "concentration")
    if class_prior is None:
        class_prior = np.full(n_classes, 1.0 / n_classes)
    else:
        class_prior = np.asarray(class_prior, dtype=np.float64)
        if class_prior.shape != (n_classes,):
            raise ValueError(
                f"class_prior must have shape ({n_classes},), got "
                f"{class_prior.shape}."
            )
        if not np.all(np.isfinite(class_prior)) or np.any(class_prior < 0):
            raise ValueError("class_prior must be finite and non-negative.")
        if class_prior.sum() <= 0:
            raise ValueError("class_prior must have a positive sum.")
        class_prior = class_prior / class_prior.sum()
    rng = check_random_state(random_state)

    n_components = n_classes * n_per_class
    component_class = np.repeat(np.arange(n_classes, dtype=np.int64), n_per_class)
    component_weights = class_prior[component_class] / n_per_class
    # Small concentrations underflow to exact zeros; a floor keeps every
    # word possible, so log-probabilities of the true model stay finite.
    theta = rng.dirichlet(np.full(n_features, concentration), size=n_components)
    theta += 1e-12
    theta /= theta.sum(axis=1, keepdims=True)
    cdf = np.cumsum(theta, axis=1)

    y = rng.choice(n_classes, size=n_samples, p=class_prior).astype(np.int64)
    component = y * n_per_class + rng.randint(n_per_class, size=n_samples)
    lengths = np.maximum(rng.poisson(doc_length, size=n_samples), 1)

    # Documents are generated grouped by component, so that each component's
    # words are drawn in a few large vectorised calls, in blocks of about
    # _WORDS_PER_BLOCK words; the rows are put back in order at the end.
    order = np.argsort(component, kind="stable")
    sorted_lengths = lengths[order]
    sorted_component = component[order]
    word_starts = np.cumsum(sorted_lengths) - sorted_lengths
    block_starts = np.flatnonzero(np.diff(word_starts // _WORDS_PER_BLOCK)) + 1
    doc_bounds = np.concatenate(([0], block_starts, [n_samples]))

    blocks = []
    for b0, b1 in zip(doc_bounds[:-1], doc_bounds[1:]):
        block_lengths = sorted_lengths[b0:b1]
        block_component = sorted_component[b0:b1]
        word_bounds = np.concatenate(([0], np.cumsum(block_lengths)))
        piece_bounds = np.concatenate(
            ([0], np.flatnonzero(np.diff(block_component)) + 1, [b1 - b0])
        )
        cols = np.empty(word_bounds[-1], dtype=np.intp)
        for p0, p1 in zip(piece_bounds[:-1], piece_bounds[1:]):
            k = block_component[p0]
            lo, hi = word_bounds[p0], word_bounds[p1]
            cols[lo:hi] = _draw_words(rng, theta[k], cdf[k], hi - lo)
        rows = np.repeat(np.arange(b1 - b0), block_lengths)
        # Duplicate (row, word) pairs are summed into counts.
        block = sp.csr_matrix(
            (np.ones(rows.size), (rows, cols)), shape=(b1 - b0, n_features)
        )
        block.sum_duplicates()
        blocks.append(block)

    X = blocks[0] if len(blocks) == 1 else sp.vstack(blocks, format="csr")
    X = X[np.argsort(order)]
    if not return_params:
        return X, y
    params = {
        "class_prior": class_prior,
        "component_weights": component_weights,
        "feature_prob": theta,
        "component_class": component_class,
    }
    return X, y, params


# --------------------------------------------------------------------------
# 20 Newsgroups, split by article number (Nigam et al. 2000)
# --------------------------------------------------------------------------


def _article_number(filename):
    post = str(filename).split("/")[-1]
    return int(post) if post.isdigit() else -1


def load_20newsgroups_by_article(
    test_fraction=0.2, archive=None, data_home=None, remove=("headers",)
):
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
