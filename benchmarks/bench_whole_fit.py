"""The whole fit, as users feel it, on Nigam's 300-labeled split.

20 Newsgroups bydate train (headers removed, ``CountVectorizer(stop_words=
"english", min_df=2)``), 300 labeled posts (15 per group) and 10,000
unlabeled ones drawn as ``probssl run nigam2000`` draws them (seed 0):
about 10,300 x 53,356 with 0.97M non-zeros. Timed, each against the others
in the same run, best of ``--repeat`` interleaved rounds, input checks and
set-up included:

* ``EMNaiveBayes(alpha=0.01, tol=0, max_iter=20)`` against the plain SciPy
  EM of ``bench_em_iteration.reference_em`` (20 iterations, two sparse
  products each, from the same start);
* a default ``EMNaiveBayes(alpha=0.01)`` fit against scikit-learn's
  ``SelfTrainingClassifier(MultinomialNB(alpha=0.01))``, with the test
  accuracy (bydate test set) of each;

quiet, then with a second process spinning on one core (started and
killed here), in the same run. With ``--before DIR`` (a checkout of other
code, e.g. ``git worktree add DIR COMMIT``) the same fits run with that
code in a subprocess, on the same rows, after each state's own rounds.
Prints a Markdown table and the acceptance ratios (issue 27: the
20-iteration fit >= 3.5x the SciPy EM quiet, >= 2.5x busy; the default fit
no slower than self-training quiet).

Usage::

    python benchmarks/bench_whole_fit.py --data ../shared/data/20news-bydate.tar.gz [--before DIR]
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
from bench_em_iteration import reference_em  # noqa: E402

EM20 = "probssl EMNaiveBayes(tol=0, max_iter=20)"
SCIPY = "SciPy EM, 20 iterations"
DEFAULT = "probssl EMNaiveBayes(alpha=0.01), default stop"
SELF = "sklearn SelfTraining(MultinomialNB(alpha=0.01))"


def load_split(archive, n_labeled=300, n_unlabeled=10_000, seed=0):
    import scipy.sparse as sp
    from sklearn.feature_extraction.text import CountVectorizer

    from probssl.datasets import load_20newsgroups
    from probssl.datasets import labeled_unlabeled_split as split_indices

    train = load_20newsgroups("train", archive=archive)
    test = load_20newsgroups("test", archive=archive)
    vec = CountVectorizer(stop_words="english", min_df=2)
    X_train = vec.fit_transform(train.data)
    lab, unl = split_indices(train.target, n_labeled, n_unlabeled, seed)
    rows = np.concatenate([lab, unl])
    X = sp.csr_matrix(X_train[rows], dtype=np.float64)
    y = np.concatenate([train.target[lab], np.full(unl.size, -1)])
    return X, y, vec.transform(test.data), test.target


def save(folder, X, y, X_test, y_test):
    import scipy.sparse as sp

    sp.save_npz(os.path.join(folder, "X.npz"), X)
    sp.save_npz(os.path.join(folder, "X_test.npz"), sp.csr_matrix(X_test))
    np.savez(os.path.join(folder, "y.npz"), y=y, y_test=y_test)


def load_saved(folder):
    import scipy.sparse as sp

    with np.load(os.path.join(folder, "y.npz")) as f:
        y, y_test = f["y"], f["y_test"]
    return (sp.load_npz(os.path.join(folder, "X.npz")), y,
            sp.load_npz(os.path.join(folder, "X_test.npz")), y_test)


def measure(folder, repeat):
    """``{fit: [best seconds, test accuracy or None, iterations or
    None]}`` on the rows saved in ``folder`` (in this process's code)."""
    from sklearn.naive_bayes import MultinomialNB
    from sklearn.semi_supervised import SelfTrainingClassifier

    from probssl import EMNaiveBayes

    X, y, X_test, y_test = load_saved(folder)
    warnings.simplefilter("ignore")
    EMNaiveBayes(tol=0, max_iter=2).fit(X, y)  # Numba cache loaded
    fits = {
        EM20: lambda: EMNaiveBayes(alpha=0.01, tol=0, max_iter=20).fit(X, y),
        SCIPY: lambda: reference_em(X, y, 20, 0.01),
        DEFAULT: lambda: EMNaiveBayes(alpha=0.01).fit(X, y),
        SELF: lambda: SelfTrainingClassifier(
            MultinomialNB(alpha=0.01)).fit(X, y),
    }
    out = {}
    for name, (t, model) in interleaved_best(fits, repeat).items():
        score = getattr(model, "score", None)
        out[name] = [t, None if score is None else score(X_test, y_test),
                     getattr(model, "n_iter_", None)]
    return out


def measure_before(source, folder, repeat):
    return run_elsewhere(source, "import json, bench_whole_fit as b\n"
                         f"print(json.dumps(b.measure({folder!r}, "
                         f"{repeat})))")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", default=os.environ.get("PROBSSL_DATA"))
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--states", default=",".join(STATES),
                   help="comma-separated: quiet, busy (default both)")
    p.add_argument("--busy", action="store_true",
                   help="the busy state only (as --states busy)")
    p.add_argument("--before", help="a checkout of other code to compare")
    args = p.parse_args(argv)
    if args.busy:
        args.states = "busy"
    exit_on_sigterm()
    X, y, X_test, y_test = load_split(args.data)
    print(f"Nigam split: {X.shape[0]} x {X.shape[1]}, {X.nnz} non-zeros, "
          f"{int((y >= 0).sum())} labeled; best of {args.repeat} "
          f"interleaved rounds; loadavg {os.getloadavg()[0]:.2f}",
          flush=True)
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        save(folder, X, y, X_test, y_test)
        for state in args.states.split(","):
            with busy_core(state == "busy"):
                after = measure(folder, args.repeat)
                before = (measure_before(args.before, folder, args.repeat)
                          if args.before else None)
            results[state] = (after, before, os.getloadavg()[0])
            print(f"  {state} done (loadavg {results[state][2]:.2f})",
                  flush=True)
    rows = []
    for state, (after, before, load) in results.items():
        for name, (t, acc, n_iter) in after.items():
            label = name + (f" ({n_iter} iterations)" if n_iter and
                            name == DEFAULT else "")
            row = [state, label, f"{t:.3f}",
                   "" if acc is None else f"{100 * acc:.2f}"]
            if before is not None:
                b = before[name][0]
                row[2:2] = [f"{b:.3f}"]
                row.insert(4, f"{b / t:.2f}")
            rows.append(row)
    header = (["state", "fit", "before s>", "after s>", "before / after>",
               "test accuracy %>"] if args.before else
              ["state", "fit", "s>", "test accuracy %>"])
    print()
    print(markdown_table(header, rows))
    print()
    for state, (after, before, load) in results.items():
        em, ref = after[EM20][0], after[SCIPY][0]
        default, self_training = after[DEFAULT][0], after[SELF][0]
        goal = {"quiet": 3.5, "busy": 2.5}.get(state)
        line = (f"{state} (loadavg {load:.2f}): SciPy EM / probssl EM "
                f"(20 iterations) {ref / em:.2f}x"
                + (f" (goal >= {goal})" if goal else "")
                + "; self-training / default fit "
                + f"{self_training / default:.2f}x"
                + (" (goal >= 1)" if state == "quiet" else ""))
        if before is not None:
            line += (f"; before: {before[SCIPY][0] / before[EM20][0]:.2f}x "
                     f"and {before[SELF][0] / before[DEFAULT][0]:.2f}x")
        print(line)


if __name__ == "__main__":
    main()
