"""SentenceEmbedder backends: speed, closeness to torch float32, accuracy.

Every available (backend, quantize) pair encodes the same posts of 20
Newsgroups (train split): the first ``--speed`` posts are timed ``--repeat``
times, interleaved across backends so that a busy machine slows all of them
alike (the ratio to torch float32 is taken within each repeat); the mean
cosine to torch float32 is computed row by row; the downstream accuracy is
LogisticRegression and GaussianNB fitted on the embeddings of ``--labeled``
posts of a ``--subset`` drawn once (seed 0) and scored on the rest.

    PROBSSL_HOME=/tmp/ph nice -n 10 python benchmarks/bench_embedder.py \\
        --data ../shared/data/20news-bydate.tar.gz

Nothing is cached (``cache_dir=False``); exported ONNX / OpenVINO models are
kept under ``$PROBSSL_HOME/models``. Backends whose packages are missing are
listed with the reason.
"""

import argparse
import time

import numpy as np

CONFIGS = [("torch", None), ("torch", "int8"), ("onnx", None),
           ("onnx", "int8"), ("openvino", None)]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="../shared/data/20news-bydate.tar.gz")
    ap.add_argument("--subset", type=int, default=2000)
    ap.add_argument("--labeled", type=int, default=600)
    ap.add_argument("--speed", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=64)
    args = ap.parse_args(argv)

    from sklearn.linear_model import LogisticRegression
    from sklearn.naive_bayes import GaussianNB

    from probssl import SentenceEmbedder
    from probssl.datasets import load_20newsgroups

    train = load_20newsgroups("train", archive=args.data)
    rng = np.random.default_rng(0)
    idx = rng.permutation(len(train.data))[: args.subset]
    texts = [train.data[i] for i in idx]
    y = np.asarray(train.target)[idx]
    n_speed = min(args.speed, len(texts))

    embedders, skipped = {}, {}
    for backend, quantize in CONFIGS:
        e = SentenceEmbedder(backend=backend, quantize=quantize,
                             cache_dir=False, batch_size=args.batch_size,
                             show_progress=False)
        try:
            t0 = time.perf_counter()
            e.transform(texts[:2])  # load (and export once) before timing
            print(f"{backend}/{quantize or 'fp32'}: ready in "
                  f"{time.perf_counter() - t0:.1f} s", flush=True)
        except ImportError as exc:
            skipped[(backend, quantize)] = str(exc).split(" Install")[0]
            continue
        embedders[(backend, quantize)] = e

    rates = {k: [] for k in embedders}
    emb = {}
    for rep in range(args.repeat):
        for k, e in embedders.items():
            t0 = time.perf_counter()
            X = e.transform(texts[:n_speed])
            rates[k].append(n_speed / (time.perf_counter() - t0))
            emb.setdefault(k, X)
            print(f"repeat {rep + 1} {k[0]}/{k[1] or 'fp32'}: "
                  f"{rates[k][-1]:.1f} posts/s", flush=True)
    for k, e in embedders.items():
        rest = e.transform(texts[n_speed:]) if len(texts) > n_speed else None
        emb[k] = emb[k] if rest is None else np.vstack([emb[k], rest])

    ref = emb[("torch", None)]
    lab = np.arange(len(texts)) < args.labeled
    print()
    print(f"20 Newsgroups train, {len(texts)} posts drawn with seed 0 "
          f"(a subset): speed on {n_speed} posts x {args.repeat} repeats, "
          f"accuracy: {lab.sum()} labeled / {(~lab).sum()} test")
    print("| backend | quantize | posts/s (repeats) | × torch fp32 (same repeat) "
          "| mean cosine to torch fp32 (min) | LogReg acc | GaussianNB acc |")
    print("|---|---|---|---|---|---|---|")
    base = rates[("torch", None)]
    for k in embedders:
        X = emb[k]
        cos = np.sum(X * ref, axis=1) / (np.linalg.norm(X, axis=1)
                                          * np.linalg.norm(ref, axis=1))
        lr = LogisticRegression(max_iter=2000).fit(X[lab], y[lab])
        nb = GaussianNB().fit(X[lab], y[lab])
        acc_lr = (lr.predict(X[~lab]) == y[~lab]).mean()
        acc_nb = (nb.predict(X[~lab]) == y[~lab]).mean()
        ratio = ", ".join(f"{r / b:.2f}" for r, b in zip(rates[k], base))
        speed = ", ".join(f"{r:.1f}" for r in rates[k])
        print(f"| {k[0]} | {k[1] or 'fp32'} | {speed} | {ratio} | "
              f"{cos.mean():.4f} ({cos.min():.4f}) | {acc_lr:.3f} | "
              f"{acc_nb:.3f} |")
    for k, why in skipped.items():
        print(f"| {k[0]} | {k[1] or 'fp32'} | not available: {why} |")


if __name__ == "__main__":
    main()
