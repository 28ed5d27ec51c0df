"""Numba kernels: the loops over non-zeros and over rows, and nothing else.

Every kernel takes plain NumPy arrays (the three arrays of a CSR or CSC
matrix, dense parameter blocks) and writes into preallocated outputs, so the
estimators stay free of loops and the kernels free of estimator logic.

Parallel kernels loop over ``chunks``: contiguous ranges of rows (CSR) or
columns (CSC) holding about the same number of non-zeros, so that threads
get equal work even when a few words carry most of the counts. Each output
row is written by one thread and summed in a fixed order: results do not
depend on the number of threads or on the chunking.
"""

import numpy as np
from numba import njit, prange

__all__ = [
    "balanced_chunks",
    "csr_dense_dot",
    "csr_dense_dot_posterior",
    "csc_multinomial_log_theta",
    "clamped_posterior",
]


def balanced_chunks(indptr, n_chunks=64):
    """Boundaries of at most ``n_chunks`` ranges with ~equal non-zeros.

    Plain NumPy (a search over ``indptr``), used to prepare kernel input.
    """
    n = indptr.shape[0] - 1
    targets = np.linspace(0, indptr[-1], n_chunks + 1)
    bounds = np.searchsorted(indptr, targets, side="left").astype(np.int64)
    bounds[0], bounds[-1] = 0, n
    return np.unique(bounds)


_LOG_FLUSH = -690.0  # log(1e-300)


@njit(inline="always")
def _row_dot(lo, hi, indices, data, dense, out_row):
    """out_row = sum over non-zeros p in [lo, hi) of data[p] * dense[indices[p]]."""
    n_cols = dense.shape[1]
    for k in range(n_cols):
        out_row[k] = 0.0
    for p in range(lo, hi):
        x = data[p]
        row = dense[indices[p]]
        for k in range(n_cols):
            out_row[k] += x * row[k]


@njit(inline="always")
def _posterior_row(jll_row, log_prior, c, n_per_class, w, resp_row):
    """Turn one row of log p(x | k) into weighted responsibilities in place.

    Only components ``c * n_per_class ... (c + 1) * n_per_class - 1`` are
    allowed when ``c >= 0`` (a labeled row); all are when ``c < 0``.
    ``jll_row`` and ``resp_row`` may be the same array. Returns
    ``w * log sum_k pi_k p(x | k)`` over the allowed components (-inf when
    none has prior mass; 0 for a weightless row).
    """
    n_components = jll_row.shape[0]
    if w == 0.0:
        for k in range(n_components):
            resp_row[k] = 0.0
        return 0.0
    if c >= 0:
        lo = c * n_per_class
        hi = lo + n_per_class
    else:
        lo = 0
        hi = n_components
    m = -np.inf
    for k in range(lo, hi):
        v = jll_row[k] + log_prior[k]
        if v > m:
            m = v
    if m == -np.inf:
        for k in range(n_components):
            resp_row[k] = 0.0
        return -np.inf
    total = 0.0
    for k in range(n_components):
        e = 0.0
        if k >= lo and k < hi:
            d = jll_row[k] + log_prior[k] - m
            # Flush probabilities under 1e-300 to zero: they cannot change
            # any parameter (alpha + 1e-300 == alpha), but as subnormal
            # numbers they would slow every later product by a factor 10+.
            if d > _LOG_FLUSH:
                e = np.exp(d)
                total += e
        resp_row[k] = e
    scale = w / total
    for k in range(lo, hi):
        resp_row[k] *= scale
    return w * (m + np.log(total))


@njit(parallel=True, cache=True)
def csr_dense_dot(chunks, indptr, indices, data, dense, out):
    """out[i, k] = sum_j X[i, j] * dense[j, k] for a CSR matrix X.

    With ``dense = log theta`` of shape (n_features, n_components) this is the
    multinomial log-likelihood ``X @ log theta`` (without the multinomial
    coefficient): each non-zero reads one contiguous row of ``dense``.
    """
    for c in prange(chunks.shape[0] - 1):
        for i in range(chunks[c], chunks[c + 1]):
            _row_dot(indptr[i], indptr[i + 1], indices, data, dense, out[i])


@njit(parallel=True, cache=True)
def csr_dense_dot_posterior(chunks, indptr, indices, data, dense, log_prior,
                            row_class, n_per_class, weights, resp,
                            row_loglik):
    """Fused multinomial E-step: ``X @ log theta``, then the posterior.

    Row i's log-likelihoods are turned into weighted responsibilities while
    still in cache (see :func:`clamped_posterior` for the rules);
    ``row_loglik[i]`` receives the row's weighted log marginal likelihood.
    """
    for c in prange(chunks.shape[0] - 1):
        for i in range(chunks[c], chunks[c + 1]):
            r = resp[i]
            _row_dot(indptr[i], indptr[i + 1], indices, data, dense, r)
            row_loglik[i] = _posterior_row(
                r, log_prior, row_class[i], n_per_class, weights[i], r
            )


@njit(parallel=True, cache=True)
def clamped_posterior(jll, log_prior, row_class, n_per_class, weights,
                      resp, row_loglik):
    """E-step on a block of log p(x_i | k), labeled rows clamped.

    For row i with ``row_class[i] = c >= 0`` only the components
    ``c * n_per_class ... (c + 1) * n_per_class - 1`` are allowed; rows with
    ``row_class[i] < 0`` are unlabeled and may take any component.

    Writes ``resp[i] = weights[i] * P(k | x_i[, y_i])`` and
    ``row_loglik[i] = weights[i] * log sum_k pi_k p(x_i | k)`` over the
    allowed components (stable log-sum-exp). ``jll`` is left untouched.
    """
    for i in prange(jll.shape[0]):
        row_loglik[i] = _posterior_row(
            jll[i], log_prior, row_class[i], n_per_class, weights[i], resp[i]
        )


@njit(parallel=True, cache=True)
def csc_multinomial_log_theta(chunks, indptr, indices, data, resp, alpha,
                              log_norm, out, col_sums):
    """Weighted multinomial M-step, fused with the logarithm.

    For each feature (column) w of a CSC matrix X::

        out[w, k] = log(alpha + sum_i X[i, w] * resp[i, k]) - log_norm[k]

    where ``resp`` holds the weighted responsibilities and ``log_norm[k]`` is
    ``log(alpha * n_features + total weighted count of component k)``, known
    before the pass. ``col_sums[w]`` receives ``sum_k out[w, k]`` so that the
    Dirichlet log-prior needs no second pass over ``out``.

    Working column by column means every statistic is owned by one thread:
    no per-thread (V, K) buffers to zero and reduce.
    """
    n_components = resp.shape[1]
    # alpha + a == alpha exactly in floating point when a < alpha * 2**-54:
    # such entries (a word never seen in a component's documents, common
    # once posteriors are sharp) take log(alpha) without calling log.
    log_alpha = np.log(alpha)
    negligible = alpha * 2.0**-54
    for c in prange(chunks.shape[0] - 1):
        for w in range(chunks[c], chunks[c + 1]):
            acc = out[w]
            _row_dot(indptr[w], indptr[w + 1], indices, data, resp, acc)
            s = 0.0
            for k in range(n_components):
                a = acc[k]
                if a < negligible:
                    v = log_alpha - log_norm[k]
                else:
                    v = np.log(alpha + a) - log_norm[k]
                acc[k] = v
                s += v
            col_sums[w] = s
