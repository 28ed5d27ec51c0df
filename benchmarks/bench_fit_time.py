"""Fit time of the semi-supervised estimators on 20 Newsgroups, same run.

* HybridClassifier vs EMNaiveBayes on Nigam's split (300 labeled, balanced,
  and 10,000 unlabeled bydate training posts, drawn as ``probssl run
  nigam2000`` draws them; 3 draws): fit times (best of ``--repeats``),
  their ratio, and the default hybrid's test accuracy against the converged
  hybrid's (tol=1e-6); ``alpha=0.01``.
* CoTraining (counts view: MultinomialNB, embeddings view: logistic
  regression) vs scikit-learn's SelfTrainingClassifier around the same
  MultinomialNB, adding the same number of rows per round (k_best) for the
  same number of rounds, on the seed split (1,200 labeled, 7,646
  unlabeled). Embeddings from the SentenceEmbedder cache.

    python benchmarks/bench_fit_time.py --data ../shared/data/20news-bydate.tar.gz
    python benchmarks/bench_fit_time.py --data ... --only hybrid
"""

import argparse
import time
import warnings

import numpy as np


def timed(model, X, y):
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, y)
    return time.perf_counter() - start


def best_of(repeats, makers, X, y):
    """The fastest of ``repeats`` fits of each model, the models' fits
    interleaved (on a shared machine a burst of load then slows both, and
    the minimum is the least disturbed fit); returns ``[(seconds, last
    fitted model)]`` in the order of ``makers``."""
    times = [[] for _ in makers]
    models = [None] * len(makers)
    for _ in range(repeats):
        for j, make in enumerate(makers):
            models[j] = make()
            times[j].append(timed(models[j], X, y))
    return [(min(t), m) for t, m in zip(times, models)]


def hybrid_vs_em(archive, labeled, draws, repeats):
    """Nigam's split: ``n`` labeled (balanced) and 10,000 unlabeled bydate
    training posts drawn as ``probssl run nigam2000`` draws them; accuracy
    on the bydate test set. The converged hybrid (tol=1e-6) is the
    reference of the default's accuracy."""
    from probssl import EMNaiveBayes, HybridClassifier
    from probssl.datasets import labeled_unlabeled_split as split_indices
    from probssl.experiments.nigam2000 import count_data
    from probssl.datasets import load_20newsgroups

    data = count_data(load_20newsgroups("train", archive=archive),
                      load_20newsgroups("test", archive=archive))
    print(f"\nHybridClassifier vs EMNaiveBayes, alpha=0.01, Nigam's split "
          f"(10,000 unlabeled, {data.X.shape[1]} words), best of {repeats} "
          "interleaved fits, ratios in the same run; accuracy on the bydate "
          "test set")
    print(f"{'labeled':>7} {'draw':>4} {'EM s':>6} {'hybrid s':>8} "
          f"{'ratio':>5} {'it':>3} {'acc':>6} {'conv acc':>8} {'conv it':>7} "
          f"{'diff':>6}")
    for n in labeled:
        for seed in range(draws):
            lab, unl = split_indices(data.y, n, 10_000, seed)
            X = data.X[np.concatenate([lab, unl])]
            y = np.concatenate([data.y[lab], np.full(unl.size, -1)])
            if seed == 0:  # compile the kernels outside the timings
                timed(EMNaiveBayes(alpha=0.01, max_iter=2), X, y)
                timed(HybridClassifier(alpha=0.01, max_iter=2), X, y)
            (t_em, _), (t_hy, hy) = best_of(
                repeats, [lambda: EMNaiveBayes(alpha=0.01),
                          lambda: HybridClassifier(alpha=0.01)], X, y)
            conv = HybridClassifier(alpha=0.01, tol=1e-6, max_iter=2000)
            timed(conv, X, y)
            acc = np.mean(hy.predict(data.X_test) == data.y_test)
            acc_conv = np.mean(conv.predict(data.X_test) == data.y_test)
            print(f"{n:7d} {seed:4d} {t_em:6.3f} {t_hy:8.3f} "
                  f"{t_hy / t_em:5.2f} {hy.n_iter_:3d} {100 * acc:6.2f} "
                  f"{100 * acc_conv:8.2f} {conv.n_iter_:7d} "
                  f"{100 * (acc - acc_conv):+6.2f}", flush=True)


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
    args = parser.parse_args(argv)
    if args.only != "cotraining":
        hybrid_vs_em(args.data, [int(v) for v in args.labeled.split(",")],
                     args.draws, args.repeats)
    if args.only != "hybrid":
        cotraining_vs_selftraining(args.data, args.rounds)


if __name__ == "__main__":
    main()
