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

Run ``probssl run mccallum1998 --help``.
"""

import time
import warnings

import numpy as np

from .engine import (Option, Protocol, data_option, integer, methods_option,
                     names, number, seeds_option)
from .nigam2000 import _model, count_data, load_bydate, need_archive

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
# In-memory corpora given to :func:`run` (tests, notebooks), by identity.
_CORPORA = {}


def learning_curve(X, y, X_test, y_test, labeled, pool, strategy, method,
                   seed, n_rounds, batch_size, committee_size, alpha,
                   verbose=False):
    """The rows of one learning curve (round 0: the initial labels)."""
    from probssl.active import ActiveLearner, SimulatedOracle

    rows = np.concatenate([labeled, pool])
    y_al = np.concatenate([y[labeled], np.full(pool.size, -1)])
    learner = ActiveLearner(
        _model("MultinomialNB" if method == "NB" else "EMNaiveBayes",
               alpha=alpha), batch_size=batch_size,
        warm_start=method == "EM-warm",
        committee_size=committee_size, random_state=seed,
        verbose=verbose, **STRATEGIES[strategy])
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        # One labeled post per group at the start: scikit-learn's "more
        # than 50% unique classes" hint is expected, not a problem.
        warnings.filterwarnings("ignore", "The number of unique classes")
        learner.fit(X[rows], y_al)
        fit0 = time.perf_counter() - start
        history = learner.simulate(SimulatedOracle(y[rows]), n_rounds,
                                   X_test, y_test)
    history[0]["fit_time_s"] = fit0
    fields = ("n_labeled", "accuracy", "round", "query_time_s", "fit_time_s",
              "n_iter")
    return [{"strategy": strategy, "method": method, "seed": seed,
             **{k: h[k] for k in fields}, "n_pool": int(pool.size),
             "n_test": int(len(y_test)), "batch_size": batch_size,
             "warm_start": bool(learner.warm_started_)} for h in history]


def _check(s):
    if s.get("corpus") is None:
        need_archive(s)
    if s["rounds"] * s["batch_size"] > s["pool"]:
        raise ValueError(f"--rounds {s['rounds']} of --batch-size "
                         f"{s['batch_size']} exceed the --pool of "
                         f"{s['pool']}")


def _identity(s):
    from ._report import archive_identity

    return s["corpus"] if s.get("corpus") else archive_identity(s["data"])


def _load(s):
    if s.get("corpus"):
        return count_data(*_CORPORA[s["corpus"]["corpus_sha256"]])
    return load_bydate(s)


def _draws(s):
    return [{"strategy": st, "method": m, "seed": k}
            for k in range(s["seeds"]) for m in s["methods"]
            for st in s["strategies"]]


def _curve(ctx, draw):
    s = ctx.s
    n0 = s["initial_per_class"] * 20
    wanted = [n0 + r * s["batch_size"] for r in range(s["rounds"] + 1)]
    rows = [ctx.get({**draw, "n_labeled": n}) for n in wanted]
    if all(r is not None for r in rows):
        return rows
    from probssl.datasets import labeled_unlabeled_split

    data = ctx.data
    # nigam2000's draw: a few labeled posts per group, then the pool.
    labeled, pool = labeled_unlabeled_split(
        data.y, s["initial_per_class"] * len(np.unique(data.y)), s["pool"],
        draw["seed"])
    rows = [ctx.add(r) for r in learning_curve(
        data.X.tocsr(), data.y, data.X_test, data.y_test, labeled, pool,
        draw["strategy"], draw["method"], draw["seed"], s["rounds"],
        s["batch_size"], s["committee_size"], s["alpha"])]
    ctx.log(f"seed={draw['seed']} {draw['method']} {draw['strategy']:12s} "
            f"accuracy {rows[0]['accuracy']:.3f} -> {rows[-1]['accuracy']:.3f}"
            f" at {rows[-1]['n_labeled']} labels")
    return rows


def labels_needed_table(rows, reference=("random", "NB")):
    """{(strategy, method): labels needed} for its mean curve to reach
    ``reference``'s last mean accuracy, and that target."""
    from probssl.active import labels_to_reach

    acc = {}
    for r in rows:
        acc.setdefault((r["strategy"], r["method"]), {}).setdefault(
            r["n_labeled"], []).append(r["accuracy"])
    curves = {k: (np.array(sorted(c)), np.array([np.mean(c[n])
                                                  for n in sorted(c)]))
              for k, c in acc.items()}
    if reference not in curves:
        return {}, None
    target = curves[reference][1][-1]
    return ({k: labels_to_reach(n, a, target) for k, (n, a) in curves.items()},
            target)


def summarize(rows, s=None):
    """Markdown: labels needed to reach random + NB's (and random + EM's)
    accuracy at the last point."""
    ns = sorted({r["n_labeled"] for r in rows})
    methods = list(dict.fromkeys(r["method"] for r in rows))
    lines = []
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
            v = [needed.get((strategy, m), "–") for m in methods]
            lines.append(f"| {strategy} | " + " | ".join(
                f"> {ns[-1]}" if x is None else x if x == "–" else f"{x:.0f}"
                for x in v) + " |")
        lines.append("")
    return "\n".join(lines).rstrip()


PROTOCOL = Protocol(
    name="mccallum1998",
    title="McCallum & Nigam (1998): active learning with EM",
    options=(data_option(), seeds_option(3),
             methods_option(METHODS, DEFAULT_METHODS),
             Option("strategies", tuple(STRATEGIES), names(tuple(STRATEGIES), "strategy"),
                    f"query strategies: any of {', '.join(STRATEGIES)}",
                    selects=True),
             Option("rounds", 10, integer(0, 10_000), "query rounds",
                    selects=True),
             Option("batch_size", 20, integer(1, 11_314),
                    "labels queried per round"),
             Option("pool", 10_000, integer(1, 11_294),
                    "unlabeled pool size"),
             Option("initial_per_class", 1, integer(1, 100),
                    "labeled posts per group at the start"),
             Option("committee_size", 3, integer(2, 100),
                    "QBC committee members"),
             Option("alpha", 0.01, number(0, None, open_low=True),
                    "smoothing of NB and EM"),
             Option("corpus", None, None, cli=False)),
    load=_load, check=_check, identity=_identity, draws=_draws,
    run_draw=_curve, key=KEY, group=("strategy",), metrics=("accuracy",),
    summarize=summarize, report={"seeds": 1},
    about="Learning curves of test accuracy against the labels queried, "
    "for four query strategies, with NB (labeled posts only) and EM (the "
    "pool as unlabeled posts); bydate split, pool of 10,000 posts.",
    notes="--labeled is not an option: the curves start from "
          "--initial-per-class labeled posts per group and query the rest.")


def run(archive=None, strategies=tuple(STRATEGIES), methods=DEFAULT_METHODS,
        seeds=3, n_rounds=10, batch_size=20, initial_per_class=1,
        n_pool=10_000, committee_size=3, alpha=0.01, out=None, verbose=True,
        corpus=None, jobs=1):
    """The protocol from Python; ``corpus``: an in-memory ``(train, test)``
    pair of Bunches instead of the archive. Returns the rows."""
    from ._report import corpus_identity
    from .engine import run_protocol

    options = {"data": archive, "strategies": tuple(strategies),
               "methods": tuple(methods), "seeds": seeds, "rounds": n_rounds,
               "batch_size": batch_size, "pool": n_pool, "alpha": alpha,
               "initial_per_class": initial_per_class,
               "committee_size": committee_size}
    if corpus is not None:
        ident = corpus_identity(*corpus)
        _CORPORA[ident["corpus_sha256"]] = corpus
        options["corpus"] = ident
    return run_protocol(PROTOCOL, options, out=out, jobs=jobs,
                        quiet=not verbose)
