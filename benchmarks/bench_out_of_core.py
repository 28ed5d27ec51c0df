"""Out-of-core and Dask EM naive Bayes: time per iteration and peak memory.

Synthetic bag-of-words corpora of 100k to 5M documents are drawn chunk by
chunk from one fixed mixture of multinomials (``--features`` words,
``--classes`` classes, Poisson(``--doc-length``) words per document, 1 %
labeled) and written to a folder of ``.npz`` CSR chunks; the corpus is
never whole in memory. Then, each in a fresh process (so that peaks are the
fit's own):

* **out-of-core**: ``EMNaiveBayes(tol=0, max_iter=n).fit_chunks(NpzChunks)``;
  time per EM iteration (between iteration callbacks: one pass over the
  chunks on disk, E-step + statistics) and the process's peak RSS;
* **dask** (``--dask-docs``): the same fit on a ``LocalCluster`` of
  ``--workers`` single-threaded worker processes, the Dask array built
  from the ``.npz`` files (read on the workers); time per iteration, peak
  RSS of every worker and of the client.

Finally the growth exponent ``b`` of time per iteration ~ n_docs**b
(least squares on the log-log points): 1 is linear.

Usage::

    python benchmarks/bench_out_of_core.py --max-docs 1000000 --dask-docs 1000000
"""

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
import scipy.sparse as sp

SIZES = (100_000, 300_000, 1_000_000, 3_000_000, 5_000_000)


def true_parameters(n_features, n_classes, seed=0):
    rng = np.random.RandomState(seed)
    theta = rng.dirichlet(np.full(n_features, 0.1), size=n_classes)
    theta += 1e-9
    theta /= theta.sum(axis=1, keepdims=True)
    return np.cumsum(theta, axis=1)


def draw_chunk(cdf, n_docs, doc_length, rng, labeled=0.01):
    """``n_docs`` documents from the mixture with word CDFs ``cdf``."""
    n_classes, V = cdf.shape
    y = rng.randint(n_classes, size=n_docs)
    lengths = np.maximum(rng.poisson(doc_length, size=n_docs), 1)
    doc = np.repeat(np.arange(n_docs), lengths)
    words = np.empty(doc.size, dtype=np.int64)
    cls = y[doc]
    for c in range(n_classes):
        m = cls == c
        w = np.searchsorted(cdf[c], rng.random_sample(m.sum()), side="right")
        words[m] = np.minimum(w, V - 1)
    X = sp.csr_matrix((np.ones(doc.size), (doc, words)), shape=(n_docs, V))
    X.sum_duplicates()
    y_obs = np.where(rng.rand(n_docs) < labeled, y, -1)
    return X, y_obs


def generate(folder, n_docs, chunk_rows, args):
    from probssl.chunked import write_npz_chunks

    cdf = true_parameters(args.features, args.classes)
    os.makedirs(folder, exist_ok=True)
    i = 0
    for lo in range(0, n_docs, chunk_rows):
        rng = np.random.RandomState(1000 + i)
        X, y = draw_chunk(cdf, min(chunk_rows, n_docs - lo), args.doc_length,
                          rng)
        i += write_npz_chunks(folder, X, y, chunk_rows, start=i)


def peak_rss_mib():
    # ru_maxrss is in KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def timed_fit(fit, n_iter):
    from probssl import EMNaiveBayes

    stamps = []
    est = EMNaiveBayes(tol=0.0, max_iter=n_iter)
    t0 = time.perf_counter()
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit(est, lambda n, obj: stamps.append(time.perf_counter()))
    total = time.perf_counter() - t0
    per_iter = float(np.median(np.diff(stamps))) if len(stamps) > 1 else total
    return est, total, per_iter


def child_ooc(folder, n_iter):
    from probssl.chunked import NpzChunks, fit_chunked

    chunks = NpzChunks(folder)
    _, total, per_iter = timed_fit(
        lambda est, cb: fit_chunked(est, chunks, callback=cb), n_iter)
    print(json.dumps(dict(total_s=total, per_iter_s=per_iter,
                          peak_rss_mib=peak_rss_mib())))


def _load(path):
    return sp.load_npz(path)


def _load_y(path):
    return np.load(path[:-4] + ".y.npy")


def child_dask(folder, n_iter, workers):
    import dask
    import dask.array as da
    from distributed import Client, LocalCluster

    from probssl.chunked import NpzChunks
    from probssl.distributed import fit_dask

    files = NpzChunks(folder).files
    shapes = [np.load(f[:-4] + ".y.npy", mmap_mode="r").shape[0]
              for f in files]
    V = sp.load_npz(files[0]).shape[1]
    meta = sp.csr_matrix((0, V))
    X = da.concatenate([
        da.from_delayed(dask.delayed(_load)(f), shape=(n, V), dtype=float,
                        meta=meta)
        for f, n in zip(files, shapes)
    ])
    y = da.concatenate([
        da.from_delayed(dask.delayed(_load_y)(f), shape=(n,), dtype=np.int64)
        for f, n in zip(files, shapes)
    ])
    with LocalCluster(n_workers=workers, threads_per_worker=1,
                      processes=True, dashboard_address=None,
                      memory_limit=None) as cluster, Client(cluster) as client:
        client.run(lambda: __import__("probssl.distributed"))
        _, total, per_iter = timed_fit(
            lambda est, cb: fit_dask(est, X, y, client=client, callback=cb),
            n_iter)
        worker_peaks = list(client.run(peak_rss_mib).values())
    print(json.dumps(dict(total_s=total, per_iter_s=per_iter,
                          worker_peak_rss_mib=worker_peaks,
                          client_peak_rss_mib=peak_rss_mib())))


def run_child(*argv):
    out = subprocess.run([sys.executable, __file__, *map(str, argv)],
                         capture_output=True, text=True)
    if out.returncode:
        sys.stderr.write(out.stderr)
        raise SystemExit(out.returncode)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--max-docs", type=int, default=1_000_000)
    p.add_argument("--sizes", type=int, nargs="*", default=None)
    p.add_argument("--dask-docs", type=int, nargs="*", default=[1_000_000])
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--chunk-rows", type=int, default=100_000)
    p.add_argument("--features", type=int, default=10_000)
    p.add_argument("--classes", type=int, default=20)
    p.add_argument("--doc-length", type=float, default=50.0)
    p.add_argument("--iter", type=int, default=4)
    p.add_argument("--dir", default=None, help="scratch folder (temp dir)")
    args = p.parse_args()
    sizes = args.sizes or [n for n in SIZES if n <= args.max_docs]
    root = tempfile.mkdtemp(prefix="probssl_ooc_", dir=args.dir)
    print(f"V={args.features} classes={args.classes} "
          f"doc_length={args.doc_length} chunk_rows={args.chunk_rows} "
          f"iterations={args.iter} cores={os.cpu_count()}")
    print(f"{'docs':>9} {'path':>12} {'nnz':>12} {'gen s':>7} {'s/iter':>8} "
          f"{'peak MiB':>10}  notes")
    points = []
    try:
        for n in sizes:
            folder = os.path.join(root, f"n{n}")
            t0 = time.perf_counter()
            generate(folder, n, args.chunk_rows, args)
            gen = time.perf_counter() - t0
            nnz = sum(sp.load_npz(f).nnz for f in
                      sorted(os.path.join(folder, x) for x in os.listdir(folder)
                             if x.endswith(".npz")))
            r = run_child("--child-ooc", folder, args.iter)
            points.append((n, r["per_iter_s"]))
            print(f"{n:>9} {'out-of-core':>12} {nnz:>12} {gen:>7.1f} "
                  f"{r['per_iter_s']:>8.2f} {r['peak_rss_mib']:>10.0f}  "
                  f"fit total {r['total_s']:.1f} s", flush=True)
            if n in args.dask_docs:
                r = run_child("--child-dask", folder, args.iter, args.workers)
                workers = "/".join(f"{m:.0f}" for m in r["worker_peak_rss_mib"])
                print(f"{n:>9} {'dask':>12} {nnz:>12} {'':>7} "
                      f"{r['per_iter_s']:>8.2f} "
                      f"{r['client_peak_rss_mib']:>10.0f}  (client) workers "
                      f"{workers} MiB; fit total {r['total_s']:.1f} s",
                      flush=True)
            shutil.rmtree(folder)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    if len(points) > 1:
        n, t = np.log(np.array(points)).T
        slope = np.polyfit(n, t, 1)[0]
        print(f"growth exponent (s/iter ~ docs^b), out-of-core: b = {slope:.2f}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child-ooc":
        child_ooc(sys.argv[2], int(sys.argv[3]))
    elif len(sys.argv) > 1 and sys.argv[1] == "--child-dask":
        child_dask(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        main()
