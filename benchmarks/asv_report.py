"""Ratio table of the asv suite, run once in-process (asv not needed).

For every class of ``benchmarks/benchmarks.py`` and size ``n``: ``setup``,
then ``time_fit`` and ``time_predict_proba`` (min of ``--repeat``) and
``track_accuracy``. Printed:

* per probssl estimator and size: its fit time, each peer's, and the ratio
  probssl / peer (below 1: probssl is faster);
* the cost growth exponent of every class: the slope of log(fit time)
  against log(n) over the synthetic sizes;
* the physical limit of a multinomial EM iteration: the bytes it must
  touch (nnz x 12 B x 2 passes + 2 x V x K x 8 B of parameters read and
  written + n x K x 8 B x 2 of responsibilities) over this machine's memory
  bandwidth (a NumPy copy of a 512 MiB array: 2 x nbytes / time), against
  the measured time per iteration ((fit of ITERS + 10) - (fit of ITERS)) / 10.

``--large`` adds a synthetic multinomial run from 10k to 1M documents
(generated once, ~15 s and a few GB) for the growth exponent of
EMNaiveBayes and the SciPy reference, and the limit line at 1M.

    python benchmarks/asv_report.py [--large] [--repeat 3] [--only NAME ...]
"""

import argparse
import os
import sys
import time
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks import benchmarks as B  # noqa: E402


def best_of(fn, repeat):
    best = np.inf
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def growth_exponent(sizes, times):
    pts = [(n, t) for n, t in zip(sizes, times)
           if isinstance(n, int) and np.isfinite(t)]
    if len(pts) < 2:
        return np.nan
    n, t = np.array(pts, dtype=float).T
    return np.polyfit(np.log(n), np.log(t), 1)[0]


def memory_bandwidth(nbytes=2**29, repeat=5):
    a = np.ones(nbytes // 8)
    b = np.empty_like(a)
    t = best_of(lambda: np.copyto(b, a), repeat)
    return 2 * a.nbytes / t


def em_bytes(X, K):
    n, V = X.shape
    return X.nnz * 12 * 2 + 2 * V * K * 8 + n * K * 8 * 2


def em_iteration_time(X, y, repeat, lo=B.ITERS, extra=10):
    from probssl import EMNaiveBayes

    def fit(k):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            EMNaiveBayes(alpha=B.ALPHA, tol=0.0, max_iter=k).fit(X, y)

    fit(1)
    t_lo = best_of(lambda: fit(lo), repeat)
    t_hi = best_of(lambda: fit(lo + extra), repeat)
    return max(t_hi - t_lo, 0.0) / extra


def limit_line(label, X, y, bw, repeat):
    need = em_bytes(X, B.N_CLASSES) / bw
    got = em_iteration_time(X, y, repeat)
    print(f"  {label:>9}: limit {1e3 * need:8.2f} ms vs measured "
          f"{1e3 * got:8.2f} ms ({got / need:5.1f}x above)  "
          f"[{X.shape[0]} x {X.shape[1]}, nnz {X.nnz}]")


def run_suite(data, repeat, only):
    results = {}  # class name -> {n: dict}
    for cls in B.SUITE:
        name = cls.__name__
        if only and not any(o.lower() in name.lower() for o in only):
            continue
        results[name] = {}
        for n in cls.params[0]:
            bench = cls()
            try:
                bench.setup(data, n)
            except NotImplementedError:
                continue
            row = {"fit": best_of(bench.fit, repeat)}
            if hasattr(bench, "time_predict_proba"):
                row["predict"] = best_of(
                    lambda: bench.time_predict_proba(data, n), repeat)
                row["accuracy"] = bench.track_accuracy(data, n)
            results[name][n] = row
            print(f"  {name:28s} n={n!s:>6}  fit {row['fit']:8.3f} s"
                  + (f"  predict {row['predict']:7.4f} s  acc "
                     f"{row['accuracy']:.3f}" if "predict" in row else ""),
                  file=sys.stderr, flush=True)
    return results


def print_tables(results):
    peers = {}
    for cls in B.SUITE:
        if cls.peer_of and cls.__name__ in results:
            peers.setdefault(cls.peer_of, []).append(cls.__name__)
    print(f"\nfit time, {B.ITERS} EM iterations / rounds (min of repeats); "
          "ratio = probssl / peer (< 1: probssl faster)")
    print(f"{'estimator':28s} {'n':>6} {'probssl s':>10} {'acc':>6}  "
          f"{'peer':26s} {'peer s':>9} {'acc':>6} {'ratio':>7}")
    for name, rows in results.items():
        if B.SUITE[[c.__name__ for c in B.SUITE].index(name)].peer_of:
            continue
        for n, row in rows.items():
            acc = row.get("accuracy", np.nan)
            first = f"{name:28s} {n!s:>6} {row['fit']:10.3f} {acc:6.3f}"
            lines = 0
            for peer in peers.get(name, []):
                prow = results[peer].get(n)
                if prow is None:
                    continue
                pacc = prow.get("accuracy", np.nan)
                print(f"{first if lines == 0 else ' ' * len(first)}  "
                      f"{peer:26s} {prow['fit']:9.3f} {pacc:6.3f} "
                      f"{row['fit'] / prow['fit']:7.3f}")
                lines += 1
            if lines == 0:
                print(first)
    print("\npredict_proba on the held-out rows (n = largest size):")
    for name, rows in results.items():
        numeric = [n for n in rows if isinstance(n, int)]
        if numeric and "predict" in rows[max(numeric)]:
            print(f"  {name:28s} {1e3 * rows[max(numeric)]['predict']:9.2f} ms")
    print("\ncost growth exponent (slope of log fit time vs log n, "
          f"n = {', '.join(map(str, B.SIZES))}):")
    for name, rows in results.items():
        sizes = list(rows)
        exp = growth_exponent(sizes, [rows[n]["fit"] for n in sizes])
        print(f"  {name:28s} {exp:6.2f}")


def large(repeat, bw):
    from probssl import EMNaiveBayes

    print("\n--large: synthetic multinomial, 10k -> 1M documents "
          f"({B.ITERS} EM iterations)")
    start = time.perf_counter()
    X, y_true = B.make_counts(1_000_000, seed=2)
    print(f"  generated 1M x {X.shape[1]}, nnz {X.nnz} in "
          f"{time.perf_counter() - start:.1f} s")
    sizes = [10_000, 100_000, 1_000_000]
    times = {"EMNaiveBayes": [], "reference_em (SciPy)": []}
    for n in sizes:
        Xn, yn = X[:n], B._mask(y_true[:n])

        def ours():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                EMNaiveBayes(alpha=B.ALPHA, tol=0.0,
                             max_iter=B.ITERS).fit(Xn, yn)

        ours()
        reps = repeat if n < 1_000_000 else 1
        t_ours = best_of(ours, reps)
        t_ref = best_of(lambda: B.reference_em(Xn, yn, B.ITERS, B.ALPHA), reps)
        times["EMNaiveBayes"].append(t_ours)
        times["reference_em (SciPy)"].append(t_ref)
        print(f"  n={n:>8}: probssl {t_ours:7.3f} s, reference {t_ref:7.3f} s,"
              f" ratio {t_ours / t_ref:.3f}", flush=True)
    for name, t in times.items():
        print(f"  growth exponent {name:22s} {growth_exponent(sizes, t):6.2f}")
    limit_line("n=1M", X, B._mask(y_true), bw, 1)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--large", action="store_true",
                        help="add the 10k -> 1M multinomial growth run")
    parser.add_argument("--only", nargs="*",
                        help="substrings of the class names to run")
    args = parser.parse_args(argv)

    import numba

    print(f"probssl asv suite in-process: {B.ITERS} iterations, sizes "
          f"{B.SIZES}, {B.N_TEST} held-out rows, numba threads "
          f"{numba.get_num_threads()}")
    start = time.perf_counter()
    data = B.make_data()
    print(f"data generated in {time.perf_counter() - start:.1f} s")
    results = run_suite(data, args.repeat, args.only)
    print_tables(results)

    bw = memory_bandwidth()
    print(f"\nmultinomial EM iteration, physical limit (memory bandwidth "
          f"{bw / 1e9:.1f} GB/s, NumPy copy of 512 MiB):")
    for n, (X, y, _, _) in data["counts"].items():
        limit_line(f"n={n}", X, y, bw, args.repeat)
    if args.large:
        large(args.repeat, bw)


if __name__ == "__main__":
    main()
