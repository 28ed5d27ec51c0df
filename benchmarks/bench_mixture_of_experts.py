"""MixtureOfExperts EM iteration speed against plain NumPy/SciPy (EM-I).

Seed protocol data of 20 Newsgroups (draw 0: 1,200 labeled posts, 7,646
unlabeled), J = 20 components started from the labels (one per class: the
start is then deterministic, so both sides run the very same iterations),
on both inputs:

* counts (``CountVectorizer(stop_words="english", min_df=2)``, multinomial,
  ``alpha=0.01``): the reference does the E-step ``X @ log theta`` and the
  M-step ``X.T @ R`` with SciPy, the class tables with NumPy;
* MiniLM embeddings (``--data``, via the ``SentenceEmbedder`` cache;
  Gaussian, diagonal): the reference uses scikit-learn's matrix-product
  formulas (``GaussianMixture``'s), not an (n, J, d) broadcast.

Time per iteration from the difference between ``n_hi`` and ``n_lo``
iterations (setup cancels), best of ``--repeat``; the largest difference in
the class tables after ``n_hi`` iterations is printed too.

    python benchmarks/bench_mixture_of_experts.py --data ../shared/data/20news-bydate.tar.gz
"""

import argparse
import time
import warnings

import numpy as np
from scipy.special import logsumexp


def _start(y, J, C):
    """``init="labeled"`` with one component per class: labeled rows on
    their class's component, unlabeled rows at zero weight."""
    if J != C:
        raise ValueError("the reference start needs one component per class")
    labeled = y >= 0
    R = np.zeros((y.size, J))
    rows = np.flatnonzero(labeled)
    R[rows, y[rows]] = 1.0
    return R, labeled


def reference_em1(X, y, J, n_iter, kind, alpha=0.01, reg_covar=1e-4):
    C = int(y.max()) + 1
    R, labeled = _start(y, J, C)
    onehot = np.zeros((y.size, C))
    onehot[np.flatnonzero(labeled), y[labeled]] = 1.0
    if kind == "counts":
        Xt = X.T.tocsr()
    for _ in range(n_iter):
        nk = R.sum(axis=0)
        log_w = np.log(nk) - np.log(nk.sum())
        lab_mass = R[labeled].T @ onehot[labeled]  # (J, C)
        beta = lab_mass / np.maximum(lab_mass.sum(1, keepdims=True), 1e-300)
        if kind == "counts":
            counts = Xt @ R
            log_theta = np.log(alpha + counts) - np.log(
                alpha * X.shape[1] + counts.sum(0))
            jll = X @ log_theta
        else:
            mu = R.T @ X / nk[:, None]
            var = R.T @ (X * X) / nk[:, None] - mu**2 + reg_covar
            prec = 1.0 / var
            jll = -0.5 * (X.shape[1] * np.log(2 * np.pi) + np.log(var).sum(1)
                          + (mu**2 * prec).sum(1) - 2 * X @ (mu * prec).T
                          + (X * X) @ prec.T)
        jll = jll + log_w
        with np.errstate(divide="ignore"):
            jll[labeled] += np.log(beta[:, y[labeled]].T)
        R = np.exp(jll - logsumexp(jll, axis=1, keepdims=True))
    return beta


def probssl_em1(X, y, J, n_iter, kind, alpha=0.01, reg_covar=1e-4):
    from probssl import MixtureOfExperts

    event = ({"alpha": alpha} if kind == "counts"
             else {"event_model": "gaussian", "reg_covar": reg_covar})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = MixtureOfExperts(n_components=J, tol=0.0, max_iter=n_iter,
                               random_state=0, **event).fit(X, y)
    return clf.class_table_


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--components", type=int, default=20)
    parser.add_argument("--n-lo", type=int, default=3)
    parser.add_argument("--n-hi", type=int, default=13)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    from sklearn.feature_extraction.text import CountVectorizer

    from probssl import SentenceEmbedder
    from probssl.datasets import load_20newsgroups
    from probssl.experiments.seed import split

    corpus = load_20newsgroups("all", archive=args.data)
    test, lab, unl = split(len(corpus.target), 0)
    rows = np.concatenate([lab, unl])
    y = np.concatenate([corpus.target[lab], np.full(unl.size, -1)])
    texts = [corpus.data[i] for i in rows]
    inputs = {
        "counts": CountVectorizer(stop_words="english", min_df=2)
        .fit_transform(texts).astype(np.float64),
        "embeddings": SentenceEmbedder().transform(corpus.data)[rows]
        .astype(np.float64),
    }
    for kind, X in inputs.items():
        probssl_em1(X, y, args.components, 2, kind)  # warm-up
        best = {}
        for _ in range(args.repeat):
            for n_iter in (args.n_lo, args.n_hi):
                for name, fn in (("reference", reference_em1),
                                 ("probssl", probssl_em1)):
                    start = time.perf_counter()
                    fn(X, y, args.components, n_iter, kind)
                    t = time.perf_counter() - start
                    best[name, n_iter] = min(best.get((name, n_iter), np.inf), t)
        per = {name: (best[name, args.n_hi] - best[name, args.n_lo])
               / (args.n_hi - args.n_lo) for name in ("reference", "probssl")}
        diff = np.abs(reference_em1(X, y, args.components, args.n_hi, kind)
                      - probssl_em1(X, y, args.components, args.n_hi, kind)).max()
        print(f"{kind:10s} {X.shape}: reference {1e3 * per['reference']:7.1f} ms"
              f"/iteration, probssl {1e3 * per['probssl']:7.1f} ms/iteration, "
              f"speed-up {per['reference'] / per['probssl']:.2f}x; max |class "
              f"table difference| {diff:.1e}")


if __name__ == "__main__":
    main()
