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

import collections

import numpy as np

# The incremental E-step leaves a row alone while a lower bound on the lead
# of its best component stays above this many nats (the runner-up's share
# is then below 1e-17).
SATURATED = 40.0

# What csr_scan finds (bits of its result).
CSR_MALFORMED = 1   # indptr decreasing or past the end, an index out of range
CSR_NONFINITE = 2   # a NaN or infinite value
CSR_NEGATIVE = 4    # a negative value
CSR_DUPLICATES = 8  # a column twice in a row
CSR_UNSORTED = 16   # a row's columns not in increasing order

__all__ = [
    "SATURATED",
    "zeros",
    "balanced_chunks",
    "n_threads",
    "launch_threads",
    "csr_has_duplicates",
    "csr_scan",
    "csr_relabel",
    "order_by_count",
    "csr_dense_dot",
    "table_posterior",
    "csr_posterior_incremental",
    "csr_scatter_rows",
    "log_stats_full",
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
    :class:`probssl._events.CountBlock` sorts as it reorders the columns).
    A matrix :func:`checked_csr` made is returned as it is."""
    import scipy.sparse as sp

    from ._numba import csr_has_duplicates

    if scan_of(X) is not None:
        return X
    X = sp.csr_matrix(X, dtype=np.float64)
    if not X.has_sorted_indices and csr_has_duplicates(
            X.indptr, X.indices, X.shape[1]):
        X = X.copy()
        X.sum_duplicates()
    if X.indices.dtype != np.int32 and X.nnz < np.iinfo(np.int32).max:
        X = sp.csr_matrix((X.data, X.indices.astype(np.int32),
                           X.indptr.astype(np.int64)), shape=X.shape)
    return X


# What csr_scan learnt of a matrix: row sums, non-zeros per column (None
# where not counted), and whether every row's columns increase.
CSRScan = collections.namedtuple("CSRScan", "lengths col_nnz sorted")


def checked_csr(X, non_negative, count_columns):
    """X (a CSR matrix or array) as :func:`to_kernel_csr` makes it, checked
    in one pass (:func:`csr_scan`), or None where the pass found anything
    that the full checks must report (a malformed structure, a value that
    is not finite, or negative with ``non_negative``), a column twice in a
    row, or arrays of unusual types. The result carries what the pass
    learnt (:func:`scan_of`; ``count_columns``: the non-zeros per
    column too), so that nothing reads X again to learn it."""
    import scipy.sparse as sp

    from ._numba import csr_scan

    n, d = X.shape
    indptr, indices, data = X.indptr, X.indices, X.data
    if (n < 1 or d < 1 or indptr.ndim != 1 or indices.ndim != 1
            or data.ndim != 1 or indptr.dtype.kind != "i"
            or indices.dtype.kind != "i" or data.dtype.kind not in "biuf"
            or indptr.shape[0] != n + 1 or indices.shape[0] != data.shape[0]
            or indptr[0] != 0 or indptr[-1] != indices.shape[0]):
        return None
    if data.dtype != np.float64:
        data = data.astype(np.float64)
    lengths = np.empty(n)
    col_nnz = np.zeros(d if count_columns else 0, dtype=np.int64)
    found = csr_scan(indptr, indices, data, d, lengths, col_nnz)
    if found & (CSR_MALFORMED | CSR_NONFINITE | CSR_DUPLICATES) or (
            non_negative and found & CSR_NEGATIVE):
        return None
    if indices.dtype != np.int32 and indices.shape[0] < np.iinfo(
            np.int32).max and d <= np.iinfo(np.int32).max:
        indices, indptr = indices.astype(np.int32), indptr.astype(np.int64)
    out = sp.csr_matrix((data, indices, indptr), shape=(n, d), copy=False)
    ordered = not found & CSR_UNSORTED
    out.has_sorted_indices = ordered
    if ordered:
        out.has_canonical_format = True  # (no duplicates: checked above)
    out._probssl_scan = CSRScan(lengths, col_nnz if count_columns else None,
                                ordered)
    return out


def scan_of(X):
    """What :func:`checked_csr` learnt of X, or None for another X."""
    return getattr(X, "_probssl_scan", None)


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
