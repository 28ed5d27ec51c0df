"""Numba kernels: the loops over non-zeros and over rows, and nothing else.

The kernels live in :mod:`probssl._kernels._numba`, imported (with Numba,
a tenth of ``import probssl``) the first time one is used: ``import
probssl`` alone, the embedder or the data loaders do not pay for it. Here
only what needs no Numba: the saturation threshold of the incremental
E-step and the NumPy helpers that prepare kernel input.

Every kernel takes plain NumPy arrays (the three arrays of a CSR matrix,
dense parameter blocks) and writes into preallocated outputs, so the
estimators stay free of loops and the kernels free of estimator logic.
Threads, fork safety and the on-disk cache: :mod:`probssl._kernels._numba`;
how many threads a launch takes: :mod:`probssl._threads`.
"""

import numpy as np

# The incremental E-step leaves a row alone while a lower bound on the lead
# of its best component stays above this many nats (the runner-up's share
# is then below 1e-17).
SATURATED = 40.0

__all__ = [
    "SATURATED",
    "zeros",
    "balanced_chunks",
    "n_threads",
    "csr_has_duplicates",
    "csr_dense_dot",
    "table_posterior",
    "csr_posterior_incremental",
    "csr_scatter_rows",
    "log_stats_update",
]


def __getattr__(name):
    """A kernel (or ``n_threads``), from :mod:`._numba` on first use."""
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from . import _numba

    return getattr(_numba, name)


def to_kernel_csr(X):
    """Return X as CSR float64 with int32 index arrays and no column twice
    in a row (unsorted rows are sorted only where the kernels need it:
    :class:`probssl._events.CountBlock` sorts as it reorders the columns)."""
    import scipy.sparse as sp

    from ._numba import csr_has_duplicates

    X = sp.csr_matrix(X, dtype=np.float64)
    if not X.has_sorted_indices and csr_has_duplicates(
            X.indptr, X.indices, X.shape[1]):
        X = X.copy()
        X.sum_duplicates()
    if X.indices.dtype != np.int32 and X.nnz < np.iinfo(np.int32).max:
        X = sp.csr_matrix((X.data, X.indices.astype(np.int32),
                           X.indptr.astype(np.int64)), shape=X.shape)
    return X


def zeros(shape):
    """``np.zeros`` with its pages already mapped, for outputs a parallel
    kernel writes in random order: calloc's lazily mapped pages, faulted
    in one at a time by several threads, cost ~30 ms for two (53k, 20)
    arrays here, against ~3 ms for this sequential fill."""
    return np.full(shape, 0.0)


def balanced_chunks(indptr, n_chunks=64):
    """Boundaries of at most ``n_chunks`` ranges with ~equal non-zeros.

    Plain NumPy (a search over ``indptr``), used to prepare kernel input.
    """
    n = indptr.shape[0] - 1
    targets = np.linspace(0, indptr[-1], n_chunks + 1)
    bounds = np.searchsorted(indptr, targets, side="left").astype(np.int64)
    bounds[0], bounds[-1] = 0, n
    return np.unique(bounds)
