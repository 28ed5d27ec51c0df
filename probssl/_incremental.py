"""Incremental multinomial EM passes over one resident block of rows.

Once posteriors sharpen most rows stop moving. Over rows held in memory
the E-step then skips the rows whose posterior is saturated (a lower bound
on the lead of their best component, lowered every iteration by how far
the parameters moved, stays above ``_kernels.SATURATED`` nats), and the
statistics are a delta, ``S += X_moved.T @ (R_new - R_old)`` over the rows
whose responsibilities moved by more than ``MOVED`` (times the row
weight). The result is EM's up to rounding (tests/test_incremental_em.py).
"""

import numpy as np

from . import _kernels

# Responsibilities that move by at most this much (times the row weight)
# between iterations are left as they are.
MOVED = 1e-14


def table_moved(old, new):
    """Twice the largest change of a log prior table (inf when there is no
    previous one or a component became possible or impossible)."""
    finite = np.isfinite(new)
    if old is None or old.shape != new.shape or not np.array_equal(
            finite, np.isfinite(old)):
        return np.inf
    return 2.0 * float(np.abs(new[finite] - old[finite]).max(initial=0.0))


class IncrementalPasses:
    """Per-row state of the incremental passes over ``block`` (a
    ``CountBlock``) with ``K`` components; ``resp`` is kept between
    passes and always holds the responsibilities the statistics reflect."""

    def __init__(self, block, K):
        n, V = block.shape
        self.block = block
        self.top = np.zeros(n, dtype=np.int64)
        self.gap = np.full(n, -np.inf)
        self.changed = np.ones(n, dtype=np.uint8)
        self.delta = _kernels.zeros((n, K))
        self.old = _kernels.zeros((V, K))
        self.touched = np.zeros(V, dtype=np.uint8)
        self.table = None

    def statistics(self, stats, resp, rows):
        """Add the change ``delta[rows]`` to ``stats`` (in place); returns
        ``(columns reached, their previous statistics)`` for the M-step."""
        self.block.scatter(rows, self.delta, stats[0], self.old, self.touched)
        stats[1] = np.einsum("i,ik->k", self.block.lengths, resp)
        cols = np.flatnonzero(self.touched)
        self.touched[cols] = 0
        return cols, self.old

    def start(self, stats, resp):
        rows = np.flatnonzero(resp.any(axis=1))  # EMNB: the labeled rows
        self.delta[rows] = resp[rows]
        return self.statistics(stats, resp, rows)

    def e_step(self, events, table, row_class, weights, resp, stats, kinds):
        """The E-step, writing only rows that moved; returns them and the
        objective. ``stats`` and ``kinds`` (the mass per row kind) are
        those of ``resp``, the kept responsibilities, from which the
        parameters came: the objective is their share of it,
        ``sum_i sum_k resp[i, k] (jll[i, k] + table[kind_i, k])``, a dot
        product with the parameters, plus what the kernel adds for the
        rows it computed afresh."""
        b = self.block
        csr = b.csr
        norm_bound = (np.inf if events.prev_log_norm is None else
                      2.0 * np.abs(events.log_norm
                                   - events.prev_log_norm).max())
        row_loglik = np.empty(resp.shape[0])
        _kernels.csr_posterior_incremental(
            b.row_chunks, csr.indptr, csr.indices, csr.data, b.lengths,
            events.log_stats, events.log_norm, table,
            table_moved(self.table, table), norm_bound, events.bound,
            row_class, weights, MOVED, resp, row_loglik, self.top, self.gap,
            self.changed, self.delta)
        self.table = np.array(table, dtype=np.float64)
        # (einsum, not BLAS: OpenBLAS's threads, woken here, would fight
        # the kernels' threads for the cores; a fit took 3x as long)
        kept = (np.einsum("wk,wk->", stats[0], events.log_stats)
                - stats[1] @ events.log_norm
                + (kinds * np.where(kinds > 0, table, 0.0)).sum())
        return np.flatnonzero(self.changed), float(row_loglik.sum() + kept)
