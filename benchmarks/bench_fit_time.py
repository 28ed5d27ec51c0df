"""Fit time of the semi-supervised estimators on 20 Newsgroups, same run.

* HybridClassifier vs EMNaiveBayes (vs MultinomialNB) on the bydate
  training set: 11,314 posts as counts, 100 / 300 / 1,000 labeled (balanced),
  the rest unlabeled; ``alpha=0.01``.
* CoTraining (counts view: MultinomialNB, embeddings view: logistic
  regression) vs scikit-learn's SelfTrainingClassifier around the same
  MultinomialNB, adding the same number of rows per round (k_best) for the
  same number of rounds, on the seed split (1,200 labeled, 7,646
  unlabeled). Embeddings from the SentenceEmbedder cache.

    python benchmarks/bench_fit_time.py --data ../shared/data/20news-bydate.tar.gz
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


def hybrid_vs_em(archive, labeled):
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.naive_bayes import MultinomialNB

    from probssl import EMNaiveBayes, HybridClassifier
    from probssl.datasets import load_20newsgroups, mask_labels

    train = load_20newsgroups("train", archive=archive)
    X = CountVectorizer(stop_words="english", min_df=2).fit_transform(
        train.data)
    print(f"\nHybridClassifier vs EMNaiveBayes, {X.shape[0]} x {X.shape[1]} "
          "counts (seconds per fit; iterations)")
    for n in labeled:
        y = mask_labels(train.target, n // 20, random_state=0)
        lab = y >= 0
        t_nb = timed(MultinomialNB(alpha=0.01), X[lab], y[lab])
        em = EMNaiveBayes(alpha=0.01)
        t_em = timed(em, X, y)
        hy = HybridClassifier(alpha=0.01)
        t_hy = timed(hy, X, y)
        print(f"  {n:5d} labeled: NB {t_nb:.2f} s | EM {t_em:.2f} s "
              f"({em.n_iter_} it) | Hybrid {t_hy:.2f} s ({hy.n_iter_} it) "
              f"| Hybrid / EM {t_hy / t_em:.1f}x")


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
    parser.add_argument("--labeled", default="100,300,1000")
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args(argv)
    hybrid_vs_em(args.data, [int(v) for v in args.labeled.split(",")])
    cotraining_vs_selftraining(args.data, args.rounds)


if __name__ == "__main__":
    main()
