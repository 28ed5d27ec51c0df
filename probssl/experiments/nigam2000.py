"""Nigam et al. (2000), Fig. 2 protocol on 20 Newsgroups: NB vs EM.

Accuracy against the number of labeled documents, with 10,000 unlabeled
documents, on the standard "bydate" split:

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

Run ``python -m probssl.experiments.nigam2000 --help`` for the options. The
table is printed and written, with every result row, to ``--out``.
"""

import argparse
import json
import os
import sys
import time
import warnings

import numpy as np

from ._report import write_rows

PUBLISHED = {
    # Nigam et al. (2000), Fig. 2, read off the curve (approximate).
    300: {"NB": 0.52, "EM": 0.66},
}
REFERENCE = {
    # ../shared/PAPERS.md, "our own reference" (plain SciPy EM, 4 draws).
    100: {"NB": 0.356, "EM": 0.552},
    300: {"NB": 0.504, "EM": 0.633},
}


def split_indices(y, n_labeled, n_unlabeled, seed):
    """Labeled rows (``n_labeled / n_classes`` per class), then
    ``n_unlabeled`` unlabeled rows drawn from the remaining ones."""
    from probssl.datasets import mask_labels

    classes = np.unique(y)
    if n_labeled % len(classes):
        raise ValueError(
            f"n_labeled={n_labeled} is not a multiple of the {len(classes)} "
            "classes (labeled documents are balanced over classes)."
        )
    rng = np.random.RandomState(seed)
    masked = mask_labels(y, n_labeled // len(classes), random_state=rng)
    labeled = np.flatnonzero(masked != -1)
    rest = np.flatnonzero(masked == -1)
    if n_unlabeled > rest.size:
        raise ValueError(
            f"n_unlabeled={n_unlabeled} exceeds the {rest.size} documents "
            "left after drawing the labeled ones."
        )
    unlabeled = rng.choice(rest, size=n_unlabeled, replace=False)
    return labeled, np.sort(unlabeled)


METHODS = ("NB", "EM", "Hybrid")


def _hybrid(alpha):
    from probssl.hybrid import HybridClassifier

    return HybridClassifier(alpha=alpha)


def run(archive=None, labeled=(20, 100, 300, 1000), n_unlabeled=10_000,
        seeds=5, alpha=0.01, out=None, verbose=True, corpus=None,
        methods=("NB", "EM"), jobs=1):
    """Run the protocol; return a list of result rows (dicts).

    ``corpus`` is an optional ``(train, test)`` pair of Bunches used
    instead of the archive (the demo passes the shipped sample). With
    ``out``, rows already in ``out/results.json`` for the same settings
    are reused rather than recomputed (runs are deterministic). ``jobs``
    runs the random draws in parallel processes (fit times then include
    the contention).
    """
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.naive_bayes import MultinomialNB

    from probssl import EMNaiveBayes
    from probssl.datasets import load_20newsgroups

    t0 = time.perf_counter()
    if corpus is None:
        corpus = (load_20newsgroups("train", archive=archive),
                  load_20newsgroups("test", archive=archive))
    train, test = corpus
    vectorizer = CountVectorizer(stop_words="english", min_df=2)
    X_train = vectorizer.fit_transform(train.data)
    X_test = vectorizer.transform(test.data)
    y_train, y_test = train.target, test.target
    if verbose:
        print(
            f"20 Newsgroups: {X_train.shape[0]} train / {X_test.shape[0]} "
            f"test documents, {X_train.shape[1]} words, {X_train.nnz} "
            f"non-zeros (loaded in {time.perf_counter() - t0:.1f} s)",
            flush=True,
        )
    done = previous_rows(out)

    def draw(n_labeled, seed):
        """The methods' rows for one labeled count and random draw."""
        lab, unl = split_indices(y_train, n_labeled, n_unlabeled, seed)
        y_ssl = np.concatenate([y_train[lab], np.full(unl.size, -1)])
        X_ssl = X_train[np.concatenate([lab, unl])]
        models = {
            "NB": lambda: (MultinomialNB(alpha=alpha), X_train[lab],
                           y_train[lab], None),
            "EM": lambda: (EMNaiveBayes(alpha=alpha), X_ssl, y_ssl, 1.0),
            "Hybrid": lambda: (_hybrid(alpha), X_ssl, y_ssl, None),
        }
        models = {name: models[name] for name in methods}
        out_rows = []
        for name, make in models.items():
            model, X_fit, y_fit, lam = make()
            semi = X_fit.shape[0] > lab.size
            key = (name, int(n_labeled), seed, alpha,
                   int(unl.size) if semi else 0)
            if key in done:
                out_rows.append(done[key])
                continue
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("error", RuntimeWarning)
                model.fit(X_fit, y_fit)
            fit_time = time.perf_counter() - start
            pred = model.predict(X_test)
            row = {
                "method": name,
                "representation": "counts",
                "n_labeled": int(n_labeled),
                "n_unlabeled": int(unl.size) if semi else 0,
                "seed": seed,
                "n_test": int(y_test.size),
                "alpha": alpha,
                "unlabeled_weight": lam,
                "accuracy": float(accuracy_score(y_test, pred)),
                "macro_f1": float(f1_score(y_test, pred, average="macro")),
                "fit_time_s": fit_time,
                "n_iter": int(getattr(model, "n_iter_", 0)),
            }
            out_rows.append(row)
            if verbose:
                print(
                    f"  labeled={n_labeled:5d} seed={seed} {name}: "
                    f"accuracy {row['accuracy']:.4f} "
                    f"({fit_time:.2f} s, {row['n_iter']} iterations)",
                    flush=True,
                )
        return out_rows

    tasks = [(n, seed) for n in labeled for seed in range(seeds)]
    if jobs == 1:
        results = [draw(*task) for task in tasks]
    else:
        from joblib import Parallel, delayed

        results = Parallel(n_jobs=jobs)(delayed(draw)(*t) for t in tasks)
    rows = [row for draw_rows in results for row in draw_rows]
    if out is not None:
        write_outputs(rows, out)
    return rows


def previous_rows(out):
    """Finished rows of an earlier run in ``out``, by their settings."""
    path = os.path.join(out, "results.json") if out else None
    if not path or not os.path.exists(path):
        return {}
    with open(path) as f:
        rows = json.load(f)
    return {(r["method"], r["n_labeled"], r["seed"], r["alpha"],
             r["n_unlabeled"]): r for r in rows}


def summarize(rows):
    """Markdown table: accuracy mean +/- std over seeds for every method,
    with the published and reference figures beside it."""
    labeled = sorted({r["n_labeled"] for r in rows})
    methods = list(dict.fromkeys(r["method"] for r in rows))
    lines = [
        "| labeled docs | " + " | ".join(methods) + " | EM - NB | "
        "published NB / EM | reference NB / EM |",
        "|---:|" + "---:|" * (len(methods) + 3),
    ]
    for n in labeled:
        acc = {
            m: np.array([r["accuracy"] for r in rows
                         if r["n_labeled"] == n and r["method"] == m])
            for m in methods
        }
        pub = PUBLISHED.get(n)
        ref = REFERENCE.get(n)
        pub = f"{100 * pub['NB']:.0f} / {100 * pub['EM']:.0f}" if pub else "–"
        ref = f"{100 * ref['NB']:.1f} / {100 * ref['EM']:.1f}" if ref else "–"
        cells = [f"{100 * a.mean():.1f} ± {100 * a.std():.1f}" if a.size
                 else "–" for a in acc.values()]
        have = all(m in acc and acc[m].size for m in ("NB", "EM"))
        gain = (f"{100 * (acc['EM'].mean() - acc['NB'].mean()):+.1f}"
                if have else "–")
        lines.append(f"| {n} | " + " | ".join(cells)
                     + f" | {gain} | {pub} | {ref} |")
    n_seeds = len({r["seed"] for r in rows})
    n_test = rows[0].get("n_test", "the") if rows else "the"
    lines.append("")
    lines.append(
        f"Mean ± standard deviation over {n_seeds} random draws, accuracy in "
        f"% on {n_test} test posts."
    )
    return "\n".join(lines)


def write_outputs(rows, out):
    write_rows(rows, out)
    with open(os.path.join(out, "results.md"), "w") as f:
        f.write(summarize(rows) + "\n")
    try:
        plot(rows, os.path.join(out, "accuracy.png"))
    except ImportError:
        print("matplotlib is not installed: no plot (pip install "
              "'probssl[plot]').", file=sys.stderr)


def plot(rows, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.5))
    for method in dict.fromkeys(r["method"] for r in rows):
        labeled = sorted({r["n_labeled"] for r in rows
                          if r["method"] == method})
        if not labeled:
            continue
        acc = [[r["accuracy"] for r in rows
                if r["method"] == method and r["n_labeled"] == n]
               for n in labeled]
        ax.errorbar(labeled, [100 * np.mean(a) for a in acc],
                    yerr=[100 * np.std(a) for a in acc], marker="o",
                    capsize=3, label=method)
    ax.set_xscale("log")
    ax.set_xlabel("labeled documents")
    ax.set_ylabel("test accuracy (%)")
    n_unl = max(r["n_unlabeled"] for r in rows)
    ax.set_title(f"20 Newsgroups, {n_unl:,} unlabeled (Nigam et al. 2000)")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m probssl.experiments.nigam2000",
        description=__doc__.splitlines()[0],
    )
    parser.add_argument("--data", default=None,
                        help="path of 20news-bydate.tar.gz or its folder "
                             "(default: $PROBSSL_DATA)")
    parser.add_argument("--labeled", default="20,100,300,1000",
                        help="comma-separated labeled-document counts")
    parser.add_argument("--unlabeled", type=int, default=10_000)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--alpha", type=float, default=0.01)
    parser.add_argument("--out", default="results/nigam2000",
                        help="folder for results.csv/.json/.md and the plot")
    args = parser.parse_args(argv)
    try:
        labeled = [int(v) for v in args.labeled.split(",") if v]
    except ValueError:
        parser.error(f"--labeled must be integers, got {args.labeled!r}")
    if args.data is not None and not os.path.exists(args.data):
        parser.error(f"--data {args.data!r} does not exist")
    try:
        rows = run(args.data, labeled, args.unlabeled, args.seeds, args.alpha,
                   args.out)
    except (ValueError, FileNotFoundError) as exc:
        parser.exit(2, f"error: {exc}\n")
    print()
    print(summarize(rows))
    print(f"\nwritten to {args.out}/")


if __name__ == "__main__":
    main()
