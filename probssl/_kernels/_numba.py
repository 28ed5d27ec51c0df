"""The Numba kernels (see :mod:`probssl._kernels`): the loops over
non-zeros and over rows, and nothing else; imported on a kernel's first use.

Every kernel takes plain NumPy arrays (the three arrays of a CSR or CSC
matrix, dense parameter blocks) and writes into preallocated outputs, so the
estimators stay free of loops and the kernels free of estimator logic.

Parallel kernels loop over ``chunks``: contiguous ranges of rows (CSR) or
columns (CSC) holding about the same number of non-zeros, so that threads
get equal work even when a few words carry most of the counts. Each output
row is written by one thread and summed in a fixed order: results do not
depend on the number of threads or on the chunking.

Threads: the kernels run on Numba's threading layer (GNU OpenMP where
Numba finds it), whose idle threads are told to sleep rather than spin
(``OMP_WAIT_POLICY=PASSIVE`` unless set): on a machine whose cores are
busy with other work a spinning team makes a fit up to twice as slow.
OpenMP is not fork-safe (a fit in a ``multiprocessing`` fork child after a
fit in the parent hangs), so in a fork child the kernels run serially: a
pool of processes is the parallelism there. Launches from several Python
threads are serialised by a lock (each launch is itself parallel), which
keeps the thread-unsafe ``workqueue`` layer safe too. How many threads a
launch takes: :mod:`probssl._threads` (``n_jobs``, threadpoolctl's limits,
``numba.set_num_threads``, and the cores other processes leave free).
"""

import contextlib
import functools
import os
import threading
import types
import warnings

import numba
import numpy as np
from numba import njit, prange

from .. import _threads
from . import (CSR_DUPLICATES, CSR_MALFORMED, CSR_NEGATIVE, CSR_NONFINITE,
               CSR_UNSORTED, SATURATED)

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
_LAUNCH = threading.RLock()
_FORKED = []  # set in a fork child: serial kernels from then on


def _after_fork():
    global _LAUNCH
    _LAUNCH = threading.RLock()  # a lock held at the fork stays held
    _FORKED.append(True)


os.register_at_fork(after_in_child=_after_fork)


def n_threads():
    """Threads a parallel launch uses (1 in a fork child, where asking
    OpenMP would end the process)."""
    return 1 if _FORKED else numba.get_num_threads()


def parallel_kernel(func):
    """``njit(parallel=True, cache=True)``, launched by one Python thread at
    a time; serial in a fork child. A kernel whose on-disk cache cannot be
    loaded (a truncated or foreign cache file) is compiled afresh, with a
    warning, not failed."""
    kernel = njit(parallel=True, cache=True)(func)
    # A copy under its own name: Numba's cache files are named after the
    # function, and the serial build must not load the parallel one.
    copy = types.FunctionType(func.__code__, func.__globals__,
                              func.__name__ + "_serial", func.__defaults__)
    copy.__qualname__ = func.__qualname__ + "_serial"
    serial = njit(cache=True)(copy)

    @functools.wraps(func)
    def launch(*args):
        k = serial if _FORKED else kernel
        with _LAUNCH, _team(k is kernel, len(args[0])):
            try:
                return k(*args)
            except Exception as exc:
                if k.signatures or not _cache_failure(exc):
                    raise
                warnings.warn(f"probssl: the Numba cache of {func.__name__} "
                              f"could not be loaded ({exc!r}); compiling it "
                              "again.", RuntimeWarning)
                k._cache.flush()  # the damaged index goes
                return k(*args)

    launch.kernel = kernel
    return launch


def launch_threads():
    """Threads the next parallel launch takes: what ``numba.set_num_threads``
    and :func:`probssl._threads.choose` allow, less the cores other
    processes keep busy. A launch lasts milliseconds and ends at a join:
    a thread sharing a core with another process, descheduled while it
    holds a piece, holds up the join for the rest of a scheduler time
    slice, so that on 2 cores with one busy two threads were no faster
    than one (Nigam's split, 20 iterations: 0.295 against 0.292 s) while
    one thread on the free core keeps all of it."""
    if _FORKED:
        return 1
    return min(numba.get_num_threads(), _threads.choose(dealt=False))


@contextlib.contextmanager
def _team(parallel, n_iterations):
    """The launch's threads (:func:`launch_threads`), dealt the loop's
    iterations (every kernel's ``prange`` runs over its first argument) in
    about 64 pieces on demand rather than in equal shares, so that a
    thread that falls behind takes fewer pieces; Numba's per-thread
    settings are restored afterwards."""
    if not parallel:
        yield
        return
    before = numba.get_num_threads()
    n = launch_threads()
    _threads.LAUNCHES[n] += 1
    chunk = numba.get_parallel_chunksize()
    if n != before:
        numba.set_num_threads(n)
    if n > 1:
        numba.set_parallel_chunksize(max(1, n_iterations // 64))
    try:
        yield
    finally:
        if n > 1:
            numba.set_parallel_chunksize(chunk)
        if n != before:
            numba.set_num_threads(before)


def _cache_failure(exc):
    """Whether ``exc`` came from reading a Numba cache file."""
    import traceback

    frames = traceback.extract_tb(exc.__traceback__)
    return any("caching" in f.filename or "_cache.load" in (f.line or "")
               for f in frames)

@njit(cache=True)
def csr_has_duplicates(indptr, indices, n_cols):
    """Whether some row of a CSR matrix holds a column twice (one pass,
    without sorting: the row that last saw each column is stamped)."""
    seen = np.full(n_cols, -1, dtype=np.int64)
    for i in range(indptr.shape[0] - 1):
        for p in range(indptr[i], indptr[i + 1]):
            j = indices[p]
            if seen[j] == i:
                return True
            seen[j] = i
    return False


@njit(cache=True)
def csr_scan(indptr, indices, data, n_cols, lengths, col_nnz):
    """One pass over the three arrays of a CSR matrix (``indptr[0] == 0``
    and ``indptr[-1] == indices.size == data.size`` checked by the caller):
    ``lengths[i]`` = the sum of row i, and, where ``col_nnz`` is not
    empty, ``col_nnz[j]`` += the non-zero values of column j. Returns the
    ``CSR_*`` bits of what it found; stops at the first malformed row (no
    index out of range is ever followed). Duplicates are searched only in
    the rows whose columns do not increase."""
    n = indptr.shape[0] - 1
    nnz = indices.shape[0]
    found = 0
    increasing = np.empty(n, dtype=np.bool_)
    for i in range(n):
        lo = indptr[i]
        hi = indptr[i + 1]
        if hi < lo or hi > nnz:
            return found | CSR_MALFORMED
        total = 0.0
        prev = -1
        ordered = True
        for p in range(lo, hi):
            j = indices[p]
            if j < 0 or j >= n_cols:
                return found | CSR_MALFORMED
            if j <= prev:
                ordered = False
            prev = j
            x = data[p]
            if not np.isfinite(x):
                found |= CSR_NONFINITE
            elif x < 0.0:
                found |= CSR_NEGATIVE
            total += x
        lengths[i] = total
        increasing[i] = ordered
    if not increasing.all():
        found |= CSR_UNSORTED | _duplicates(indptr, indices, n_cols,
                                            increasing)
    if col_nnz.shape[0]:  # (a loop of its own: 5x faster than inline)
        for p in range(nnz):
            if data[p] != 0.0:
                col_nnz[indices[p]] += 1
    return found


@njit(cache=True)
def _duplicates(indptr, indices, n_cols, increasing):
    """``CSR_DUPLICATES`` if a row not ``increasing`` holds a column twice
    (the row that last saw each column is stamped), else 0."""
    seen = np.full(n_cols, -1, dtype=np.int64)
    for i in range(indptr.shape[0] - 1):
        if increasing[i]:
            continue
        for p in range(indptr[i], indptr[i + 1]):
            j = indices[p]
            if seen[j] == i:
                return CSR_DUPLICATES
            seen[j] = i
    return 0


@parallel_kernel
def csr_relabel(chunks, indptr, indices, new_label, out, row_sorted):
    """``out[p] = new_label[indices[p]]`` (the columns renamed), and
    ``row_sorted[i]`` whether row i's new columns are in order."""
    for c in prange(chunks.shape[0] - 1):
        for i in range(chunks[c], chunks[c + 1]):
            ok = 1
            prev = -1
            for p in range(indptr[i], indptr[i + 1]):
                j = new_label[indices[p]]
                out[p] = j
                if j < prev:
                    ok = 0
                prev = j
            row_sorted[i] = ok


@njit(cache=True)
def order_by_count(counts):
    """``np.argsort(-counts, kind="stable")`` for small non-negative
    integer counts: a counting sort, linear in their size."""
    top = 0
    for v in counts:
        if v > top:
            top = v
    start = np.zeros(top + 2, dtype=np.int64)
    for v in counts:
        start[top - v + 1] += 1
    for b in range(1, top + 2):
        start[b] += start[b - 1]
    order = np.empty(counts.shape[0], dtype=np.int64)
    for j in range(counts.shape[0]):
        b = top - counts[j]
        order[start[b]] = j
        start[b] += 1
    return order


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
def _posterior_row(jll_row, prior, w, resp_row):
    """Turn one row of log p(x | k) into weighted responsibilities in place.

    ``prior`` is the row's log prior over components, -inf for those it may
    not take (a labeled row's other classes; see ``table_posterior``).
    ``jll_row`` and ``resp_row`` may be the same array. Returns
    ``w * log sum_k exp(jll + prior)`` (-inf when no allowed component has
    prior mass; 0 for a weightless row).
    """
    n_components = jll_row.shape[0]
    if w == 0.0:
        for k in range(n_components):
            resp_row[k] = 0.0
        return 0.0
    m = -np.inf
    for k in range(n_components):
        v = jll_row[k] + prior[k]
        if v > m:
            m = v
    if m == -np.inf:
        for k in range(n_components):
            resp_row[k] = 0.0
        return -np.inf
    total = 0.0
    for k in range(n_components):
        e = 0.0
        d = jll_row[k] + prior[k] - m
        # Flush probabilities under 1e-300 to zero: they cannot change any
        # parameter (alpha + 1e-300 == alpha), but as subnormal numbers
        # they would slow every later product by a factor 10+.
        if d > _LOG_FLUSH:
            e = np.exp(d)
            total += e
        resp_row[k] = e
    scale = w / total
    for k in range(n_components):
        resp_row[k] *= scale
    return w * (m + np.log(total))


@parallel_kernel
def csr_dense_dot(chunks, indptr, indices, data, dense, out):
    """out[i, k] = sum_j X[i, j] * dense[j, k] for a CSR matrix X.

    With ``dense = log theta`` of shape (n_features, n_components) this is the
    multinomial log-likelihood ``X @ log theta`` (without the multinomial
    coefficient): each non-zero reads one contiguous row of ``dense``.
    """
    for c in prange(chunks.shape[0] - 1):
        for i in range(chunks[c], chunks[c + 1]):
            _row_dot(indptr[i], indptr[i + 1], indices, data, dense, out[i])


# --- incremental multinomial EM ---------------------------------------------
#
# Once posteriors are sharp, most rows keep the same responsibilities from one
# iteration to the next (a document whose best component leads the others by
# dozens of nats). The two kernels below exploit it without changing the
# result beyond rounding. The parameters are kept as
# ``log theta[w, k] = log_stats[w, k] - log_norm[k]`` with
# ``log_stats = log(alpha + S)`` and ``S = X.T @ R``:
#
# * the M-step adds to ``S`` only ``X.T @ (R_new - R_old)`` over the rows
#   whose responsibilities moved by more than ``tau`` (times the row
#   weight), and takes logarithms only of the entries that changed; ``R``
#   always holds the responsibilities that ``S`` reflects;
# * the E-step keeps, for each row whose posterior is saturated, a lower
#   bound on the gap between its best component and the runner-up, lowered
#   every iteration by how far the parameters may have moved the row's
#   log-likelihoods. While the gap stays above ``SATURATED`` nats (the
#   runner-up's share is below 1e-17) the row's responsibilities stay and
#   only its best component's log-likelihood is summed, for the objective.


@parallel_kernel
def table_posterior(jll, table, row_class, weights, resp, row_loglik):
    """E-step on a block of log p(x_i | k) with a log prior per row kind.

    Row i takes the log prior ``table[row_class[i] + 1]`` (row 0 for
    unlabeled rows, ``row_class < 0``); -inf entries are components the
    row may not take. Writes ``resp[i] = weights[i] * P(k | x_i[, y_i])``
    and ``row_loglik[i] = weights[i] * log sum_k exp(jll + prior)``.
    """
    for i in prange(jll.shape[0]):
        row_loglik[i] = _posterior_row(
            jll[i], table[row_class[i] + 1], weights[i], resp[i]
        )


@parallel_kernel
def csr_posterior_incremental(chunks, indptr, indices, data, lengths,
                              log_stats, log_norm, table, row_bound,
                              norm_bound, bound, row_class, weights, tau,
                              resp, row_loglik, top, gap, changed, delta):
    """Multinomial E-step that skips the rows whose posterior cannot move.

    Computes the responsibilities :func:`table_posterior` does with
    ``jll = X @ (log_stats - log_norm)``, plus the state of the incremental
    scheme: ``top[i]`` and ``gap[i]`` (a lower bound in nats on the lead of
    the best component; -inf when the row is not saturated). Since the
    previous E-step, ``log_stats[w]`` moved by at most ``bound[w] / 2``,
    ``log_norm`` by ``norm_bound / 2`` and ``table`` by ``row_bound / 2``.
    Rows whose new responsibilities differ from ``resp[i]`` by more than
    ``tau * weights[i]`` get ``changed[i] = 1``, ``delta[i] = new - old``
    and ``resp[i] = new``; the others keep ``resp[i]`` and get
    ``changed[i] = 0``.

    ``row_loglik[i]`` is the row's weighted log marginal likelihood minus
    ``sum_k resp[i, k] (jll[i, k] + prior[k])`` over its kept (previous)
    responsibilities: 0 for a saturated row, whose kept responsibilities
    are its best component's up to e^-40. The caller adds that sum over
    all rows, which is a dot product of the statistics with the
    parameters, so a saturated row costs one gather per non-zero (its
    bound), not two.
    """
    n_components = log_stats.shape[1]
    for c in prange(chunks.shape[0] - 1):
        tmp = np.empty(n_components)
        for i in range(chunks[c], chunks[c + 1]):
            w = weights[i]
            changed[i] = 0
            row_loglik[i] = 0.0
            if w == 0.0:
                continue
            lo = indptr[i]
            hi = indptr[i + 1]
            n_words = lengths[i]
            prior = table[row_class[i] + 1]
            if gap[i] > SATURATED:
                # A row the bound cannot keep is computed afresh: stop
                # summing its bound as soon as that is known.
                limit = gap[i] - SATURATED
                b = row_bound + n_words * norm_bound
                for p in range(lo, hi):
                    if b >= limit:
                        break
                    b += data[p] * bound[indices[p]]
                g = gap[i] - b
                if g > SATURATED:
                    gap[i] = g
                    continue
            _row_dot(lo, hi, indices, data, log_stats, tmp)
            best = -np.inf
            second = -np.inf
            t = 0
            r = resp[i]
            kept = 0.0
            for k in range(n_components):
                tmp[k] -= n_words * log_norm[k]
                v = tmp[k] + prior[k]
                if r[k] != 0.0:
                    kept += r[k] * v
                if v > best:
                    second = best
                    best = v
                    t = k
                elif v > second:
                    second = v
            top[i] = t
            gap[i] = best - second if best > -np.inf else -np.inf
            row_loglik[i] = _posterior_row(tmp, prior, w, tmp) - kept
            moved = 0.0
            for k in range(n_components):
                d = abs(tmp[k] - r[k])
                if d > moved:
                    moved = d
            if moved > tau * w:
                changed[i] = 1
                dr = delta[i]
                for k in range(n_components):
                    dr[k] = tmp[k] - r[k]
                    r[k] = tmp[k]


@parallel_kernel
def csr_scatter_rows(ranges, rows, indptr, indices, data, delta, stats, old,
                     touched, sorted_rows):
    """``stats[w] += sum over i in rows of X[i, w] * delta[i]``.

    X is CSR; ``rows`` ascending. Thread t owns the columns ``ranges[t] ...
    ranges[t + 1] - 1`` and reads only the given rows, so the cost follows
    the rows that moved, not the whole matrix; with ``sorted_rows`` (sorted
    indices) it skips to its columns, else it reads every entry of a row.
    Every sum runs in row order whatever the thread count. The first time
    a column is reached, its previous statistics go to ``old[w]`` and
    ``touched[w]`` is set.
    """
    n_components = stats.shape[1]
    for t in prange(ranges.shape[0] - 1):
        c0 = ranges[t]
        c1 = ranges[t + 1]
        for r in range(rows.shape[0]):
            i = rows[r]
            lo = indptr[i]
            hi = indptr[i + 1]
            if sorted_rows:
                lo += np.searchsorted(indices[lo:hi], c0)
            d = delta[i]
            for p in range(lo, hi):
                j = indices[p]
                if j < c0 or j >= c1:
                    if sorted_rows:
                        break
                    continue
                x = data[p]
                acc = stats[j]
                if not touched[j]:
                    touched[j] = 1
                    o = old[j]
                    for k in range(n_components):
                        o[k] = acc[k]
                for k in range(n_components):
                    acc[k] += x * d[k]


@parallel_kernel
def log_stats_full(chunks, alpha, stats, log_stats, col_sums, col_dots):
    """The full M-step's ``log_stats = log(alpha + stats)``, a logarithm
    only where ``stats`` is not 0 (the start's statistics are zero but on
    the labeled rows' words), with ``col_sums[w] = sum_k log_stats[w, k]``
    and ``col_dots[w] = sum_k stats[w, k] log_stats[w, k]``; columns in
    ``chunks`` of ranges."""
    n_components = stats.shape[1]
    log_alpha = np.log(alpha)
    for c in prange(chunks.shape[0] - 1):
        for j in range(chunks[c], chunks[c + 1]):
            acc = stats[j]
            ls = log_stats[j]
            s = 0.0
            d = 0.0
            for k in range(n_components):
                a = acc[k]
                v = log_alpha if a == 0.0 else np.log(alpha + a)
                ls[k] = v
                s += v
                d += a * v
            col_sums[j] = s
            col_dots[j] = d


@parallel_kernel
def log_stats_update(cols, alpha, stats, old, log_stats, col_sums, col_dots,
                     bound):
    """After :func:`csr_scatter_rows`, for each touched column w in ``cols``:
    ``log_stats[w, k] = log(alpha + stats[w, k])`` where ``alpha + stats``
    changed, ``col_sums[w] = sum_k log_stats[w, k]``, ``col_dots[w] =
    sum_k stats[w, k] log_stats[w, k]`` and ``bound[w]`` = twice the
    largest change of ``log_stats[w]``."""
    n_components = stats.shape[1]
    for q in prange(cols.shape[0]):
        j = cols[q]
        acc = stats[j]
        o = old[j]
        ls = log_stats[j]
        moved = 0.0
        s = 0.0
        d = 0.0
        for k in range(n_components):
            a = alpha + acc[k]
            if a != alpha + o[k]:
                v = np.log(a)
                m = abs(v - ls[k])
                if m > moved:
                    moved = m
                ls[k] = v
            s += ls[k]
            d += acc[k] * ls[k]
        col_sums[j] = s
        col_dots[j] = d
        bound[j] = 2.0 * moved
