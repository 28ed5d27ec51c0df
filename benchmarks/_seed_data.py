"""The seed split's embedding rows for the thread benchmarks.

The issue's figures use the 8,846 training rows (1,200 labeled, 7,646
unlabeled) of the seed protocol's first draw on all-MiniLM-L6-v2
embeddings of the 18,846 20 Newsgroups posts. Where no cached embeddings
exist, a stand-in of the same shape: TF-IDF + ``TruncatedSVD(384)`` of the
same posts, rows scaled to unit norm as MiniLM's are, saved to ``cache``
so that later runs skip the SVD. The caller says which it got.
"""

import os

import numpy as np


def standin_embeddings(archive, cache):
    """(X, y) of all 18,846 posts: TF-IDF + TruncatedSVD(384), unit rows."""
    if cache and os.path.exists(cache):
        with np.load(cache) as f:
            return f["X"], f["y"]
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer

    from probssl.datasets import load_20newsgroups

    corpus = load_20newsgroups("all", archive=archive)
    T = TfidfVectorizer(stop_words="english", min_df=2,
                        sublinear_tf=True).fit_transform(corpus.data)
    X = TruncatedSVD(384, random_state=0).fit_transform(T)
    X /= np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-12)
    X, y = X.astype(np.float32), np.asarray(corpus.target)
    if cache:
        tmp = cache + ".tmp.npz"
        np.savez(tmp, X=X, y=y)
        os.replace(tmp, cache)  # atomically: a killed run leaves no half file
    return X, y


def seed_rows(archive=None, embeddings=None, labels=None, cache=None):
    """The seed split's training rows (draw 0): ``(X, y_masked, source)``,
    ``y_masked`` -1 on the 7,646 unlabeled rows."""
    from probssl.experiments.seed import split

    if embeddings:
        X, y = np.load(embeddings), np.load(labels)
        source = f"embeddings {embeddings}"
    else:
        X, y = standin_embeddings(archive, cache)
        source = ("stand-in: TF-IDF + TruncatedSVD(384) of the 20 Newsgroups "
                  "posts, unit rows (no cached MiniLM embeddings)")
    _, labeled, unlabeled = split(X.shape[0], 0)
    rows = np.sort(np.concatenate([labeled, unlabeled]))
    y_masked = np.full(rows.size, -1)
    y_masked[np.isin(rows, labeled)] = y[rows[np.isin(rows, labeled)]]
    return np.asarray(X[rows], dtype=np.float64), y_masked, source


def seed_split(archive, embeddings=None, labels=None, cache=None, seed=0):
    """Draw ``seed`` of ``probssl run seed`` as its protocol builds it: the
    training rows labeled first (1,200), then unlabeled (7,646); counts from
    ``CountVectorizer(stop_words="english", min_df=2)`` fitted on them, the
    embeddings of the same rows (MiniLM from ``embeddings``/``labels``
    .npy files of all 18,846 posts, else the stand-in); the 10,000 test
    posts of both. Returns ``(dict of arrays, source of the embeddings)``:
    ``counts``, ``counts_test``, ``emb``, ``emb_test``, ``y`` (-1 on
    unlabeled rows), ``y_test``."""
    from sklearn.feature_extraction.text import CountVectorizer

    from probssl.datasets import load_20newsgroups
    from probssl.experiments.seed import split

    corpus = load_20newsgroups("all", archive=archive)
    if embeddings:
        E, y_all = np.load(embeddings), np.load(labels)
        source = f"MiniLM embeddings {embeddings}"
    else:
        E, y_all = standin_embeddings(archive, cache)
        source = ("stand-in: TF-IDF + TruncatedSVD(384) of the 20 Newsgroups "
                  "posts, unit rows (no MiniLM embeddings given)")
    if not np.array_equal(y_all, corpus.target):
        raise ValueError("the embeddings' labels are not the corpus's: "
                         "another order of the posts?")
    test, lab, unl = split(len(corpus.target), seed)
    train = np.concatenate([lab, unl])
    vec = CountVectorizer(stop_words="english", min_df=2)
    data = {
        "counts": vec.fit_transform([corpus.data[i] for i in train]),
        "counts_test": vec.transform([corpus.data[i] for i in test]),
        "emb": np.asarray(E[train], dtype=np.float64),
        "emb_test": np.asarray(E[test], dtype=np.float64),
        "y": np.concatenate([corpus.target[lab], np.full(unl.size, -1)]),
        "y_test": corpus.target[test],
    }
    return data, source
