"""Full and tied Gaussian E-step and M-step against scikit-learn (issue 17).

In the same run, on the same rows and responsibilities (synthetic
embedding-like rows, or MiniLM embeddings of 20 Newsgroups with --data):

* E-step: ``FullGaussianEvents.log_prob`` against ``GaussianMixture``'s own
  ``_estimate_log_prob`` (the reference, its parameters set to ours);
* M-step: statistics of one block plus ``m_step`` against scikit-learn's
  ``_estimate_gaussian_parameters`` plus ``_compute_precision_cholesky``.

Prints the median of ``--repeat`` runs and the ratio probssl / reference
(< 1: probssl faster) and the largest difference of the results.

    python benchmarks/bench_covariances.py [--rows 10000] [--dim 384] [--components 20]
"""

import argparse
import time

import numpy as np
from sklearn.mixture import GaussianMixture
from sklearn.mixture._gaussian_mixture import (_compute_precision_cholesky,
                                               _estimate_gaussian_parameters)

from probssl._gaussian import FullGaussianEvents


def median_time(func, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        out = func()
        times.append(time.perf_counter() - start)
    return float(np.median(times)), out


def data(args):
    rng = np.random.default_rng(0)
    if args.data:
        from probssl import SentenceEmbedder
        from probssl.datasets import load_20newsgroups

        X = SentenceEmbedder().transform(
            load_20newsgroups("all", archive=args.data).data)[:args.rows]
        X = np.asarray(X, dtype=np.float64)
    else:
        centres = rng.normal(size=(args.components, args.dim))
        X = (centres[rng.integers(0, args.components, args.rows)]
             + rng.normal(size=(args.rows, args.dim)))
        X /= np.linalg.norm(X, axis=1, keepdims=True)
    R = rng.dirichlet(np.full(args.components, 0.3), X.shape[0])
    return X, R


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--components", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--reg-covar", type=float, default=1e-4)
    parser.add_argument("--data", default=None)
    args = parser.parse_args(argv)
    X, R = data(args)
    n, d = X.shape
    K = R.shape[1]
    print(f"{n:,} rows x {d} features, K = {K}, median of {args.repeat}")
    print(f"| {'step':<13} | {'probssl s':>9} | {'scikit-learn s':>14} | "
          f"{'ratio':>5} | {'max |diff|':>10} |")
    print("|---|---:|---:|---:|---:|")
    for cov_type in ("full", "tied"):
        ev = FullGaussianEvents(cov_type, args.reg_covar)
        ev.shift = X.mean(axis=0)  # as the sources set it

        def ours_m():
            stats = ev.new_stats(K, d)
            ev.add_stats(stats, ev.prepare(X), R)
            return ev.m_step(stats)

        def ref_m():
            _, means, covs = _estimate_gaussian_parameters(
                X, R, args.reg_covar, cov_type)
            return means, covs, _compute_precision_cholesky(covs, cov_type)

        ev._shift = None
        t_ours, _ = median_time(lambda: (setattr(ev, "_shift", None),
                                         ours_m())[1], args.repeat)
        t_ref, (means, covs, prec) = median_time(ref_m, args.repeat)
        diff = np.abs(ev.covariances - covs).max()
        print(f"| {cov_type + ' M-step':<13} | {t_ours:9.3f} | {t_ref:14.3f} "
              f"| {t_ours / t_ref:5.2f} | {diff:10.2e} |")
        gm = GaussianMixture(K, covariance_type=cov_type)
        gm.means_, gm.covariances_ = ev.means, ev.covariances
        gm.precisions_cholesky_ = ev.precisions_cholesky
        t_ours, a = median_time(lambda: ev.log_prob(X), args.repeat)
        t_ref, b = median_time(lambda: gm._estimate_log_prob(X), args.repeat)
        print(f"| {cov_type + ' E-step':<13} | {t_ours:9.3f} | {t_ref:14.3f} "
              f"| {t_ours / t_ref:5.2f} | {np.abs(a - b).max():10.2e} |")


if __name__ == "__main__":
    main()
