"""EM on Dask arrays: one map and one tree reduction per iteration.

``EMNaiveBayes.fit(X, y)`` and ``MixtureOfExperts.fit(X, y)`` (multinomial,
``init="labeled"``; per chunk the statistics of :mod:`probssl._chunked_moe`)
delegate here when X (or y) is a
:class:`dask.array.Array` with rows in chunks (columns are made whole):
chunks of scipy CSR matrices or dense NumPy blocks of counts, and a Dask (or
NumPy) array of labels. Every EM iteration

1. scatters the parameters ``(log theta, log pi)`` once (each worker
   fetches them once, for all its tasks; not re-sent per task);
2. maps the per-chunk E-step + statistics of :mod:`probssl._chunked` (the
   fused Numba kernel of the in-memory fit) over the chunks, which stay on
   the workers (validated once, then kept in worker memory);
3. sums the statistics by a binary tree of tasks and gathers only the sum
   (a few (V, K) arrays) on the client, where the M-step runs.

The result equals the in-memory fit up to rounding. Lost workers are
recovered by Dask: chunks are recomputed from the array's graph, so the
graph must be able to recompute them (e.g. read from files or from data held
by the client), which is what Dask arrays do.

Without a ``distributed.Client`` the same graph runs on Dask's local
scheduler (chunks persisted in this process).

Dask is an optional dependency (``pip install "probssl[distributed]"``);
this module is imported only when Dask input is given.
"""

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ._chunked import (
    _EVENT_ATTRIBUTES,
    check_estimator_for_chunks,
    chunk_event_model,
    chunk_labels,
    chunk_statistics,
    em_loop,
    merge_labels,
    prepare_chunk,
)

__all__ = ["fit_dask", "predict_dask"]


def _active_client(client=None):
    if client is not None:
        return client
    try:
        from distributed import get_client
    except ImportError:
        return None
    try:
        return get_client()
    except ValueError:  # no client
        return None


def _as_row_chunked(a, row_chunks, name):
    import dask.array as da

    if a is None:
        return None
    if not isinstance(a, da.Array):
        a = np.asarray(a)
        return da.from_array(a, chunks=(row_chunks,))
    if a.ndim != 1:
        a = a.reshape(-1) if a.ndim == 2 and a.shape[1] == 1 else a
    if a.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {a.shape}.")
    if a.chunks[0] != row_chunks:
        a = a.rechunk((row_chunks,))
    return a


def _broadcast(client, params, retries=5):
    """Put ``params`` on the cluster once per iteration.

    One scatter, not one copy per task: each worker fetches the future once
    when its first task needs it and keeps it for the others. (A
    ``broadcast=True`` scatter can block for good when a worker dies while
    the scheduler still lists it; replication on demand cannot.)
    """
    import time

    for attempt in range(retries):
        try:
            [future] = client.scatter([params], hash=False, timeout=30)
            return future
        except (OSError, TimeoutError):  # the chosen worker died meanwhile
            time.sleep(0.5 * (attempt + 1))
    [future] = client.scatter([params], hash=False)
    return future


def _tree_sum(parts, add):
    """Pairwise sums in a fixed order (the result does not depend on
    where or when the tasks run)."""
    while len(parts) > 1:
        nxt = [add(parts[i], parts[i + 1])
               for i in range(0, len(parts) - 1, 2)]
        if len(parts) % 2:
            nxt.append(parts[-1])
        parts = nxt
    return parts[0]


def fit_dask(est, X, y, sample_weight=None, *, client=None, callback=None):
    """Fit ``est`` (an EMNaiveBayes or a MixtureOfExperts, multinomial) on
    Dask arrays.

    Parameters
    ----------
    est : EMNaiveBayes or MixtureOfExperts
        MixtureOfExperts with ``init="labeled"`` only.
    X : dask.array.Array of shape (n_samples, n_features)
        Counts; rows chunked, chunks scipy sparse or dense.
    y : dask.array.Array or array-like of shape (n_samples,)
        Labels, ``-1`` for unlabeled rows.
    sample_weight : dask.array.Array or array-like, default=None
    client : distributed.Client, default=None
        The active client (``distributed.get_client()``) when None; without
        any, Dask's local scheduler runs the same graph.
    callback : callable, default=None
        ``callback(n_iter, objective)`` after every iteration (on the
        client).

    Returns
    -------
    est
        Fitted as by ``est.fit`` on the computed arrays (up to rounding),
        without ``transduction_``.
    """
    from .mixture_of_experts import MixtureOfExperts

    moe = isinstance(est, MixtureOfExperts)
    if moe:
        from ._chunked_moe import check_moe_for_chunks

        check_moe_for_chunks(est)
        uw = 1.0
        extra = ("class_table_", "weights_")
    else:
        check_estimator_for_chunks(est)
        uw = float(est.unlabeled_weight)
        extra = ()
    for name in _EVENT_ATTRIBUTES + extra:
        est.__dict__.pop(name, None)
    cluster = _DaskChunks(X, y, sample_weight, client, uw,
                          chunk_event_model(est), est.binarize)
    est.classes_ = cluster.classes
    if moe:
        return _fit_moe(est, cluster, callback)
    return _fit_naive_bayes(est, cluster, callback)


class _DaskChunks:
    """Validated row chunks held by the cluster, and one map + tree sum."""

    def __init__(self, X, y, sample_weight, client, unlabeled_weight,
                 event_model, binarize):
        import dask
        import dask.array as da

        if not isinstance(X, da.Array):
            raise TypeError("fit_dask needs X as a dask.array.Array.")
        if X.ndim != 2:
            raise ValueError(f"X must be 2-D, got shape {X.shape}.")
        if len(X.chunks[1]) > 1:
            X = X.rechunk({1: -1})
        row_chunks = X.chunks[0]
        y = _as_row_chunked(y, row_chunks, "y")
        w = _as_row_chunked(sample_weight, row_chunks, "sample_weight")
        if y.shape[0] != X.shape[0]:
            raise ValueError("X and y have inconsistent numbers of rows.")
        V = X.shape[1]
        xb = list(X.to_delayed()[:, 0])
        yb = list(y.to_delayed())
        wb = list(w.to_delayed()) if w is not None else [None] * len(xb)
        self.client = client = _active_client(client)
        labels = [dask.delayed(chunk_labels)(yi, wi) for yi, wi in zip(yb, wb)]
        self.parts = (client.gather(client.compute(labels))
                      if client is not None else dask.compute(*labels))
        self.classes, _ = merge_labels(self.parts)
        prepared = [
            dask.delayed(prepare_chunk)(xi, yi, wi, self.classes,
                                        unlabeled_weight, V, event_model,
                                        binarize)
            for xi, yi, wi in zip(xb, yb, wb)
        ]
        if client is not None:
            from distributed import wait

            self.chunks = client.compute(prepared)  # stay on the workers
            wait(self.chunks)
        else:
            self.chunks = dask.persist(*prepared)

    def map(self, func, per_chunk, *args):
        """``func(chunk, *args, extra)`` per chunk (``per_chunk``: one
        extra per chunk), then the mapped values summed pairwise."""
        import dask

        client = self.client
        if client is None:
            f = dask.delayed(func, pure=True)
            add = dask.delayed(_add, pure=True)
            parts = [f(c, *args, e) for c, e in zip(self.chunks, per_chunk)]
            return dask.compute(_tree_sum(parts, add))[0]
        if args and args[0] is not None:  # parameters: on the cluster once
            args = (_broadcast(client, args[0]),) + args[1:]
        parts = [client.submit(func, c, *args, e, pure=False)
                 for c, e in zip(self.chunks, per_chunk)]
        total = _tree_sum(
            parts, lambda a, b: client.submit(_add, a, b, pure=False))
        return total.result()

    def gather(self, func, *args):
        """``func(chunk, *args)`` for every chunk, gathered in order."""
        import dask

        if self.client is None:
            f = dask.delayed(func, pure=True)
            return list(dask.compute(*[f(c, *args) for c in self.chunks]))
        return self.client.gather(
            [self.client.submit(func, c, *args, pure=False)
             for c in self.chunks])


def _add(a, b):
    return tuple(x + y for x, y in zip(a, b))


def _fit_naive_bayes(est, cluster, callback):
    n_classes = len(cluster.classes)
    M = est.n_components_per_class
    spreads = [None] * len(cluster.chunks)
    if M > 1:  # the in-memory fit's draws, in row order
        from sklearn.utils import check_random_state

        rng = check_random_state(est.random_state)
        spreads = [rng.random_sample((int(p[1]), M)) for p in cluster.parts]

    def pass_statistics(params):
        return cluster.map(chunk_statistics, spreads, params, n_classes, M)

    return em_loop(est, pass_statistics, n_classes, callback)


def _fit_moe(est, cluster, callback):
    from sklearn.utils import check_random_state

    from ._chunked_moe import (chunk_class_counts, moe_chunk_statistics,
                               moe_em, n_components_of, spread_blocks)

    C = len(cluster.classes)
    J = n_components_of(est, C)
    counts = np.array(cluster.gather(chunk_class_counts, C))
    rng = check_random_state(est.random_state)
    none = [None] * len(cluster.chunks)

    def pass_statistics(params, run):
        blocks = (spread_blocks(counts[:, :C], C, J, rng)
                  if params is None and J > C else none)
        return cluster.map(moe_chunk_statistics, blocks, params, C, J)

    return moe_em(est, pass_statistics, C, J, bool(counts[:, C].sum()),
                  callback)


def _predict_block(block, est, method):
    return getattr(est, method)(block)


def predict_dask(est, X, method="predict"):
    """``est.<method>`` on every row chunk of a Dask array, lazily."""
    import dask.array as da

    check_is_fitted(est)
    if not isinstance(X, da.Array) or X.ndim != 2:
        raise ValueError("predict_dask needs a 2-D dask.array.Array.")
    if len(X.chunks[1]) > 1:
        X = X.rechunk({1: -1})
    if method == "predict":
        dtype = est.classes_.dtype
        return X.map_blocks(
            _predict_block, est, method, drop_axis=1, dtype=dtype,
            meta=np.empty((0,), dtype=dtype),
        )
    return X.map_blocks(
        _predict_block, est, method, dtype=np.float64,
        chunks=(X.chunks[0], (len(est.classes_),)),
        meta=np.empty((0, 0), dtype=np.float64),
    )
