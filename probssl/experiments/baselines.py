"""Drop-in baselines on the user's own corpus.

The corpus is read by :func:`probssl.datasets.load_corpus` (CSV, JSON
lines, Parquet, or class folders; empty label = unlabeled). The test rows
are the test file / split column's test rows, or a random stratified
``test_size`` fraction of the labeled rows. For each labeled budget and
seed, the labeled rows are drawn from the labeled training rows,
class-balanced where possible; every other training row (the corpus's
unlabeled rows included) is unlabeled.

Representations: ``counts`` (``CountVectorizer`` fitted on the training
texts: letter-and-digit tokens, English stop list, words in at least two
documents), ``embeddings`` (:class:`probssl.SentenceEmbedder`, frozen
sentence embeddings; needs the model on disk) or ``both`` (also
co-training and co-EM across the two views). Methods on each: ``NB``
(labeled rows only), ``EM``, ``EM-λ`` (λ by cross-validation on the
labeled rows), ``mixture of experts``, ``hybrid``, scikit-learn's
``self-training`` and ``label spreading``, ``logistic regression`` (the
last two on TF-IDF rows of the counts).
Rows: ``method``, ``representation``, ``n_labeled``, ``seed``,
``accuracy``, ``macro_f1``, ``fit_time_s``.

Run ``probssl run baselines --help``.
"""

# SPDX-License-Identifier: BSD-3-Clause

import time
import warnings

import numpy as np

from .engine import (Option, Protocol, batch_draw, choice, data_option,
                     existing_path, labeled_option, methods_option, number,
                     seeds_option)
from .nigam2000 import counts

LABELED = (20, 40, 100, 300)
LAMBDAS = (0.01, 0.1, 0.3, 1.0)


def test_rows(bunch, test_size=None, seed=0):
    """(train rows, test rows): the corpus's own test rows, else a
    stratified ``test_size`` fraction of its labeled rows."""
    from sklearn.model_selection import train_test_split

    is_test = bunch.split == "test"
    if is_test.any():
        if test_size is not None:
            raise ValueError("The corpus has its own test rows (test file or "
                             "split column); do not also give test_size.")
        test = np.flatnonzero(is_test & (bunch.target >= 0))
        if not len(test):
            raise ValueError("The corpus's test rows have no labels.")
        return np.flatnonzero(~is_test), test
    if test_size is None:
        raise ValueError("The corpus has no test rows: give a test file "
                         "(--test), a split column, or --test-size.")
    labeled = np.flatnonzero(bunch.target >= 0)
    _, test = train_test_split(labeled, test_size=test_size,
                                       stratify=bunch.target[labeled],
                                       random_state=seed)
    train = np.setdiff1d(np.arange(len(bunch.target)), test)
    return train, np.sort(test)


def draw_labeled(y_train, n_labeled, seed):
    """Indices (into the training rows) of ``n_labeled`` labeled rows,
    as even over the classes as their counts allow."""
    rng = np.random.RandomState(seed)
    pools = {c: list(rng.permutation(np.flatnonzero(y_train == c)))
             for c in np.unique(y_train[y_train >= 0])}
    available = sum(len(p) for p in pools.values())
    if n_labeled > available:
        raise ValueError(f"{n_labeled} labeled rows asked, the corpus has "
                         f"{available} labeled training rows.")
    chosen = []
    while len(chosen) < n_labeled:  # round robin: balanced where possible
        for c in list(pools):
            if pools[c] and len(chosen) < n_labeled:
                chosen.append(pools[c].pop())
    return np.sort(np.array(chosen, dtype=np.int64))


def featurize(texts, train, test, representation):
    """``{name: (X_train, X_test)}`` for ``counts`` / ``embeddings``."""
    views, train, test = {}, [texts[i] for i in train], [texts[i]
                                                         for i in test]
    if representation in ("counts", "both"):
        views["counts"] = counts(train, test, stop_words="english",
                                 min_df=2 if len(train) > 50 else 1)
    if representation in ("embeddings", "both"):
        from .. import SentenceEmbedder

        emb = SentenceEmbedder()
        views["embeddings"] = (emb.fit_transform(train), emb.transform(test))
    return views


def methods(representation, n_classes, seed):
    """``{name: (factory, semi)}``: ``semi`` models see the unlabeled rows
    (``representation="both"``: the two-view methods)."""
    from .. import CoEM, CoTraining

    if representation == "both":
        return {"co-training": (lambda: CoTraining(random_state=seed), True),
                "co-EM": (lambda: CoEM(random_state=seed), True)}
    from sklearn.feature_extraction.text import TfidfTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.naive_bayes import GaussianNB, MultinomialNB
    from sklearn.pipeline import make_pipeline
    from sklearn.semi_supervised import LabelSpreading, SelfTrainingClassifier

    from .. import EMNaiveBayes, HybridClassifier, MixtureOfExperts

    counts = representation == "counts"

    def unit(model):
        # Neighbours and linear models want unit-length TF-IDF rows, not
        # raw counts (label spreading on counts: 4 % on 20 Newsgroups).
        return make_pipeline(TfidfTransformer(), model) if counts else model
    # One smoothing for every count model, so NB and EM differ only in the
    # unlabeled rows (α = 1 over ~50,000 words drowns 40 labeled posts).
    alpha = dict(alpha=0.1) if counts else {}
    base = (lambda: MultinomialNB(**alpha)) if counts else GaussianNB
    return {
        "NB": (base, False),
        "EM": (lambda: EMNaiveBayes(**alpha, random_state=seed), True),
        "EM-λ": (lambda: _LambdaByCV(alpha, seed), True),
        "mixture of experts": (lambda: MixtureOfExperts(
            n_components=2 * n_classes, random_state=seed), True),
        "hybrid": (HybridClassifier, True),
        "self-training": (lambda: SelfTrainingClassifier(base()), True),
        "label spreading": (lambda: unit(LabelSpreading(kernel="knn",
                                                        n_neighbors=7)), True),
        "logistic regression": (lambda: unit(LogisticRegression(
            max_iter=1000)), False),
    }


class _LambdaByCV:
    """EM-λ with λ chosen by k-fold CV on the labeled rows (unlabeled rows
    always in training), then refitted; too few labels to choose: λ = 1."""

    def __init__(self, alpha, seed):
        self.alpha, self.seed = alpha, seed

    def fit(self, X, y):
        from .. import EMNaiveBayes
        from ..model_selection import select_em_params

        cv = min(5, int(np.sum(y >= 0)), int(np.bincount(y[y >= 0]).min()))
        est = EMNaiveBayes(**self.alpha, random_state=self.seed)
        if cv < 2:
            self.model_, self.lambda_ = est.fit(X, y), 1.0
            return self
        search = select_em_params(X, y, estimator=est, cv=cv,
                                  unlabeled_weight=LAMBDAS,
                                  random_state=self.seed)
        self.model_ = search.best_estimator_
        self.lambda_ = search.best_params_["unlabeled_weight"]
        return self

    def predict(self, X):
        return self.model_.predict(X)


def run_draw(views, y_train, y_test, n_labeled, seed, n_classes, only=None):
    """Rows of every method on one (budget, seed) draw."""
    from sklearn.metrics import f1_score

    lab = draw_labeled(y_train, n_labeled, seed)
    y = np.full(len(y_train), -1)
    y[lab] = y_train[lab]
    rows = []
    if len(views) == 2:  # co-training and co-EM on both views together
        views = {**views, "both": tuple(tuple(v[k] for v in views.values())
                                        for k in (0, 1))}
    for rep, (X, T) in views.items():
        for name, (make, semi) in methods(rep, n_classes, seed).items():
            if only and name not in only:
                continue
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = make().fit(X, y) if semi else make().fit(X[lab], y[lab])
            pred = model.predict(T)
            rows.append({
                "method": name, "representation": rep,
                "n_labeled": n_labeled, "seed": seed,
                "accuracy": float(np.mean(pred == y_test)),
                "macro_f1": float(f1_score(y_test, pred, average="macro")),
                "fit_time_s": time.perf_counter() - start,
                **({"lambda": model.lambda_} if hasattr(model, "lambda_")
                   else {})})
    return rows


METHODS = ("NB", "EM", "EM-λ", "mixture of experts", "hybrid",
           "self-training", "label spreading", "logistic regression",
           "co-training", "co-EM")


def _check(s):
    if s["data"] is None:
        raise ValueError("--data: give the corpus (CSV, JSON lines, Parquet "
                         "or a class folder)")
    if s["test"] is not None and s["test_size"] is not None:
        raise ValueError("--test-size: give --test or --test-size, not both")


def _load(s):
    from ..datasets import load_corpus

    bunch = load_corpus(s["data"], s["text_column"], s["label_column"],
                        s["split_column"], s["test"])
    train, test = test_rows(bunch, s["test_size"])
    return {"views": featurize(bunch.data, train, test, s["representation"]),
            "y_train": bunch.target[train], "y_test": bunch.target[test],
            "n_classes": len(bunch.target_names)}


def _keys(s):
    reps = (("counts", "embeddings") if s["representation"] == "both"
            else (s["representation"],))
    co = [m for m in s["methods"] if m.startswith("co-")]
    return ([{"representation": r, "method": m} for r in reps
             for m in s["methods"] if m not in co]
            + [{"representation": "both", "method": m} for m in co
               if len(reps) == 2])


def _optional(parse):
    return lambda text: None if str(text).lower() == "none" else parse(text)


PROTOCOL = Protocol(
    name="baselines",
    title="Drop-in baselines on your own corpus",
    options=(data_option("your corpus: CSV / JSON lines / Parquet file or a "
                         "folder of class sub-folders"),
             Option("test", None, _optional(existing_path),
                    "a separate test file or folder", metavar="PATH"),
             Option("test_size", None, number(0, 1, open_low=True),
                    "else: this fraction of the labeled rows is the test set"),
             Option("text_column", "text", str, "the text column"),
             Option("label_column", "label", str,
                    "the label column (empty = unlabeled)"),
             Option("split_column", None, str,
                    "a column of train / test values"),
             labeled_option(LABELED, help="labeled budgets"),
             seeds_option(3),
             methods_option(METHODS, help="methods (co-training and co-EM "
                            "need --representation both)"),
             Option("representation", "counts",
                    choice("counts", "embeddings", "both"),
                    "bag of words, sentence embeddings, or both (two views)")),
    load=_load, check=_check, run_draw=batch_draw(lambda d, draw, s: run_draw(
        d["views"], d["y_train"], d["y_test"], draw["n_labeled"],
        draw["seed"], d["n_classes"], s["methods"]), _keys),
    key=("method", "representation", "n_labeled", "seed"),
    group=("representation",), metrics=("accuracy", "macro_f1"))
