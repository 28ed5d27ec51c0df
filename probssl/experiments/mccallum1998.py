"""McCallum & Nigam (1998) on 20 Newsgroups: active learning with EM.

Learning curves of test accuracy against the number of labels queried,
for four ways of choosing the documents to label, each with naive Bayes
(``NB``, labeled documents only) and with EM naive Bayes (``EM``, the
still-unlabeled pool as unlabeled documents, refitted from the labels every
round; ``EM-warm``, on request, refits from the previous round's
parameters):

* ``random``: documents drawn at random from the pool;
* ``uncertainty``: the documents whose posterior has the largest entropy;
* ``QBC``: query by committee, ``committee_size`` members drawn from the
  Dirichlet posterior of the word distributions, disagreement = mean KL
  divergence to the committee mean;
* ``density-QBC``: QBC times the document's density in the pool
  (``exp(-3 * mean KL)``, McCallum & Nigam's density weighting).

Data (the bydate split): the test set is the bydate test set (7,532 posts);
for every seed, ``initial_per_class`` labeled posts per group and a pool of
``n_pool`` posts are drawn from the bydate training set; headers removed;
``CountVectorizer(stop_words="english", min_df=2)`` fitted on the training
texts (no labels involved), as in :mod:`probssl.experiments.nigam2000`.
Each round queries ``batch_size`` posts, reveals their labels (a simulated
oracle) and refits.

The summary reports, for every strategy and method, how many labels its
mean curve needs to reach the accuracy that random + NB reaches at its last
point (linear interpolation between measured points).

Run ``python -m probssl.experiments.mccallum1998 --help``.
"""

import argparse
import time
import warnings

import numpy as np

from ._report import (ResultStore, finish_main, protocol_settings, pyplot,
                      save_figure, write_report)

STRATEGIES = {
    "random": {"strategy": "random", "density_weighting": False},
    "uncertainty": {"strategy": "uncertainty", "uncertainty": "entropy",
                    "density_weighting": False},
    "QBC": {"strategy": "qbc", "density_weighting": False},
    "density-QBC": {"strategy": "qbc", "density_weighting": True},
}
# "EM-warm": EM refitted from the previous round's parameters (the
# estimator's warm_start), to measure what warm starts cost in accuracy.
METHODS = ("NB", "EM", "EM-warm")
DEFAULT_METHODS = ("NB", "EM")
KEY = ("strategy", "method", "n_labeled", "seed")


def split_indices(y, initial_per_class, n_pool, seed):
    """(labeled, pool) rows of the training set for one seed: a few labeled
    rows per class, then ``n_pool`` rows drawn from the others."""
    from probssl.datasets import mask_labels

    rng = np.random.RandomState(seed)
    masked = mask_labels(y, initial_per_class, random_state=rng)
    labeled = np.flatnonzero(masked != -1)
    rest = np.flatnonzero(masked == -1)
    if n_pool > rest.size:
        raise ValueError(f"n_pool={n_pool} exceeds the {rest.size} training "
                         "posts left after drawing the labeled ones")
    return labeled, np.sort(rng.choice(rest, size=n_pool, replace=False))


def _estimator(method, alpha):
    if method == "NB":
        from sklearn.naive_bayes import MultinomialNB

        return MultinomialNB(alpha=alpha)
    from probssl import EMNaiveBayes

    return EMNaiveBayes(alpha=alpha)


def learning_curve(X, y, X_test, y_test, labeled, pool, strategy, method,
                   seed, n_rounds, batch_size, committee_size, alpha,
                   verbose=False):
    """The rows of one learning curve (round 0: the initial labels)."""
    from probssl.active import ActiveLearner, SimulatedOracle

    rows_ = np.concatenate([labeled, pool])
    X_al = X[rows_]
    y_true = y[rows_]
    y_al = np.concatenate([y[labeled], np.full(pool.size, -1)])
    learner = ActiveLearner(
        _estimator(method, alpha), batch_size=batch_size,
        warm_start=method == "EM-warm",
        committee_size=committee_size, random_state=seed,
        verbose=verbose, **STRATEGIES[strategy])
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        # One labeled post per group at the start: scikit-learn's "more
        # than 50% unique classes" hint is expected, not a problem.
        warnings.filterwarnings("ignore", "The number of unique classes")
        learner.fit(X_al, y_al)
        fit0 = time.perf_counter() - start
        history = learner.simulate(SimulatedOracle(y_true), n_rounds,
                                   X_test, y_test)
    history[0]["fit_time_s"] = fit0
    return [{
        "strategy": strategy,
        "method": method,
        "n_labeled": h["n_labeled"],
        "seed": seed,
        "accuracy": h["accuracy"],
        "round": h["round"],
        "n_pool": int(pool.size),
        "n_test": int(len(y_test)),
        "batch_size": batch_size,
        "query_time_s": h["query_time_s"],
        "fit_time_s": h["fit_time_s"],
        "n_iter": h["n_iter"],
        "warm_start": bool(learner.warm_started_),
    } for h in history]


def run(archive=None, strategies=tuple(STRATEGIES), methods=DEFAULT_METHODS,
        seeds=3, n_rounds=10, batch_size=20, initial_per_class=1,
        n_pool=10_000, committee_size=3, alpha=0.01, out=None, verbose=True,
        corpus=None, jobs=1):
    """Run the protocol; return the result rows (one per curve point).

    With ``out``, every finished curve is written at once
    (:class:`~probssl.experiments._report.ResultStore`) and curves already
    there for the same settings are reused (runs are deterministic given
    the seed). ``jobs`` runs curves in parallel processes.
    """
    from sklearn.feature_extraction.text import CountVectorizer

    from probssl.datasets import load_20newsgroups

    unknown = sorted(set(strategies) - set(STRATEGIES))
    if unknown:
        raise ValueError(f"unknown strategy(ies) {unknown}; choose from "
                         f"{', '.join(STRATEGIES)}")
    unknown = sorted(set(methods) - set(METHODS))
    if unknown:
        raise ValueError(f"unknown method(s) {unknown}; choose from "
                         f"{', '.join(METHODS)}")
    for name, value in (("seeds", seeds), ("batch_size", batch_size),
                        ("initial_per_class", initial_per_class),
                        ("n_pool", n_pool)):
        if int(value) < 1:
            raise ValueError(f"{name} must be positive, got {value}")
    if n_rounds < 0:
        raise ValueError(f"n_rounds must be >= 0, got {n_rounds}")
    if n_rounds * batch_size > n_pool:
        raise ValueError(f"{n_rounds} rounds of {batch_size} exceed the "
                         f"pool of {n_pool}")

    t0 = time.perf_counter()
    given = corpus
    if corpus is None:
        corpus = (load_20newsgroups("train", archive=archive),
                  load_20newsgroups("test", archive=archive))
    train, test = corpus
    vectorizer = CountVectorizer(stop_words="english", min_df=2)
    X = vectorizer.fit_transform(train.data).tocsr()
    X_test = vectorizer.transform(test.data)
    y, y_test = train.target, test.target
    if verbose:
        print(f"20 Newsgroups: {X.shape[0]} train / {X_test.shape[0]} test "
              f"posts, {X.shape[1]} words (loaded in "
              f"{time.perf_counter() - t0:.1f} s)", flush=True)
    settings = protocol_settings(
        "mccallum1998", archive=archive if given is None else None,
        corpus=given, alpha=alpha, n_pool=n_pool,
        batch_size=batch_size, initial_per_class=initial_per_class,
        committee_size=committee_size)
    store = ResultStore(out, settings, key=KEY)
    n_initial = initial_per_class * len(np.unique(y))
    wanted = [n_initial + r * batch_size for r in range(n_rounds + 1)]

    def cached(strategy, method, seed):
        rows = [store.get({"strategy": strategy, "method": method,
                           "n_labeled": n, "seed": seed}) for n in wanted]
        return rows if all(r is not None for r in rows) else None

    tasks, done = [], {}
    for seed in range(seeds):
        for method in methods:
            for strategy in strategies:
                rows = cached(strategy, method, seed)
                if rows is None:
                    tasks.append((strategy, method, seed))
                else:
                    done[(strategy, method, seed)] = rows

    def curve(strategy, method, seed):
        labeled, pool = split_indices(y, initial_per_class, n_pool, seed)
        return learning_curve(X, y, X_test, y_test, labeled, pool, strategy,
                              method, seed, n_rounds, batch_size,
                              committee_size, alpha)

    def finished(rows):
        for row in rows:
            store.add(row)
        strategy, method, seed = (rows[0][k] for k in
                                  ("strategy", "method", "seed"))
        done[(strategy, method, seed)] = rows
        if verbose:
            times = sum(r["fit_time_s"] + r["query_time_s"] for r in rows)
            print(f"  seed={seed} {method} {strategy:12s} accuracy "
                  f"{rows[0]['accuracy']:.3f} -> {rows[-1]['accuracy']:.3f} "
                  f"at {rows[-1]['n_labeled']} labels ({times:.1f} s)",
                  flush=True)

    bar = None
    if verbose and tasks:
        try:
            from tqdm.auto import tqdm

            bar = tqdm(total=len(tasks), desc="curves", leave=False)
        except ImportError:
            pass
    if jobs == 1:
        for task in tasks:
            finished(curve(*task))
            if bar is not None:
                bar.update()
    elif tasks:
        from joblib import Parallel, delayed

        for rows in Parallel(n_jobs=jobs, return_as="generator_unordered")(
                delayed(curve)(*t) for t in tasks):
            finished(rows)
            if bar is not None:
                bar.update()
    if bar is not None:
        bar.close()
    rows = [r for seed in range(seeds) for method in methods
            for strategy in strategies for r in done[(strategy, method, seed)]]
    if out is not None:
        write_outputs(rows, out)
    return rows


def mean_curves(rows):
    """{(strategy, method): (n_labeled, mean accuracy, std, n_seeds)}."""
    curves = {}
    for key in dict.fromkeys((r["strategy"], r["method"]) for r in rows):
        sel = [r for r in rows if (r["strategy"], r["method"]) == key]
        ns = sorted({r["n_labeled"] for r in sel})
        acc = [np.array([r["accuracy"] for r in sel if r["n_labeled"] == n])
               for n in ns]
        curves[key] = (np.array(ns), np.array([a.mean() for a in acc]),
                       np.array([a.std() for a in acc]),
                       min(a.size for a in acc))
    return curves


def labels_needed(n, acc, target):
    """Labels at which the curve (n, acc) first reaches ``target``, by
    linear interpolation between points; None if it never does."""
    hit = np.flatnonzero(acc >= target)
    if not hit.size:
        return None
    i = hit[0]
    if i == 0:
        return float(n[0])
    frac = (target - acc[i - 1]) / (acc[i] - acc[i - 1])
    return float(n[i - 1] + frac * (n[i] - n[i - 1]))


def labels_needed_table(rows, reference=("random", "NB")):
    """{(strategy, method): labels needed} to reach ``reference``'s last
    mean accuracy, and that target."""
    curves = mean_curves(rows)
    if reference not in curves:
        return {}, None
    target = curves[reference][1][-1]
    return ({key: labels_needed(c[0], c[1], target)
             for key, c in curves.items()}, target)


def summarize(rows):
    """Markdown: the mean curves at a few points, then labels needed."""
    curves = mean_curves(rows)
    ns = sorted({r["n_labeled"] for r in rows})
    shown = ns if len(ns) <= 6 else sorted(
        {ns[0], ns[-1], *ns[:: max(1, (len(ns) - 1) // 4)]})
    lines = ["| strategy | method | " + " | ".join(f"{n} labels"
                                                 for n in shown) + " |",
             "|---|---|" + "---:|" * len(shown)]
    for (strategy, method), (n, mean, std, _) in curves.items():
        cells = []
        for m in shown:
            i = np.flatnonzero(n == m)
            cells.append(f"{100 * mean[i[0]]:.1f} ± {100 * std[i[0]]:.1f}"
                         if i.size else "–")
        lines.append(f"| {strategy} | {method} | " + " | ".join(cells) + " |")
    n_seeds = len({r["seed"] for r in rows})
    lines += ["", f"Test accuracy in % (mean ± std over {n_seeds} seeds) on "
              f"{rows[0]['n_test']} test posts; pool of {rows[0]['n_pool']:,}"
              f" posts, {rows[0]['batch_size']} queries per round.", ""]
    methods = list(dict.fromkeys(k[1] for k in curves))
    for ref in (("random", "NB"), ("random", "EM")):
        needed, target = labels_needed_table(rows, ref)
        if not needed:
            continue
        lines += [f"Labels needed to reach {ref[0]} + {ref[1]}'s accuracy at "
                  f"{ns[-1]} labels ({100 * target:.1f} %; linear "
                  "interpolation of the mean curves; '>' = not reached):", "",
                  "| strategy | " + " | ".join(methods) + " |",
                  "|---|" + "---:|" * len(methods)]
        for strategy in dict.fromkeys(k[0] for k in needed):
            cells = []
            for method in methods:
                if (strategy, method) not in needed:
                    cells.append("–")
                    continue
                v = needed[(strategy, method)]
                cells.append(f"> {ns[-1]}" if v is None else f"{v:.0f}")
            lines.append(f"| {strategy} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines).rstrip()


def write_outputs(rows, out):
    """``results.md`` and ``learning_curves.png`` (the store wrote the
    rows)."""
    write_report(out, summarize(rows), plot, rows, "learning_curves.png")


def plot(rows, path):
    plt = pyplot()

    fig, ax = plt.subplots(figsize=(6, 4))
    colors = dict(zip(STRATEGIES, ("tab:gray", "tab:orange", "tab:blue",
                                   "tab:green")))
    for (strategy, method), (n, mean, std, _) in mean_curves(rows).items():
        ax.plot(n, 100 * mean, marker="o", ms=3,
                ls={"EM": "-", "NB": "--"}.get(method, ":"),
                color=colors.get(strategy), label=f"{strategy} + {method}")
        if method != "EM-warm":    # flat curves: a band would hide others
            ax.fill_between(n, 100 * (mean - std), 100 * (mean + std),
                            color=colors.get(strategy), alpha=0.08)
    ax.set_xlabel("labeled documents (initial + queried)")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(f"20 Newsgroups, pool of {rows[0]['n_pool']:,} "
                 "(McCallum & Nigam 1998)", fontsize=10)
    ax.legend(fontsize=7, ncol=2, handlelength=3.5)
    ax.grid(alpha=0.3)
    save_figure(fig, path)


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m probssl.experiments.mccallum1998",
        description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None,
                        help="20news-bydate.tar.gz or its folder "
                             "(default: $PROBSSL_DATA)")
    parser.add_argument("--strategies", default=",".join(STRATEGIES))
    parser.add_argument("--methods", default=",".join(DEFAULT_METHODS),
                        help=f"any of {','.join(METHODS)}")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=20)
    parser.add_argument("--initial-per-class", type=int, default=1)
    parser.add_argument("--pool", type=int, default=10_000)
    parser.add_argument("--committee-size", type=int, default=3)
    parser.add_argument("--alpha", type=float, default=0.01)
    parser.add_argument("--out", default="results/mccallum1998")
    parser.add_argument("--jobs", type=int, default=1)
    args = parser.parse_args(argv)
    finish_main(parser, args.out, lambda: run(
        args.data, args.strategies.split(","), args.methods.split(","),
        args.seeds, args.rounds, args.batch_size, args.initial_per_class,
        args.pool, args.committee_size, args.alpha, args.out,
        jobs=args.jobs), summarize)


if __name__ == "__main__":
    main()
