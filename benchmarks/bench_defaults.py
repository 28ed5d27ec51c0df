"""Every estimator's default fit on the seed split, quiet and busy.

Draw 0 of ``probssl run seed``: 1,200 labeled and 7,646 unlabeled posts of
20 Newsgroups (the other 10,000 are the test set), as counts
(``CountVectorizer(stop_words="english", min_df=2)`` fitted on the 8,846
training posts, as the protocol does) and as embeddings (MiniLM with
``--embeddings X.npy --labels y.npy`` of all 18,846 posts in
``load_20newsgroups("all")`` order, else the TF-IDF + TruncatedSVD(384)
stand-in of ``_seed_data``, cached in ``--cache``; the output says which).

Each estimator is built with its defaults (nothing but the base models
where it needs them) and fitted on the 8,846 rows (``y == -1`` on the
unlabeled ones), best of ``--repeat`` interleaved rounds (a fit over 10 s
runs once), quiet and then with a second process spinning on one core
(started and killed here), in the same run; the test accuracy shows that
the fits are the same ones. Rows:

* counts: ``EMNaiveBayes()``, ``MixtureOfExperts()``,
  ``HybridClassifier()``, ``ActiveLearner(EMNaiveBayes())`` (its fit: the
  model on the labeled rows and the pool), and scikit-learn's
  ``SelfTrainingClassifier(MultinomialNB())`` as the reference;
* embeddings: ``EMNaiveBayes()`` (Gaussian, diagonal),
  ``MixtureOfExperts()``, ``HybridClassifier()``, and scikit-learn's
  ``LabelSpreading()`` as the reference;
* both views (``MultiView(counts, embeddings)``): ``CoTraining()`` and
  ``CoEM()`` (multinomial NB on the counts, logistic regression on the
  embeddings: their per-view defaults).

``--before DIR`` (a checkout of other code) times the same fits with that
code in a subprocess, on the same saved rows, in each state: one command
gives the before -> after table (Markdown). ``--only`` / ``--skip`` pick
rows by substring: the two-view fits take minutes (``CoTraining()``: 30
rounds of logistic regression, 220 s on the shared machine under a load
of 10), ``--skip "both views"`` leaves them out.

    python benchmarks/bench_defaults.py --data ../shared/data/20news-bydate.tar.gz [--before DIR]
"""

import argparse
import os
import sys
import tempfile
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _harness import (STATES, busy_core, exit_on_sigterm,  # noqa: E402
                      interleaved_best, markdown_table, run_elsewhere)


def estimators():
    """``(view, name, make)``: every row of the table, ``make()`` a new
    estimator with its defaults."""
    from sklearn.naive_bayes import MultinomialNB
    from sklearn.semi_supervised import LabelSpreading, SelfTrainingClassifier

    from probssl import (CoEM, CoTraining, EMNaiveBayes, HybridClassifier,
                         MixtureOfExperts)
    from probssl.active import ActiveLearner

    return [
        ("counts", "EMNaiveBayes()", EMNaiveBayes),
        ("counts", "MixtureOfExperts()", MixtureOfExperts),
        ("counts", "HybridClassifier()", HybridClassifier),
        ("counts", "ActiveLearner(EMNaiveBayes())",
         lambda: ActiveLearner(EMNaiveBayes())),
        ("counts", "sklearn SelfTrainingClassifier(MultinomialNB())",
         lambda: SelfTrainingClassifier(MultinomialNB())),
        ("embeddings", "EMNaiveBayes()", EMNaiveBayes),
        ("embeddings", "MixtureOfExperts()", MixtureOfExperts),
        ("embeddings", "HybridClassifier()", HybridClassifier),
        ("embeddings", "sklearn LabelSpreading()", LabelSpreading),
        ("both views", "CoTraining()", CoTraining),
        ("both views", "CoEM()", CoEM),
    ]


def save(folder, data):
    import scipy.sparse as sp

    for key in ("counts", "counts_test"):
        sp.save_npz(os.path.join(folder, key + ".npz"), data[key].tocsr())
    np.savez(os.path.join(folder, "dense.npz"),
             **{k: v for k, v in data.items() if not k.startswith("counts")})


def load_saved(folder):
    import scipy.sparse as sp

    with np.load(os.path.join(folder, "dense.npz")) as f:
        data = dict(f)
    for key in ("counts", "counts_test"):
        data[key] = sp.load_npz(os.path.join(folder, key + ".npz"))
    return data


def views(data, test=False):
    from probssl import MultiView

    suffix = "_test" if test else ""
    return {"counts": data["counts" + suffix],
            "embeddings": data["emb" + suffix],
            "both views": MultiView(data["counts" + suffix],
                                    data["emb" + suffix])}


def measure(folder, repeat, only="", skip=None):
    """``{"view | name": [best seconds, test accuracy]}`` on the rows saved
    in ``folder``, with this process's code."""
    data = load_saved(folder)
    X, X_test, y = views(data), views(data, test=True), data["y"]
    warnings.simplefilter("ignore")
    chosen = [(v, n, make) for v, n, make in estimators()
              if only in f"{v} | {n}"
              and not (skip and skip in f"{v} | {n}")]
    for view, _, make in chosen:  # warm-up: Numba's cache, imports
        if make.__name__ in ("EMNaiveBayes", "MixtureOfExperts"):
            make(max_iter=1).fit(X[view], y)
    fits = {f"{v} | {n}": (lambda v=v, make=make: make().fit(X[v], y))
            for v, n, make in chosen}
    out = {}
    for key, (t, model) in interleaved_best(fits, repeat,
                                            log=sys.stderr).items():
        view = key.split(" | ")[0]
        acc = float(np.mean(model.predict(X_test[view]) == data["y_test"]))
        out[key] = [t, acc]
    return out


def measure_before(source, folder, repeat, only, skip):
    return run_elsewhere(source, "import json, bench_defaults as b\n"
                         f"print(json.dumps(b.measure({folder!r}, {repeat}, "
                         f"{only!r}, {skip!r})))")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default=os.environ.get("PROBSSL_DATA"),
                   help="20news-bydate.tar.gz")
    p.add_argument("--embeddings", help=".npy embeddings of all posts")
    p.add_argument("--labels", help=".npy targets of the embeddings")
    p.add_argument("--cache", default=os.path.join(
        os.path.expanduser("~"), ".cache", "probssl",
        "bench-standin-tfidf-svd384.npz"),
        help="where the stand-in embeddings are kept")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--states", default=",".join(STATES),
                   help="comma-separated: quiet, busy (default both)")
    p.add_argument("--before", help="a checkout of other code to compare")
    p.add_argument("--only", default="", help="rows whose 'view | name' "
                   "contains this")
    p.add_argument("--skip", help="leave out the rows whose 'view | name' "
                   "contains this (e.g. 'both views': the two-view fits "
                   "take minutes)")
    args = p.parse_args(argv)
    exit_on_sigterm()
    from _seed_data import seed_split

    if args.cache:
        os.makedirs(os.path.dirname(args.cache), exist_ok=True)
    data, source = seed_split(args.data, args.embeddings, args.labels,
                              args.cache)
    n_lab = int((data["y"] >= 0).sum())
    print(f"seed split, draw 0: {n_lab} labeled + "
          f"{data['y'].size - n_lab} unlabeled rows; counts "
          f"{data['counts'].shape[1]} columns ({data['counts'].nnz} "
          f"non-zeros); embeddings {data['emb'].shape[1]} dims ({source}); "
          f"best of {args.repeat}; loadavg {os.getloadavg()[0]:.2f}",
          flush=True)
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        save(folder, data)
        for state in args.states.split(","):
            with busy_core(state == "busy"):
                after = measure(folder, args.repeat, args.only, args.skip)
                before = (measure_before(args.before, folder, args.repeat,
                                         args.only, args.skip)
                          if args.before else None)
            results[state] = (after, before)
            print(f"  {state} done (loadavg {os.getloadavg()[0]:.2f})",
                  flush=True)
    states = list(results)
    keys = list(results[states[0]][0])
    header, rows = ["view", "estimator"], []
    for state in states:
        header += ([f"{state} before s>", f"{state} after s>",
                    f"{state} before / after>"] if args.before else
                   [f"{state} s>"])
    header.append("test accuracy % (after / before)>" if args.before
                  else "test accuracy %>")
    for key in keys:
        row = key.split(" | ")
        for state in states:
            after, before = results[state]
            if before is not None:
                row += [f"{before[key][0]:.3f}", f"{after[key][0]:.3f}",
                        f"{before[key][0] / after[key][0]:.2f}"]
            else:
                row.append(f"{after[key][0]:.3f}")
        after, before = results[states[0]]
        acc = f"{100 * after[key][1]:.2f}"
        if before is not None:
            acc += f" / {100 * before[key][1]:.2f}"
        rows.append(row + [acc])
    print()
    print(markdown_table(header, rows))


if __name__ == "__main__":
    main()
