"""Fit time of the semi-supervised estimators on 20 Newsgroups, same run.

* HybridClassifier vs EMNaiveBayes on Nigam's split (300 labeled, balanced,
  and 10,000 unlabeled bydate training posts, drawn as ``probssl run
  nigam2000`` draws them; 3 draws): fit times (best of ``--repeats``
  interleaved fits), their ratio and the spread of the paired fits'
  ratios, the load average, and the default hybrid's test accuracy against
  the converged hybrid's (tol=1e-6); ``alpha=0.01``. ``--busy``: the table
  again with another process spinning on one core (started here);
  ``--before DIR``: the same draws with another checkout's code, run
  alternately with this one, draw by draw.
* CoTraining (counts view: MultinomialNB, embeddings view: logistic
  regression) vs scikit-learn's SelfTrainingClassifier around the same
  MultinomialNB, adding the same number of rows per round (k_best) for the
  same number of rounds, on the seed split (1,200 labeled, 7,646
  unlabeled). Embeddings from the SentenceEmbedder cache.

    python benchmarks/bench_fit_time.py --data ../shared/data/20news-bydate.tar.gz
    python benchmarks/bench_fit_time.py --data ... --only hybrid --busy
    python benchmarks/bench_fit_time.py --data ... --only hybrid --before DIR
"""

import argparse
import json
import os
import sys
import time
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _harness import (STATES, busy_core, exit_on_sigterm,  # noqa: E402
                      run_elsewhere)


def timed(model, X, y):
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, y)
    return time.perf_counter() - start


def interleaved(repeats, makers, X, y):
    """``repeats`` fits of each model, the models' fits interleaved (on a
    shared machine a burst of load then slows both); returns ``[(all
    seconds, last fitted model)]`` in the order of ``makers``."""
    times = [[] for _ in makers]
    models = [None] * len(makers)
    for _ in range(repeats):
        for j, make in enumerate(makers):
            models[j] = make()
            times[j].append(timed(models[j], X, y))
    return list(zip(times, models))


def nigam_split(archive, n, seed):
    """Nigam's split: ``n`` labeled (balanced) and 10,000 unlabeled bydate
    training posts drawn as ``probssl run nigam2000`` draws them, and the
    bydate test set."""
    from probssl.datasets import load_20newsgroups
    from probssl.experiments.nigam2000 import count_data
    try:
        from probssl.datasets import labeled_unlabeled_split
    except ImportError:  # --before: code from before the name
        from probssl.experiments.nigam2000 import (
            split_indices as labeled_unlabeled_split)

    data = count_data(load_20newsgroups("train", archive=archive),
                      load_20newsgroups("test", archive=archive))
    lab, unl = labeled_unlabeled_split(data.y, n, 10_000, seed)
    X = data.X[np.concatenate([lab, unl])]
    y = np.concatenate([data.y[lab], np.full(unl.size, -1)])
    return X, y, data.X_test, data.y_test


def measure_hybrid(archive, n, seed, repeats, converged=True):
    """One draw of Nigam's split with the code importable here: the EM and
    hybrid fit times of ``repeats`` interleaved rounds, the hybrid's
    iterations and test accuracy, and (``converged``) those of the
    converged hybrid (tol=1e-6), the reference of the default's
    accuracy; a JSON-able dict."""
    from probssl import EMNaiveBayes, HybridClassifier

    X, y, X_test, y_test = nigam_split(archive, n, seed)
    # compile (or load) the kernels outside the timings
    timed(EMNaiveBayes(alpha=0.01, max_iter=2), X, y)
    timed(HybridClassifier(alpha=0.01, max_iter=2), X, y)
    (t_em, _), (t_hy, hy) = interleaved(
        repeats, [lambda: EMNaiveBayes(alpha=0.01),
                  lambda: HybridClassifier(alpha=0.01)], X, y)
    out = {"em": t_em, "hybrid": t_hy, "it": int(hy.n_iter_),
           "acc": float(np.mean(hy.predict(X_test) == y_test))}
    if converged:
        conv = HybridClassifier(alpha=0.01, tol=1e-6, max_iter=2000)
        timed(conv, X, y)
        out["conv_acc"] = float(np.mean(conv.predict(X_test) == y_test))
        out["conv_it"] = int(conv.n_iter_)
    return out


def hybrid_vs_em(archive, labeled, draws, repeats, states, before=None):
    """The table: per state (quiet; busy: another process spinning on one
    core, started here), draw and code (``before``: another checkout, run
    alternately with this one, draw by draw), the best EM and hybrid fit
    times, their ratio, the spread of the ratios of the paired
    (interleaved) fits, and the hybrid's accuracy against the converged
    hybrid's (measured quiet)."""
    print(f"\nHybridClassifier vs EMNaiveBayes, alpha=0.01, Nigam's split "
          f"(10,000 unlabeled), best of {repeats} interleaved fits, ratios "
          "in the same run; accuracy on the bydate test set")
    print(f"{'state':>5} {'load':>4} {'code':>6} {'lab':>4} {'draw':>4} "
          f"{'EM s':>6} {'hyb s':>6} {'ratio':>5} {'paired':>11} {'it':>3} "
          f"{'acc':>6} {'conv':>6} {'conv it':>7} {'diff':>6}")
    reference = {}
    for state in states:
        with busy_core(state == "busy"):
            for n in labeled:
                for seed in range(draws):
                    codes = [("after", None)]
                    if before:
                        codes.insert(0, ("before", before))
                    for code, source in codes:
                        quiet = state == "quiet"
                        load = os.getloadavg()[0]
                        if source is None:
                            r = measure_hybrid(archive, n, seed, repeats,
                                               quiet)
                        else:
                            r = run_elsewhere(source, (
                                "import json, bench_fit_time as b\n"
                                f"print(json.dumps(b.measure_hybrid("
                                f"{archive!r}, {n}, {seed}, {repeats}, "
                                f"{quiet})))"))
                        if quiet:
                            reference[code, n, seed] = (r["conv_acc"],
                                                        r["conv_it"])
                        conv_acc, conv_it = reference[code, n, seed]
                        paired = np.divide(r["hybrid"], r["em"])
                        print(f"{state:>5} {load:4.1f} {code:>6} {n:4d} "
                              f"{seed:4d} {min(r['em']):6.3f} "
                              f"{min(r['hybrid']):6.3f} "
                              f"{min(r['hybrid']) / min(r['em']):5.2f} "
                              f"{paired.min():5.2f}-{paired.max():5.2f} "
                              f"{r['it']:3d} {100 * r['acc']:6.2f} "
                              f"{100 * conv_acc:6.2f} {conv_it:7d} "
                              f"{100 * (r['acc'] - conv_acc):+6.2f}",
                              flush=True)


def cotraining_vs_selftraining(archive, rounds):
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.naive_bayes import MultinomialNB
    from sklearn.semi_supervised import SelfTrainingClassifier

    from probssl import CoTraining, MultiView, SentenceEmbedder
    from probssl.datasets import load_20newsgroups
    from probssl.experiments.seed import split

    corpus = load_20newsgroups("all", archive=archive)
    E = SentenceEmbedder().transform(corpus.data)
    test, lab, unl = split(len(corpus.target), 0)
    rows = np.concatenate([lab, unl])
    y = np.concatenate([corpus.target[lab], np.full(unl.size, -1)])
    Xc = CountVectorizer(stop_words="english", min_df=2).fit_transform(
        [corpus.data[i] for i in rows])
    cot = CoTraining(MultinomialNB(alpha=0.01),
                     LogisticRegression(max_iter=1000), n_per_class=5,
                     pool_size=500, max_iter=rounds, random_state=0)
    t_cot = timed(cot, MultiView(Xc, E[rows]), y)
    added = int(np.sum(cot.labeled_iter_ > 0))
    per_round = max(1, added // max(cot.n_iter_, 1))
    self_nb = SelfTrainingClassifier(MultinomialNB(alpha=0.01),
                                     criterion="k_best", k_best=per_round,
                                     max_iter=cot.n_iter_)
    t_st = timed(self_nb, Xc, y)
    added_st = int(np.sum(self_nb.labeled_iter_ > 0))
    self_lr = SelfTrainingClassifier(LogisticRegression(max_iter=1000),
                                     criterion="k_best", k_best=per_round,
                                     max_iter=cot.n_iter_)
    t_st_lr = timed(self_lr, E[rows], y)
    print(f"\nCoTraining vs SelfTrainingClassifier, seed split "
          f"({lab.size} labeled, {unl.size} unlabeled), {cot.n_iter_} rounds")
    print(f"  CoTraining (NB on counts + LR on embeddings): {t_cot:.1f} s, "
          f"{added} rows added")
    print(f"  SelfTraining(MultinomialNB) on counts: {t_st:.1f} s, "
          f"{added_st} rows added ({per_round} per round)")
    print(f"  SelfTraining(LogisticRegression) on embeddings: {t_st_lr:.1f} s")
    print(f"  CoTraining / (sum of the two self-trainings): "
          f"{t_cot / (t_st + t_st_lr):.2f}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--labeled", default="300",
                        help="labeled posts of Nigam's split, comma-separated")
    parser.add_argument("--draws", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--only", choices=("hybrid", "cotraining"))
    parser.add_argument("--busy", action="store_true",
                        help="the hybrid table also with one core busy")
    parser.add_argument("--before", help="a checkout of other code to "
                        "compare, run alternately with this one")
    args = parser.parse_args(argv)
    exit_on_sigterm()
    if args.only != "cotraining":
        hybrid_vs_em(args.data, [int(v) for v in args.labeled.split(",")],
                     args.draws, args.repeats,
                     STATES if args.busy else STATES[:1], args.before)
    if args.only != "hybrid":
        cotraining_vs_selftraining(args.data, args.rounds)


if __name__ == "__main__":
    main()
