"""The Dask source: blocks prepared once and kept on the workers.

``fit(X, y)`` with a :class:`dask.array.Array` X (rows chunked, chunks
scipy CSR or dense) runs the same engine as in memory (:mod:`probssl._em`)
over this source: a first pass learns the labels, row counts and column
order; every block is then validated and prepared once and persisted on
the workers; every pass after that is one map of the per-block function of
:mod:`probssl._sources` (the parameters scattered once per pass, each
worker fetching them once) and one sum by a fixed binary tree of tasks, so
that only the summed statistics reach the client.

Lost workers are recovered by Dask: blocks are recomputed from the array's
graph. Without a ``distributed.Client`` the same graph runs on Dask's local
scheduler (blocks persisted in this process). Dask is optional
(``pip install "probssl[distributed]"``); this module is imported only
when Dask input is given.
"""

import time

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ._sources import Source, add, prepare_block, scan_block
from ._validation import check_n_rows


def active_client(client=None):
    """``client``, else the active ``distributed`` client, else None."""
    try:
        from distributed import get_client

        return client or get_client()
    except (ImportError, ValueError):  # no distributed, or no client
        return client


def _row_chunked(a, row_chunks):
    import dask.array as da

    return None if a is None else da.asarray(a).reshape(-1).rechunk(
        (row_chunks,))


def _tree_sum(parts, combine):
    """Pairwise sums in a fixed order (the result does not depend on
    where or when the tasks run)."""
    if len(parts) == 1:
        return parts[0]
    half = len(parts) // 2
    return combine(_tree_sum(parts[:half], combine),
                   _tree_sum(parts[half:], combine))


def _kept_block(*args):
    """A block prepared to stay on a worker for the whole fit: counts with
    their rows sorted (a sorted copy), which makes every pass ~25 % faster
    (300k documents: 0.18 against 0.25 s per iteration) for a sort paid
    once; in memory a fit's ~10 passes do not repay it."""
    block = prepare_block(*args)
    if hasattr(block.data, "csr"):
        block.data.csr = block.data.csr.sorted_indices()
    return block


def _call(block, func, args):
    return func(block, *args)


class DaskSource(Source):
    """Row blocks of Dask arrays, held by the cluster."""

    def __init__(self, est, X, y, sample_weight, events, unlabeled_weight=1.0,
                 client=None):
        import dask
        import dask.array as da

        if not isinstance(X, da.Array):
            raise TypeError("a Dask fit needs X as a dask.array.Array, got "
                            f"{type(X).__name__}.")
        if X.ndim != 2:
            raise ValueError(f"X must be 2-D, got shape {X.shape}.")
        X = X.rechunk({1: -1})  # whole rows in every block
        check_n_rows(X.shape[0], "y", np.shape(y)[0])
        y = _row_chunked(y, X.chunks[0])
        w = _row_chunked(sample_weight, X.chunks[0])
        xb, yb = list(X.to_delayed()[:, 0]), list(y.to_delayed())
        wb = list(w.to_delayed()) if w is not None else [None] * len(xb)
        self.client = active_client(client)
        scans = [dask.delayed(scan_block)(xi, yi, est.event_model)
                 for xi, yi in zip(xb, yb)]
        scans = dask.compute(*scans, scheduler=self.client)
        events = self._from_scans(scans, est.event_model, events,
                                  unlabeled_weight)
        name = type(est).__name__
        prepared = [dask.delayed(_kept_block)(xi, yi, wi, name, self.fitted,
                                              events, o)
                    for xi, yi, wi, o in zip(xb, yb, wb, self.offsets)]
        if self.client is not None:
            from distributed import wait

            self.blocks = self.client.compute(prepared)  # on the workers
            wait(self.blocks)
        else:
            self.blocks = dask.persist(*prepared)

    def _broadcast(self, value, retries=5):
        """``value`` on the cluster once: each worker fetches it once for
        all its tasks. (A ``broadcast=True`` scatter can block for good
        when a worker dies while the scheduler still lists it.)"""
        for attempt in range(retries):
            try:
                return self.client.scatter([value], hash=False, timeout=30)[0]
            except (OSError, TimeoutError):  # the worker died meanwhile
                time.sleep(0.5 * (attempt + 1))
        return self.client.scatter([value], hash=False)[0]

    def reduce(self, func, *args, combine=add):
        import dask

        if self.client is None:
            parts = [dask.delayed(func)(b, *args) for b in self.blocks]
            return dask.compute(_tree_sum(parts, dask.delayed(combine)))[0]
        args = self._broadcast(args)
        parts = [self.client.submit(_call, b, func, args, pure=False)
                 for b in self.blocks]
        return _tree_sum(parts, lambda a, b: self.client.submit(
            combine, a, b, pure=False)).result()


def predict_dask(est, X, method="predict"):
    """``est.<method>`` on every row chunk of a Dask array, lazily."""
    check_is_fitted(est)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D, got shape {X.shape}.")
    X = X.rechunk({1: -1})
    # (meta given: else Dask would call the estimator on an empty array)
    if method == "predict":
        shape = dict(drop_axis=1, meta=np.empty(0, est.classes_.dtype))
    else:
        shape = dict(chunks=(X.chunks[0], (len(est.classes_),)),
                     meta=np.empty((0, 0)))
    return X.map_blocks(getattr(est, method), dtype=shape["meta"].dtype,
                        **shape)
