"""Threads that fit the machine: quiet and busy, in the same run.

Two fits, each timed under every thread setting, quiet and then with a
second process spinning on one core (started here, always killed):

* **gaussian**: ``EMNaiveBayes(event_model="gaussian", covariance_type=
  "full", shrinkage=0.5, reg_covar=1e-3, tol=0, max_iter=3)`` on the seed
  split's 8,846 training rows (1,200 labeled) of 384-dim embeddings: the
  cached MiniLM ones with ``--embeddings/--labels``, else a stand-in
  (TF-IDF + TruncatedSVD(384) of the same posts, built from ``--data``
  once and cached in ``--cache``); the output says which. Beside it **the
  dgemm line**: the iterations' products (E-step ``(n, d) @ (d, d)`` per
  component, ``2 n d^2 K`` flops; M-step a rank-n update per component,
  ``n d^2 K``) at the dgemm rate measured in the same state (best of 5
  products of 2,048 x 2,048 matrices, all BLAS threads);
* **multinomial**: ``EMNaiveBayes(alpha=0.01, tol=0, max_iter=20)`` on
  Nigam's 300-labeled split (``bench_whole_fit.load_split``), with
  ``--data``.

Thread settings: ``default`` (probssl's choice), ``threads=1``
(``threadpool_limits(1)``), ``threads=all`` (``n_jobs=-1``: every CPU,
whatever the load). Each row shows the best of ``--repeat`` interleaved
rounds, the threads the fit's kernel launches / BLAS tasks used, and
``os.getloadavg()`` at the time. With ``--before DIR`` (a checkout of
older code, e.g. ``git archive c3fd2e2 | tar -x -C DIR``) its default fit
is timed too, in a subprocess per state.

    python benchmarks/bench_threads.py --data ../shared/data/20news-bydate.tar.gz
"""

import argparse
import contextlib
import os
import sys
import warnings

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from _harness import (STATES, busy_core, dgemm_rate,  # noqa: E402
                      exit_on_sigterm, run_elsewhere, timed)

SETTINGS = ("default", "threads=1", "threads=all")


def gaussian_line(X, K, n_iter, rate):
    n, d = X.shape
    return n_iter * 3.0 * n * d * d * K / rate


def load(args, which):
    if which == "gaussian":
        from _seed_data import seed_rows

        return seed_rows(args.data, args.embeddings, args.labels, args.cache)
    from bench_whole_fit import load_split

    X, y, _, _ = load_split(args.data)
    return X, y, "Nigam's 300-labeled split of 20 Newsgroups"


def make_fit(which, X, y, n_jobs=None):
    from probssl import EMNaiveBayes

    if which == "gaussian":
        clf = EMNaiveBayes(event_model="gaussian", covariance_type="full",
                           shrinkage=0.5, reg_covar=1e-3, tol=0.0,
                           max_iter=3)
    else:
        clf = EMNaiveBayes(alpha=0.01, tol=0.0, max_iter=20)

    def fit():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if n_jobs is None:
                return clf.fit(X, y)
            from probssl import _threads

            with _threads.limit(n_jobs):
                return clf.fit(X, y)
    return fit


@contextlib.contextmanager
def setting(name):
    from threadpoolctl import threadpool_limits

    if name == "threads=1":
        with threadpool_limits(1):
            yield
    else:
        yield


def used_threads():
    """The thread counts of the launches and task runs since the last call."""
    from probssl import _threads

    out = sorted(set(_threads.LAUNCHES) | set(_threads.TASK_RUNS))
    _threads.LAUNCHES.clear()
    _threads.TASK_RUNS.clear()
    return "/".join(map(str, out)) or "-"


def measure(which, X, y, repeat):
    """{setting: (best seconds, threads used, loadavg)} in this state."""
    fits = {name: make_fit(which, X, y, -1 if name == "threads=all" else
                           None) for name in SETTINGS}
    best = {name: (np.inf, "", 0.0, 0.0) for name in SETTINGS}
    for _ in range(repeat):
        for name in SETTINGS:
            cpu = []
            with setting(name):
                used_threads()
                t = timed(fits[name], cpu)
                threads = used_threads()
            print(f"  {which} {name}: {t:.3f} s (CPU {cpu[0]:.3f} s), "
                  f"threads {threads}, load {os.getloadavg()[0]:.2f}",
                  flush=True)
            if t < best[name][0]:
                best[name] = (t, threads, os.getloadavg()[0], cpu[0])
    return best


def before_worker(args, which):
    """The default fit with ``--before``'s code: best time (subprocess)."""
    return run_elsewhere(args.before, (
        "import bench_threads as b, json, argparse\n"
        f"args = argparse.Namespace(**{vars(args)!r})\n"
        f"X, y, _ = b.load(args, {which!r})\n"
        f"fit = b.make_fit({which!r}, X, y)\nfit()\n"
        f"print(json.dumps(min(b.timed(fit) for _ in "
        f"range({args.repeat}))))\n"))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="20news-bydate.tar.gz")
    parser.add_argument("--embeddings", help=".npy embeddings (all posts)")
    parser.add_argument("--labels", help=".npy targets of the embeddings")
    parser.add_argument("--cache", default=os.path.join(
        os.path.expanduser("~"), ".cache", "probssl",
        "bench-standin-tfidf-svd384.npz"),
        help="where the stand-in embeddings are kept")
    parser.add_argument("--which", choices=("gaussian", "multinomial",
                                            "both"), default="both")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--before", help="a checkout of older code")
    args = parser.parse_args(argv)
    # A terminated run still kills its busy process and --before child
    # (the finally blocks run on SystemExit).
    exit_on_sigterm()
    if args.cache:
        os.makedirs(os.path.dirname(args.cache), exist_ok=True)
    kinds = ("gaussian", "multinomial") if args.which == "both" else (
        args.which,)
    from probssl import _threads

    print(f"{_threads.cpu_count()} CPUs; loadavg at start "
          f"{os.getloadavg()[0]:.2f}")
    rows = []
    for which in kinds:
        X, y, source = load(args, which)
        print(f"{which}: {X.shape[0]} x {X.shape[1]}, {np.sum(y >= 0)} "
              f"labeled ({source})")
        make_fit(which, X, y)()  # warm-up: kernels compiled / cached
        for state in STATES:
            with busy_core(state == "busy"):
                line = (gaussian_line(X, 20, 3, dgemm_rate())
                        if which == "gaussian" else None)
                res = measure(which, X, y, args.repeat)
                old = before_worker(args, which) if args.before else None
            rows.append((which, state, line, res, old))
    print("\n| fit | state | setting | s | CPU s | threads | load "
          "| / 1 thread | / dgemm line |")
    print("|---|---|---|---:|---:|---|---:|---:|---:|")
    quiet = {}
    for which, state, line, res, old in rows:
        one = res["threads=1"][0]
        for name, (t, threads, load_, cpu) in res.items():
            ratio = f"{t / line:.2f}" if line else ""
            print(f"| {which} | {state} | {name} | {t:.3f} | {cpu:.3f} | "
                  f"{threads} | {load_:.2f} | {t / one:.2f} | {ratio} |")
        if line:
            print(f"| {which} | {state} | dgemm line | {line:.3f} | | | | "
                  "| |")
        if old is not None:
            print(f"| {which} | {state} | before ({args.before}) | "
                  f"{old:.3f} | | | | {old / one:.2f} | "
                  f"{old / line if line else float('nan'):.2f} |")
        quiet.setdefault(which, res["default"][0])
        if state == "busy":
            print(f"| {which} | busy / quiet (default) | | "
                  f"{res['default'][0] / quiet[which]:.2f} | | | | | |")


if __name__ == "__main__":
    main()
