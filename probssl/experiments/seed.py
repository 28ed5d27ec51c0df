"""The seed's protocol on 20 Newsgroups: counts and sentence embeddings.

All 18,846 posts (headers removed). For every random draw (seed): 10,000
posts are the test set, 1,200 of the others are labeled, the remaining
7,646 are unlabeled. Two representations of the same posts:

* **counts**: ``CountVectorizer(stop_words="english", min_df=2)`` fitted on
  the non-test texts; multinomial naive Bayes (labeled rows only) and
  :class:`probssl.EMNaiveBayes` with lambda in {0.01, 0.1, 1};
* **embeddings**: frozen all-MiniLM-L6-v2 sentence embeddings
  (:class:`probssl.SentenceEmbedder`, cached on disk); logistic regression
  and Gaussian naive Bayes on the labeled rows, and Gaussian
  ``EMNaiveBayes`` with lambda in {0.01, 0.1, 1};
* on each: scikit-learn's ``SelfTrainingClassifier`` around the supervised
  model, :class:`probssl.HybridClassifier`, and
  :class:`probssl.MixtureOfExperts` with J = 20 and 40 components, started
  from the labels or from k-means, EM-I and EM-II;
* on both together (two views, counts and embeddings):
  :class:`probssl.CoTraining` and :class:`probssl.CoEM`, against the plain
  and the tempered product of the two supervised views.

Run ``python -m probssl.experiments.seed --help``.
"""

import argparse
import os
import time
import warnings

import numpy as np

from ._report import (ResultStore, check_out_folder, finish_main,
                      mean_std_table, protocol_settings, pyplot, run_tasks,
                      save_figure, write_report)

N_TEST = 10_000
N_LABELED = 1_200
LAMBDAS = (0.01, 0.1, 1.0)
TWO_VIEWS = "counts+embeddings"
MIXTURES = ((20, "labeled", "em1"), (40, "labeled", "em1"),
            (20, "kmeans", "em1"), (40, "kmeans", "em1"),
            (40, "kmeans", "em2"))
PUBLISHED = {
    # ../shared/PAPERS.md section 5, one draw (seed 0), for comparison.
    ("counts", "MultinomialNB"): "72.2",
    ("counts", "EMNaiveBayes λ=1"): "75.3",
    ("embeddings", "LogisticRegression"): "71.5",
    ("embeddings", "EMNaiveBayes λ=1"): "65.5",
}


def split(n, seed, n_test=N_TEST, n_labeled=N_LABELED):
    """(test, labeled, unlabeled) row indices for one random draw."""
    rng = np.random.RandomState(seed)
    perm = rng.permutation(n)
    return (np.sort(perm[:n_test]), np.sort(perm[n_test:n_test + n_labeled]),
            np.sort(perm[n_test + n_labeled:]))


def _methods(representation, alpha, reg_covar):
    from sklearn.linear_model import LogisticRegression
    from sklearn.naive_bayes import GaussianNB, MultinomialNB

    from sklearn.semi_supervised import SelfTrainingClassifier

    from probssl import (CoEM, CoTraining, EMNaiveBayes, HybridClassifier,
                         MixtureOfExperts)

    if representation == TWO_VIEWS:
        # View 1 counts (multinomial NB), view 2 embeddings (logistic
        # regression). With 1,200 labels the paper's settings (1 + 3 rows
        # per round from a pool of 75, for 12 labels) barely move the
        # labeled set: 5 rows per class and round from a pool of 500.
        views = (MultinomialNB(alpha=alpha), LogisticRegression(max_iter=1000))
        cot = {"n_per_class": 5, "pool_size": 500, "random_state": 0}
        yield "NB × LR product", CoTraining(*views, max_iter=0), True
        yield ("NB × LR tempered product",
               CoTraining(*views, max_iter=0, view_weights="auto"), True)
        yield "CoTraining", CoTraining(*views, **cot), True
        yield ("CoTraining tempered",
               CoTraining(*views, view_weights="auto", **cot), True)
        yield ("CoEM tempered",
               CoEM(MultinomialNB(alpha=alpha),
                    LogisticRegression(max_iter=300), max_iter=3,
                    view_weights="auto", random_state=0), True)
        # Issue 17: the best embedding family that is cheap enough to refit
        # every round (one shared full covariance, shrunk) as the view.
        views = (MultinomialNB(alpha=alpha), _tied_gaussian(reg_covar, 0.0))
        yield ("NB × tied-Gaussian tempered product",
               CoTraining(*views, max_iter=0, view_weights="auto"), True)
        yield ("CoTraining tempered (NB, tied Gaussian)",
               CoTraining(*views, view_weights="auto", **cot), True)
        return
    if representation == "counts":
        yield "MultinomialNB", MultinomialNB(alpha=alpha), False
        event = {"alpha": alpha}
        for lam in LAMBDAS:
            yield (f"EMNaiveBayes λ={lam:g}",
                   EMNaiveBayes(alpha=alpha, unlabeled_weight=lam), True)
    else:
        yield "LogisticRegression", LogisticRegression(max_iter=2000), False
        yield "GaussianNB", GaussianNB(), False
        event = {"event_model": "gaussian", "reg_covar": reg_covar}
        for lam in LAMBDAS:
            yield (f"EMNaiveBayes λ={lam:g}",
                   EMNaiveBayes(unlabeled_weight=lam, **event), True)
    base = (MultinomialNB(alpha=alpha) if representation == "counts"
            else LogisticRegression(max_iter=2000))
    yield (f"SelfTraining({type(base).__name__})",
           SelfTrainingClassifier(base), True)
    yield "HybridClassifier", HybridClassifier(**event), True
    if representation == "embeddings":
        yield from _embedding_families(reg_covar)
    # Miller & Uyar: J components with class tables; "labeled" starts
    # component l on class l mod 20, "kmeans" on clusters of all rows.
    for J, init, algorithm in MIXTURES:
        yield (f"MixtureOfExperts J={J} {init} {algorithm}",
               MixtureOfExperts(n_components=J, init=init,
                                algorithm=algorithm, random_state=0,
                                **event), True)


SHRINK_TIED, SHRINK_FULL = 0.3, 0.5
LAMBDA_GRID = (0.0, 0.01, 0.1, 1.0)


def _tied_gaussian(reg_covar, lam):
    from probssl import EMNaiveBayes

    return EMNaiveBayes(event_model="gaussian", covariance_type="tied",
                        shrinkage=SHRINK_TIED, reg_covar=reg_covar,
                        unlabeled_weight=lam)


def _embedding_families(reg_covar):
    """Issue 17's rows: LDA on the labeled rows; EM with one shared full
    covariance, with full covariances and with von Mises–Fisher components,
    lambda chosen on the labeled rows (3-fold, unlabeled rows always in
    training) where a fit is cheap enough to repeat."""
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
    from sklearn.model_selection import GridSearchCV

    from probssl import EMNaiveBayes
    from probssl.model_selection import LabeledStratifiedKFold

    def by_cv(model):
        return GridSearchCV(model, {"unlabeled_weight": list(LAMBDA_GRID)},
                            cv=LabeledStratifiedKFold(3))

    yield ("LDA lsqr shrinkage=auto",
           LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto"), False)
    yield (f"EM tied shrinkage={SHRINK_TIED:g} λ by CV",
           by_cv(_tied_gaussian(reg_covar, 1.0)), True)
    yield ("EM vMF λ by CV", by_cv(EMNaiveBayes(event_model="vmf")), True)
    # 7 s an iteration here (K = 20 covariances of 384 x 384): no search;
    # lambda = 0.1 fixed, 10 iterations.
    yield (f"EM full shrinkage={SHRINK_FULL:g} λ=0.1",
           EMNaiveBayes(event_model="gaussian", covariance_type="full",
                        shrinkage=SHRINK_FULL, reg_covar=reg_covar,
                        unlabeled_weight=0.1, max_iter=10), True)


KEY = ("representation", "method", "seed")


def method_names(representations=("counts", "embeddings")):
    """Names of the protocol's methods on ``representations`` (with the
    two-view ones when both are given), in the order they run."""
    blocks = list(representations)
    if len(blocks) == 2:
        blocks.append(TWO_VIEWS)
    names = [name for rep in blocks
             for name, _, _ in _methods(rep, 0.01, 1e-4)]
    return list(dict.fromkeys(names))


def _store_settings(archive, corpus, representation, alpha, reg_covar,
                    n_test, n_labeled, embedder):
    """Settings of the rows of one representation (what made them)."""
    settings = {"alpha": alpha, "reg_covar": reg_covar, "n_test": n_test,
                "n_labeled": n_labeled}
    if representation != "counts":
        # Rows on embeddings depend on the model's weights as well.
        settings["embedder"] = embedder
    # The archive's SHA-256; the posts' own when they came from elsewhere
    # (scikit-learn's fallback).
    return protocol_settings("seed", archive=archive,
                             corpus=None if archive else (corpus,),
                             **settings)


def _embedder_identity():
    from probssl.embeddings import (SentenceEmbedder, model_fingerprint,
                                    resolve_model)

    e = SentenceEmbedder()
    return {"model_sha256": model_fingerprint(resolve_model(e.model)),
            "max_seq_length": e.max_seq_length, "normalize": e.normalize}


def run(archive=None, representations=("counts", "embeddings"), seeds=3,
        alpha=0.01, reg_covar=1e-4, out=None, verbose=True, jobs=1,
        n_test=N_TEST, n_labeled=N_LABELED, methods=None):
    """Run the protocol; return the result rows.

    Parameters
    ----------
    archive : str, default=None
        The 20 Newsgroups archive (default: ``$PROBSSL_DATA``).
    representations : tuple of str, default=("counts", "embeddings")
        ``"counts"`` and/or ``"embeddings"``; both add the two-view rows.
    seeds : int, default=3
        Random draws 0, ..., seeds - 1.
    alpha, reg_covar : float
        Smoothing of the count models, variance floor of the Gaussian ones.
    out : str, default=None
        Results folder. Every row is written to ``out/results.json`` and
        ``out/results.csv`` as soon as it is finished
        (:class:`~probssl.experiments._report.ResultStore`), so an
        interrupted run loses at most the rows being computed; a re-run
        reuses the rows made from the same archive (SHA-256) and settings.
    verbose : bool, default=True
        Print a line per row.
    jobs : int, default=1
        Draws run in parallel processes.
    n_test, n_labeled : int
        Test and labeled posts per draw (the protocol: 10,000 and 1,200;
        smaller values make a quick run on a small corpus).
    methods : sequence of str, default=None
        Names of the methods to run (see :func:`method_names`); None runs
        them all.

    Returns
    -------
    rows : list of dict
        The rows of this run (reused or new), by seed then representation.
    """
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.metrics import accuracy_score, f1_score

    from probssl.datasets import find_20newsgroups_archive, load_20newsgroups

    if out is not None:
        check_out_folder(out)
    if methods is not None:
        known = set(method_names(representations))
        unknown = sorted(set(methods) - known)
        if unknown:
            raise ValueError(f"unknown method(s) {unknown} for the seed "
                             f"protocol; choose from {sorted(known)}")
    corpus = load_20newsgroups("all", archive=archive)
    y_all = corpus.target
    if n_test + n_labeled >= len(y_all):
        raise ValueError(
            f"n_test={n_test} plus n_labeled={n_labeled} leaves no unlabeled "
            f"posts among the {len(y_all)} of the corpus")
    features = {}
    embedder = None
    if "embeddings" in representations:
        from probssl.embeddings import SentenceEmbedder

        start = time.perf_counter()
        features["embeddings"] = SentenceEmbedder().transform(corpus.data)
        embedder = _embedder_identity()
        if verbose:
            print(f"embeddings {features['embeddings'].shape} in "
                  f"{time.perf_counter() - start:.1f} s", flush=True)
    blocks = list(representations)
    if len(blocks) == 2:
        blocks.append(TWO_VIEWS)
    # One store per representation, all in the same files: the counts
    # rows do not depend on the embedding model, so a counts-only run
    # reuses those of a run on both.
    source = find_20newsgroups_archive(archive)
    stores = {rep: ResultStore(out, _store_settings(
        source, corpus, rep, alpha, reg_covar, n_test, n_labeled, embedder),
        key=KEY) for rep in blocks}
    names = {rep: [name for name in method_names((rep,))
                   if methods is None or name in methods] for rep in blocks}

    def draw(seed):
        out_rows = {}
        for rep in blocks:
            for name in names[rep]:
                row = stores[rep].get({"representation": rep,
                                       "method": name, "seed": seed})
                if row is not None:
                    out_rows[rep, name] = row
        if len(out_rows) == sum(map(len, names.values())):
            return list(out_rows.values())  # all finished: no features
        test, lab, unl = split(len(y_all), seed, n_test, n_labeled)
        mats = {}
        for rep in representations:
            if rep == "counts":
                vec = CountVectorizer(stop_words="english", min_df=2)
                texts = [corpus.data[i] for i in np.concatenate([lab, unl])]
                mats[rep] = (vec.fit_transform(texts),
                             vec.transform([corpus.data[i] for i in test]))
            else:
                E = features["embeddings"]
                mats[rep] = (E[np.concatenate([lab, unl])], E[test])
        if len(mats) == 2:
            from probssl import MultiView

            mats[TWO_VIEWS] = tuple(
                MultiView(mats["counts"][k], mats["embeddings"][k])
                for k in (0, 1))
        rows = []
        for rep in blocks:
            X_fit, X_test = mats[rep]
            y_ssl = np.concatenate([y_all[lab], np.full(unl.size, -1)])
            for name, model, semi in _methods(rep, alpha, reg_covar):
                if name not in names[rep]:
                    continue
                if (rep, name) in out_rows:
                    rows.append(out_rows[rep, name])
                    continue
                X_m = X_fit if semi else X_fit[: lab.size]
                y_m = y_ssl if semi else y_all[lab]
                start = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    model.fit(X_m, y_m)
                fit_time = time.perf_counter() - start
                pred = model.predict(X_test)
                params = model.get_params()
                row = stores[rep].add({
                    "representation": rep,
                    "method": name,
                    "seed": seed,
                    "n_labeled": int(lab.size),
                    "n_unlabeled": int(unl.size) if semi else 0,
                    "n_test": int(test.size),
                    "alpha": params.get("alpha"),
                    "unlabeled_weight": getattr(model, "best_params_",
                                                params).get("unlabeled_weight"),
                    "reg_covar": params.get("reg_covar"),
                    "accuracy": float(accuracy_score(y_all[test], pred)),
                    "macro_f1": float(f1_score(y_all[test], pred,
                                               average="macro")),
                    "fit_time_s": fit_time,
                })
                rows.append(row)
                if verbose:
                    print(f"  seed={seed} {rep:10s} {name:22s} accuracy "
                          f"{row['accuracy']:.4f} ({fit_time:.1f} s)",
                          flush=True)
        return rows

    # Each worker adds its rows to the files itself (ResultStore merges
    # under a lock), so finished rows survive an interrupt.
    rows = run_tasks(draw, [(s,) for s in range(seeds)], jobs)
    if out is not None:
        write_report(out, summarize(rows), plot, rows, quiet=True)
    return rows


def plot(rows, path):
    """Bar chart: accuracy of every method, mean and std over draws."""
    plt = pyplot()

    keys = list(dict.fromkeys((r["representation"], r["method"])
                              for r in rows))
    acc = [[100 * r["accuracy"] for r in rows
            if (r["representation"], r["method"]) == k] for k in keys]
    colors = ["tab:blue" if k[0] == "counts" else "tab:orange" for k in keys]
    fig, ax = plt.subplots(figsize=(6, 3.8))
    ax.barh(range(len(keys)), [np.mean(a) for a in acc],
            xerr=[np.std(a) for a in acc], color=colors, capsize=3)
    ax.set_yticks(range(len(keys)), [f"{m} ({r})" for r, m in keys],
                  fontsize=8)
    ax.invert_yaxis()
    lo = min(min(a) for a in acc)
    ax.set_xlim(max(0, lo - 5), None)
    ax.set_xlabel("test accuracy (%)")
    ax.set_title(f"20 Newsgroups, {rows[0]['n_labeled']:,} labeled, "
                 "counts vs MiniLM", fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    save_figure(fig, path)


def summarize(rows):
    """Markdown table of the rows (mean ± std over draws), with the
    published figures beside it when the run used the protocol's sizes."""
    n_test = rows[0]["n_test"] if rows else N_TEST
    n_labeled = rows[0]["n_labeled"] if rows else N_LABELED
    standard = (n_test, n_labeled) == (N_TEST, N_LABELED)
    extra = {"columns": ["reference (seed 0)"],
             "cells": lambda key: [PUBLISHED.get(key, "–") if standard
                                   else "–"]}
    return mean_std_table(rows, ("representation", "method"),
                          extra=extra) + (
        f"\n\nAccuracy and macro-F1 in % on {n_test:,} test posts, mean ± "
        f"std over {len({r['seed'] for r in rows})} draws; {n_labeled:,} "
        "labeled posts."
    )


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m probssl.experiments.seed",
        description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None,
                        help="20news-bydate.tar.gz or its folder "
                             "(default: $PROBSSL_DATA)")
    parser.add_argument("--representation", default="both",
                        choices=("counts", "embeddings", "both"))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--test-size", type=int, default=N_TEST)
    parser.add_argument("--labeled", type=int, default=N_LABELED)
    parser.add_argument("--alpha", type=float, default=0.01)
    parser.add_argument("--reg-covar", type=float, default=1e-4)
    parser.add_argument("--out", default="results/seed")
    args = parser.parse_args(argv)
    if args.data is not None and not os.path.exists(args.data):
        parser.error(f"--data {args.data!r} does not exist")
    for name in ("seeds", "test_size", "labeled"):
        if not 0 < getattr(args, name) <= (1000 if name == "seeds" else 10**7):
            parser.error(f"--{name.replace('_', '-')} "
                         f"{getattr(args, name)} is out of range")
    reps = (("counts", "embeddings") if args.representation == "both"
            else (args.representation,))
    finish_main(parser, args.out, lambda: run(
        args.data, reps, args.seeds, args.alpha, args.reg_covar, args.out,
        n_test=args.test_size, n_labeled=args.labeled), summarize)


if __name__ == "__main__":
    main()
