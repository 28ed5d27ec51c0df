"""EM iteration speed: probssl's Numba kernels against plain NumPy/SciPy.

On the full 20 Newsgroups bydate training set (headers removed,
``CountVectorizer(stop_words="english", min_df=2)``: 11,314 documents,
about 1.07M non-zeros), 5 labeled documents per class and the rest
unlabeled, both implementations run the same EM update from the same start
(naive Bayes on the labeled rows):

* **reference**: the code a careful user writes with SciPy: per iteration
  two sparse products (``X @ log_theta`` and ``X.T @ R``, with ``X.T``
  converted to CSR once), a log-sum-exp E-step and the MAP M-step.
* **probssl**: ``EMNaiveBayes(tol=0, max_iter=n).fit``: fused Numba
  passes, incremental once posteriors sharpen (saturated rows skipped,
  only moved rows added to the statistics), so later iterations cost less
  than the first; the whole-fit times are printed too.

Printed: time per iteration (from the difference between runs of
``n_lo`` and ``n_hi`` iterations, so one-time setup cancels; best of
``--repeat`` interleaved rounds), the ratio, the largest difference
between the two parameter sets, the peak memory of each fit (tracemalloc),
and the first ``fit`` in a fresh process (import and compilation or cache
load included), twice: the second always finds the Numba cache warm.

Usage::

    python benchmarks/bench_em_iteration.py --data ../shared/data/20news-bydate.tar.gz
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
import warnings

import numpy as np
import scipy.sparse as sp
from scipy.special import logsumexp


def load_counts(archive):
    from sklearn.feature_extraction.text import CountVectorizer

    from probssl.datasets import load_20newsgroups, mask_labels

    train = load_20newsgroups("train", archive=archive)
    X = CountVectorizer(stop_words="english", min_df=2).fit_transform(
        train.data
    )
    y = mask_labels(train.target, 5, random_state=0)
    return sp.csr_matrix(X, dtype=np.float64), y


def reference_em(X, y, n_iter, alpha):
    """Plain SciPy EM naive Bayes (lambda = 1), ``n_iter`` iterations."""
    n, V = X.shape
    classes = np.unique(y[y >= 0])
    K = classes.size
    labeled = y >= 0
    Xt = X.T.tocsr()
    R = np.zeros((n, K))
    R[np.flatnonzero(labeled), y[labeled]] = 1.0
    clamp = np.where(labeled[:, None], -np.inf, 0.0) * np.ones(K)
    clamp[np.flatnonzero(labeled), y[labeled]] = 0.0
    for _ in range(n_iter):
        # M-step (MAP, Laplace/Lidstone alpha) from the responsibilities.
        counts = Xt @ R
        log_theta = np.log(alpha + counts) - np.log(
            alpha * V + counts.sum(axis=0)
        )
        log_pi = np.log(R.sum(axis=0)) - np.log(R.sum())
        # E-step; labeled rows keep their class.
        jll = X @ log_theta + log_pi + clamp
        R = np.exp(jll - logsumexp(jll, axis=1, keepdims=True))
    return log_theta.T


def probssl_em(X, y, n_iter, alpha):
    from probssl import EMNaiveBayes

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning: tol=0 on purpose
        clf = EMNaiveBayes(alpha=alpha, tol=0.0, max_iter=n_iter).fit(X, y)
    return clf.feature_log_prob_


def timed(fn, *args):
    start = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - start, out


def peak_memory(fn, *args):
    tracemalloc.start()
    fn(*args)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


FRESH = """
import time, sys
t0 = time.perf_counter()
import numpy as np, scipy.sparse as sp
from probssl import EMNaiveBayes
t1 = time.perf_counter()
X = sp.load_npz(sys.argv[1]); y = np.load(sys.argv[2])
t2 = time.perf_counter()
EMNaiveBayes(alpha=0.01).fit(X, y)
t3 = time.perf_counter()
print(f"{t1 - t0:.3f} {t3 - t2:.3f}")
"""


def fresh_process_fit(X, y):
    with tempfile.TemporaryDirectory() as tmp:
        xp, yp = os.path.join(tmp, "X.npz"), os.path.join(tmp, "y.npy")
        sp.save_npz(xp, X)
        np.save(yp, y)
        runs = []
        for _ in range(2):
            out = subprocess.run(
                [sys.executable, "-c", FRESH, xp, yp],
                capture_output=True, text=True, check=True,
            ).stdout.split()
            runs.append(tuple(float(v) for v in out))
    return runs


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.environ.get("PROBSSL_DATA"))
    parser.add_argument("--alpha", type=float, default=0.01)
    parser.add_argument("--n-lo", type=int, default=5)
    parser.add_argument("--n-hi", type=int, default=25)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    import numba

    X, y = load_counts(args.data)
    print(f"data: {X.shape[0]} documents x {X.shape[1]} words, {X.nnz} "
          f"non-zeros, {np.sum(y >= 0)} labeled; numba threads: "
          f"{numba.get_num_threads()}")

    probssl_em(X, y, 2, args.alpha)  # compile / load the kernel cache
    times = {"reference": {}, "probssl": {}}
    fns = {"reference": reference_em, "probssl": probssl_em}
    for _ in range(args.repeat):
        for n_iter in (args.n_lo, args.n_hi):
            for name, fn in fns.items():
                t, _ = timed(fn, X, y, n_iter, args.alpha)
                prev = times[name].get(n_iter, np.inf)
                times[name][n_iter] = min(prev, t)
    per_iter = {
        name: (t[args.n_hi] - t[args.n_lo]) / (args.n_hi - args.n_lo)
        for name, t in times.items()
    }
    ref_params = reference_em(X, y, args.n_hi, args.alpha)
    our_params = probssl_em(X, y, args.n_hi, args.alpha)
    max_diff = np.abs(ref_params - our_params).max()

    print(f"\nper EM iteration (best of {args.repeat}, from {args.n_hi} - "
          f"{args.n_lo} iterations):")
    for name in fns:
        print(f"  {name:10s} {1e3 * per_iter[name]:8.2f} ms   "
              f"(whole fit, {args.n_hi} iterations: "
              f"{times[name][args.n_hi]:.3f} s)")
    print(f"  speed-up   {per_iter['reference'] / per_iter['probssl']:8.2f}x")
    print(f"max |log theta difference| after {args.n_hi} iterations: "
          f"{max_diff:.2e}")

    print("\npeak memory of one fit (tracemalloc, NumPy/SciPy allocations):")
    data_mb = (X.data.nbytes + X.indices.nbytes + X.indptr.nbytes) / 2**20
    for name, fn in fns.items():
        peak = peak_memory(fn, X, y, args.n_lo, args.alpha)
        print(f"  {name:10s} {peak / 2**20:8.1f} MiB   (input X: "
              f"{data_mb:.1f} MiB)")

    print("\nfirst fit in a fresh process (import | fit, seconds):")
    for i, (imp, fit) in enumerate(fresh_process_fit(X, y)):
        print(f"  run {i + 1}: import {imp:.2f} s, first fit {fit:.2f} s")


if __name__ == "__main__":
    main()
