"""Nigam et al. (2000), Fig. 2 protocol on 20 Newsgroups: NB vs EM.

Two recipes. ``--protocol paper`` (:mod:`.nigam2000_paper`) is the paper's
own, on all 18,846 posts. ``--protocol bydate`` (the default, declared
here) is a modern variant: accuracy against the number of labeled
documents, with 10,000 unlabeled documents, on the standard "bydate"
split:

* test set: the bydate test set (7,532 posts);
* labeled documents: drawn from the bydate training set, balanced over the
  20 classes (``n / 20`` per class);
* unlabeled documents: 10,000 drawn at random from the rest of the training
  set, their labels hidden;
* UseNet headers removed; scikit-learn's ``CountVectorizer`` with English
  stop words and words in at least 2 training documents (fitted on the
  training texts only, no labels involved);
* naive Bayes (scikit-learn's ``MultinomialNB``, labeled rows only) against
  :class:`probssl.EMNaiveBayes` (basic EM, lambda = 1), same ``alpha``.

``--dataset webkb`` and ``--dataset reuters`` are the paper's other
corpora (:mod:`.nigam2000_webkb`, :mod:`.nigam2000_reuters`).
"""

import numpy as np

from .engine import (Data, Dispatch, Method, Option, Protocol, data_option,
                     integer, labeled_option, methods_option, number,
                     published_values, seeds_option)

# Nigam et al. (2000), Figure 2: accuracy (%) with 10,000 unlabeled posts,
# read from the figure's vector data in the preprint (+/- 0.1 point; sizes
# 1300, 1700, 2400 and 4700 decoded from a log axis): ../shared/PAPERS.md.
PAPER_FIG2 = {n: tuple(v) for n, v in published_values(
    "nigam2000 Fig. 2 (NB, EM)", int).items()}


def columns(values, methods):
    """``{method: {x: fraction}}`` of published rows ``{x: [% per
    method]}`` (the engine's ``published``; a None method is skipped)."""
    return {m: {x: v[i] / 100 for x, v in values.items()}
            for i, m in enumerate(methods) if m}


PUBLISHED = columns(PAPER_FIG2, ("NB", "EM"))
# PAPERS.md §1, "our own reference": plain SciPy EM, mean of 4 draws.
REFERENCE = columns(published_values("nigam2000 SciPy reference (NB, EM)",
                                     int), ("NB", "EM"))
METHODS = ("NB", "EM", "Hybrid")


def counts(train, test, **params):
    """``CountVectorizer(**params)`` fitted on the ``train`` texts: the
    counts of ``train`` and of ``test``."""
    from sklearn.feature_extraction.text import CountVectorizer

    vec = CountVectorizer(**params)
    return vec.fit_transform(train), vec.transform(test)


def count_data(train, test):
    """Bydate counts: English stop words, words in >= 2 training posts."""
    X, X_test = counts(train.data, test.data, stop_words="english", min_df=2)
    return Data(X=X, y=np.asarray(train.target), X_test=X_test,
                y_test=np.asarray(test.target), info={"n_words": X.shape[1]})


def need_archive(s, required=True):
    """``s["data"]``: the archive found (``--data``, ``$PROBSSL_DATA``),
    else ``ValueError`` naming ``--data`` (None if not ``required``);
    checked before any work."""
    from probssl.datasets import find_20newsgroups_archive

    try:
        archive = find_20newsgroups_archive(s.get("data"))
    except FileNotFoundError as exc:
        raise ValueError(f"--data: {exc}") from None
    if archive is None and required:
        raise ValueError("--data: the 20 Newsgroups archive was not found: "
                         "pass --data PATH or set PROBSSL_DATA")
    s["data"] = archive
    return archive


def load_bydate(s):
    from probssl.datasets import load_20newsgroups

    return count_data(load_20newsgroups("train", archive=s["data"]),
                      load_20newsgroups("test", archive=s["data"]))


def split_bydate(data, draw, s):
    from probssl.datasets import labeled_unlabeled_split

    return labeled_unlabeled_split(data.y, draw["n_labeled"],
                                   s["n_unlabeled"], draw["seed"])


def _model(name, **params):
    """probssl's estimator ``name``, else scikit-learn's naive Bayes one
    (imported on use: ``probssl run --help`` loads neither)."""
    import probssl
    import sklearn.naive_bayes

    return getattr(probssl if hasattr(probssl, name)
                   else sklearn.naive_bayes, name)(**params)


def count_methods():
    """NB (labeled rows), EM and the hybrid (labeled + unlabeled), with
    ``alpha`` from the settings."""
    return {
        "NB": Method(lambda s: _model("MultinomialNB", alpha=s["alpha"]),
                     semi=False),
        "EM": Method(lambda s: _model("EMNaiveBayes", alpha=s["alpha"]),
                     extra={"unlabeled_weight": 1.0}),
        "Hybrid": Method(lambda s: _model("HybridClassifier",
                                          alpha=s["alpha"])),
    }


def check_bydate(s):
    need_archive(s)
    bad = [n for n in s["labeled"] if n % 20]
    if bad:
        raise ValueError(f"--labeled: {bad[0]} is not a multiple of the 20 "
                         "groups")
    if max(s["labeled"]) + s["n_unlabeled"] > 11_314:
        raise ValueError(f"--labeled {max(s['labeled'])} plus "
                         f"{s['n_unlabeled']:,} unlabeled exceeds the 11,314"
                         " training posts")


ABOUT = """Bydate test set (7,532 posts); labeled posts balanced over the 20
groups and 10,000 unlabeled ones drawn from the bydate training set; headers
removed; `CountVectorizer(stop_words="english", min_df=2)`; `alpha=0.01`
for every model; basic EM (λ = 1). Published: Nigam et al. (2000), Fig. 2,
read from the figure's vector data (`PAPERS.md`); their recipe differs
(`--protocol paper` below)."""


def bydate_protocol(name, title, methods, labeled, seeds, published=None,
                    label="", notes="", report=None, about=ABOUT,
                    references=()):
    """A protocol on the bydate split (nigam2000, fujino2005)."""
    return Protocol(
        name=name, title=title,
        options=(data_option(), labeled_option(labeled, 20),
                 seeds_option(seeds), methods_option(METHODS, methods),
                 Option("alpha", 0.01, number(0, None, open_low=True),
                        "smoothing of every count model"),
                 Option("n_unlabeled", 10_000, integer(0, 1_000_000),
                        "unlabeled posts per draw")),
        load=load_bydate, split=split_bydate, check=check_bydate,
        methods=count_methods(), published=published or {},
        published_label=label, notes=notes, report=report, about=about,
        references=references)


BYDATE = bydate_protocol(
    "nigam2000", "Nigam et al. (2000) on the bydate split: NB vs EM, "
    "10,000 unlabeled", ("NB", "EM"), (20, 100, 300, 1000), 5, PUBLISHED,
    "Nigam et al. 2000, Fig. 2 (the paper's own split and recipe: "
    "--protocol paper)", report={"labeled": "20,100,300,1000", "seeds": 3},
    references=(("SciPy reference", "accuracy", REFERENCE, "plain SciPy EM, "
                 "this recipe, mean of 4 draws (PAPERS.md §1)"),))

PROTOCOL = Dispatch(
    "nigam2000", "dataset", {
        "20news": Dispatch("nigam2000", "protocol", {
            "bydate": BYDATE,
            "paper": "probssl.experiments.nigam2000_paper:PROTOCOL"},
            "bydate", "bydate (modern variant) or paper (the paper's "
            "recipe: time split, Laplace, constant length, Figures 2-3, "
            "EM-λ, ablation)"),
        "webkb": "probssl.experiments.nigam2000_webkb:PROTOCOL",
        "reuters": "probssl.experiments.nigam2000_reuters:PROTOCOL"},
    "20news", "20news (default), webkb or reuters")
