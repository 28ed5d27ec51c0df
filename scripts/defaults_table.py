"""Are the estimators' default hyper-parameters sound on text?

Test accuracy on 20 Newsgroups (bydate; labeled rows drawn class-balanced
from the training set, 10,000 unlabeled rows, the bydate test set; the
features of ``probssl run nigam2000``) of ``EMNaiveBayes``,
``MixtureOfExperts`` and ``HybridClassifier`` with every smoothing ``alpha``
of a grid and with their defaults, beside supervised ``MultinomialNB``::

    python scripts/defaults_table.py --archive ../shared/data/20news-bydate.tar.gz \
        [--labeled 20 100 300 1000] [--seeds 1] [--out table.md]

A default is sound when it is never below supervised naive Bayes (same
alpha as the default) and within 3 points of the best alpha of the grid.
The table is printed (Markdown) and written to ``--out``; with several
seeds every cell is the mean over the draws.
"""

import argparse
import os
import sys
import time
import warnings

import numpy as np

GRID = (1.0, 0.1, 0.01, 0.001)


def load(archive):
    from sklearn.feature_extraction.text import CountVectorizer

    from probssl.datasets import load_20newsgroups

    train = load_20newsgroups("train", archive=archive)
    test = load_20newsgroups("test", archive=archive)
    vectorizer = CountVectorizer(stop_words="english", min_df=2)
    return (vectorizer.fit_transform(train.data), train.target,
            vectorizer.transform(test.data), test.target)


def estimators():
    """name -> factory(alpha or None for the default)."""
    from probssl import EMNaiveBayes, HybridClassifier, MixtureOfExperts

    def make(cls):
        return lambda alpha: cls() if alpha is None else cls(alpha=alpha)

    return {"EMNaiveBayes": make(EMNaiveBayes),
            "MixtureOfExperts": make(MixtureOfExperts),
            "HybridClassifier": make(HybridClassifier)}


def run(data, labeled, seeds, n_unlabeled=10_000, log=print):
    """Rows ``(estimator, n_labeled, alpha or "default", accuracy)`` (means
    over seeds), and the supervised NB rows under ``"MultinomialNB"``."""
    from sklearn.naive_bayes import MultinomialNB

    from probssl import EMNaiveBayes
    from probssl.datasets import labeled_unlabeled_split as split_indices

    X, y, X_test, y_test = data
    default_alpha = EMNaiveBayes().alpha
    makers = estimators()
    acc = {}
    for n in labeled:
        for seed in range(seeds):
            lab, unl = split_indices(y, n, n_unlabeled, seed)
            X_fit = X[np.concatenate([lab, unl])]
            y_fit = np.concatenate([y[lab], np.full(unl.size, -1)])
            for alpha in GRID + ((default_alpha,) if isinstance(
                    default_alpha, float) and default_alpha not in GRID
                    else ()):
                nb = MultinomialNB(alpha=alpha).fit(X[lab], y[lab])
                acc.setdefault(("MultinomialNB", n, alpha), []).append(
                    nb.score(X_test, y_test))
            for name, make in makers.items():
                for alpha in GRID + (None,):
                    t0 = time.perf_counter()
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        model = make(alpha).fit(X_fit, y_fit)
                    score = model.score(X_test, y_test)
                    key = "default" if alpha is None else alpha
                    acc.setdefault((name, n, key), []).append(score)
                    log(f"  {name:16s} labeled={n:5d} seed={seed} "
                        f"alpha={key}: {score:.4f} "
                        f"({time.perf_counter() - t0:.1f} s)")
    return {k: float(np.mean(v)) for k, v in acc.items()}, default_alpha


def table(acc, labeled, default_alpha):
    """Markdown: one row per estimator and labeled size; columns the grid,
    the default, the best, supervised NB, and whether the default is sound."""
    cols = [f"α={a:g}" for a in GRID]
    lines = ["| estimator | labeled | " + " | ".join(cols)
             + " | default | best − default | NB (default α) | sound |",
             "|---|---:|" + "---:|" * (len(cols) + 4)]
    nb_alpha = default_alpha if isinstance(default_alpha, float) else None
    for n in labeled:
        nb_row = [acc[("MultinomialNB", n, a)] for a in GRID]
        lines.append(f"| MultinomialNB (labeled only) | {n} | "
                     + " | ".join(f"{100 * v:.1f}" for v in nb_row)
                     + " | | | | |")
    for name in estimators():
        for n in labeled:
            grid = [acc[(name, n, a)] for a in GRID]
            default = acc[(name, n, "default")]
            nb = (acc[("MultinomialNB", n, nb_alpha)] if nb_alpha is not None
                  else max(acc[("MultinomialNB", n, a)] for a in GRID))
            gap = max(grid) - default
            sound = default >= nb and gap <= 0.03
            lines.append(
                f"| {name} | {n} | "
                + " | ".join(f"{100 * v:.1f}" for v in grid)
                + f" | {100 * default:.1f} | {100 * gap:+.1f} | "
                f"{100 * nb:.1f} | {'yes' if sound else 'NO'} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--archive", required=True,
                        help="path of 20news-bydate.tar.gz")
    parser.add_argument("--labeled", type=int, nargs="+",
                        default=[20, 100, 300, 1000])
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--out", help="write the Markdown table here")
    args = parser.parse_args(argv)
    data = load(args.archive)
    acc, default_alpha = run(data, args.labeled, args.seeds,
                             log=lambda m: print(m, flush=True))
    text = (f"Test accuracy (%), 20 Newsgroups bydate, 10,000 unlabeled, "
            f"{args.seeds} draw(s); default alpha of EMNaiveBayes: "
            f"{default_alpha}\n\n" + table(acc, args.labeled, default_alpha))
    print(text)
    if args.out:
        tmp = args.out + ".tmp"
        with open(tmp, "w") as f:
            f.write(text + "\n")
        os.replace(tmp, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
