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
    """The incremental passes over one resident ``block`` (a
    :class:`probssl._sources.Block` of counts): its per-row state, and
    ``resp`` and ``stats`` (zero when None), kept between passes; ``resp``
    always holds the responsibilities that ``stats`` reflect. Each pass returns
    ``(columns reached, their previous statistics)`` for the M-step (None
    for the first: a full M-step)."""

    def __init__(self, block, resp, stats=None):
        (n, V), K = block.data.shape, resp.shape[1]
        self.block, self.resp = block, resp
        self.stats = stats or [_kernels.zeros((V, K)), np.zeros(K)]
        self.top = np.zeros(n, dtype=np.int64)
        self.gap = np.full(n, -np.inf)
        self.changed = np.ones(n, dtype=np.uint8)
        self.delta = _kernels.zeros((n, K))
        self.old = _kernels.zeros((V, K))
        self.touched = np.zeros(V, dtype=np.uint8)
        self.table = None
        self.fresh = True

    def _count(self, rows):
        """Add the change ``delta[rows]`` to the statistics (in place)."""
        data = self.block.data
        data.scatter(rows, self.delta, self.stats[0], self.old, self.touched)
        self.stats[1] = np.einsum("i,ik->k", data.lengths, self.resp)
        cols = np.flatnonzero(self.touched)
        self.touched[cols] = 0
        # The first M-step is a full one: the model's parameters may come
        # from other statistics (a warm start, dropped components).
        counted, self.fresh = None if self.fresh else (cols, self.old), False
        return counted

    def start(self):
        """Statistics of the start's rows (EMNB: only the labeled ones
        carry responsibility)."""
        rows = np.flatnonzero(self.resp.any(axis=1))
        self.delta[rows] = self.resp[rows]
        return self._count(rows)

    def e_step(self, events, table, kinds):
        """The E-step, writing only rows that moved, then their change
        counted; returns that and the objective. ``kinds``: the mass of
        ``resp`` per row kind. The objective's share of the kept
        responsibilities, ``sum_i sum_k resp[i, k] (jll[i, k] +
        table[kind_i, k])``, is a dot product of the statistics with the
        parameters they gave; the kernel adds, for the rows it computes
        afresh, their log-likelihood minus their share."""
        b, csr, (S, totals) = self.block, self.block.data.csr, self.stats
        row_loglik = np.empty(b.rows.size)
        _kernels.csr_posterior_incremental(
            b.data.row_chunks, csr.indptr, csr.indices, csr.data,
            b.data.lengths, events.log_stats, events.log_norm, table,
            table_moved(self.table, table), events.norm_bound, events.bound,
            b.row_class, b.weights, MOVED, self.resp, row_loglik, self.top,
            self.gap, self.changed, self.delta)
        self.table = np.array(table, dtype=np.float64)
        kept = (events.stats_dot(S) - totals @ events.log_norm
                + (kinds * np.where(kinds > 0, table, 0.0)).sum())
        return (self._count(np.flatnonzero(self.changed)),
                float(row_loglik.sum() + kept))
