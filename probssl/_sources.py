"""Where the rows live: in memory, or chunks read one at a time.

A source hands the EM engine (:mod:`probssl._em`) the summed statistics of
a pass over its blocks of rows:

``start(events, mixing, run)``
    statistics of the mixing part's initial responsibilities;
``e_pass(events, table)``
    E-step of every block with the current parameters, and its statistics;
``reduce(func, *args, combine=add)``
    ``func(block, *args)`` over the blocks, combined (k-means starts);
``drop(keep)``
    forget dropped components (per-row state only).

Every block is validated by the one stack of :mod:`probssl._validation`
and keeps only its rows of positive weight, with their positions in the
input (``Block.rows``) so that random starts do not depend on the
blocking. :class:`InMemory` is one resident block; with the multinomial
model it runs the incremental passes of :mod:`probssl._incremental`.
:class:`Chunks` re-reads its chunks every pass (out of core); the Dask
source is :mod:`probssl._dask`.
"""

import functools
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.utils import check_array

from ._incremental import IncrementalPasses
from . import _kernels
from ._kernels import scan_of
from ._events import event_class
from ._npz_chunks import (NpzChunks, _chunk_items,  # noqa: F401
                          _in_chunk, write_npz_chunks)
from ._validation import (AUTO_MODELS, check_block, check_sparse_structure,
                          labels_of, looks_like_counts, merge_labels)


@dataclass
class Block:
    """Validated rows of positive weight, prepared for the event model."""

    data: object
    row_class: np.ndarray
    weights: np.ndarray
    rows: np.ndarray  # positions in the input
    kinds: object = None  # (C + 1, n) row-kind indicator, made on first use


@dataclass
class Stats:
    """Additive statistics of a pass: the event model's, the responsibility
    mass per row kind (C + 1, K) and the weighted log-likelihood."""

    events: list
    kinds: np.ndarray
    loglik: float = 0.0
    changed: tuple = None  # (columns, previous stats): incremental M-step

    def __add__(self, other):
        return Stats([a + b for a, b in zip(self.events, other.events)],
                     self.kinds + other.kinds, self.loglik + other.loglik)


def add(a, b):
    return a + b if isinstance(a, Stats) else [x + y for x, y in zip(a, b)]


def make_block(events, X, y_index, sample_weight, offset, unlabeled_weight):
    """The rows of positive weight of one validated block (``offset``: the
    position of its first row in the input; unlabeled rows weighted by
    ``unlabeled_weight``)."""
    weights = sample_weight * np.where(y_index >= 0, 1.0, unlabeled_weight)
    active = weights > 0
    rows = offset + np.flatnonzero(active)
    if not active.all():
        X, y_index, weights = X[active], y_index[active], weights[active]
    return Block(events.prepare(X), np.ascontiguousarray(y_index),
                 np.ascontiguousarray(weights), rows)


def prepare_block(X, y, w, name, fitted, events, offset):
    """One raw block of rows checked as ``fit`` checks its input (``name``:
    the estimator's), then made a :class:`Block` (``offset``: the position
    of its first row; ``fitted``: the :class:`Fitted` the scans set up)."""
    X, y_index, sw = check_block(name, X, y, w, fitted.classes,
                                 fitted.event_model, fitted.n_features)
    return make_block(events, X, y_index, sw, offset, fitted.unlabeled_weight)


def kind_mass(block, resp, n_kinds):
    """Responsibility mass per row kind: row 0 unlabeled, c + 1 class c."""
    n = block.rows.size
    if block.kinds is None or block.kinds.shape[0] != n_kinds:
        block.kinds = sp.csr_matrix(
            (np.ones(n), (block.row_class + 1, np.arange(n))),
            shape=(n_kinds, n))
    return block.kinds @ resp


def block_stats(block, events, resp, n_kinds, loglik=0.0):
    stats = events.new_stats(resp.shape[1], block.data.shape[1])
    events.add_stats(stats, block.data, resp)
    return Stats(stats, kind_mass(block, resp, n_kinds), loglik)


def block_start(block, events, mixing, run):
    return block_stats(block, events, mixing.initial_resp(block, run),
                       mixing.C + 1)


def block_e_pass(block, events, table):
    n = block.row_class.size
    resp, row_loglik = np.empty((n, table.shape[1])), np.empty(n)
    events.e_step(block.data, table, block.row_class, block.weights, resp,
                  row_loglik)
    return block_stats(block, events, resp, table.shape[0],
                       float(row_loglik.sum()))


def document_frequency(X):
    """Non-zeros per column (the column order's key; counted already by
    the check of an input :func:`probssl._kernels.checked_csr` made)."""
    scan = scan_of(X)
    if scan is not None and scan.col_nnz is not None:
        return scan.col_nnz
    X = X if sp.issparse(X) else sp.csr_matrix(X)
    return np.bincount(X.indices[X.data != 0], minlength=X.shape[1])


def column_order(freq):
    """Columns by decreasing ``freq`` (ties in input order): a counting
    sort where the counts are small (document frequencies are at most
    the rows' count), else a stable sort."""
    if freq.size and freq.dtype.kind in "iu" and 0 <= freq.min() and \
            freq.max() <= 4 * freq.size:
        return _kernels.order_by_count(freq)
    return np.argsort(-freq, kind="stable")


@dataclass
class Fitted:
    """What a source learns of its input before EM, for the estimator to
    set (``classes_``, ``event_model_``, ``n_features_in_``) and to read
    back (the rows' count)."""

    classes: np.ndarray
    event_model: str
    n_features: int
    n_rows: int
    unlabeled_weight: float = 1.0


class Source:
    """What the sources share: the scan's results (``fitted``), and passes
    as reduces."""

    def _setup(self, events, doc_freq, mean):
        """Count models: columns by decreasing document frequency (the few
        words that carry most non-zeros then sit together, their parameters
        in cache); Gaussian: rows shifted by the column means. ``doc_freq``
        and ``mean`` compute them: each only for the model that needs it
        (counting a dense X's non-zeros takes a sparse copy of it)."""
        self.events_template = events
        if events.centred:
            events.shift = mean()
        if events.column_order:
            freq = doc_freq()
            events.order = column_order(freq)
            events.col_nnz = self.doc_freq = freq[events.order]

    def _from_scans(self, scans, event_model, events, unlabeled_weight,
                    classes=None):
        """Set up ``fitted`` from the :func:`scan_block` results of every
        block; returns the model's blank events."""
        labels, sizes, counts, doc_freq, n_features, sums = zip(*scans)
        for k, d in enumerate(n_features):
            if d != n_features[0]:
                raise ValueError(f"chunk {k} has {d} features, chunk 0 "
                                 f"has {n_features[0]}.")
        self.offsets = np.cumsum((0,) + sizes)
        # "auto" over blocks as over the whole input: counts when every
        # block looks like counts.
        self.fitted = Fitted(
            merge_labels(labels) if classes is None
            else np.unique(np.asarray(classes)),
            event_model if event_model != "auto" else AUTO_MODELS[all(counts)],
            n_features[0], int(self.offsets[-1]), float(unlabeled_weight))
        events = events(self.fitted.event_model)
        self._setup(events, lambda: sum(doc_freq),
                    lambda: sum(sums) / self.offsets[-1])
        return events

    def start(self, events, mixing, run):
        return self.reduce(block_start, events, mixing, run)

    def e_pass(self, events, table):
        return self.reduce(block_e_pass, events, table)

    def drop(self, events, stats, keep):
        """``stats`` of the components in ``keep`` (a mask)."""
        return Stats(events.select(stats.events, keep), stats.kinds[:, keep],
                     stats.loglik)


class InMemory(Source):
    """One resident block: the whole (validated) input of ``fit``; with the
    multinomial model, the incremental passes of :mod:`probssl._incremental`
    (``resp`` and the statistics kept between passes)."""

    def __init__(self, est, X, y, sample_weight, events, unlabeled_weight=1.0):
        self.X, self.y_index, sw, self.fitted = est._check_fit_input(
            X, y, sample_weight)
        self.fitted.unlabeled_weight = float(unlabeled_weight)
        events = events(self.fitted.event_model)
        self._setup(events, lambda: document_frequency(self.X),
                    lambda: self.X.mean(axis=0))
        self.block = make_block(events, self.X, self.y_index, sw, 0,
                                self.fitted.unlabeled_weight)
        self.passes = None
        self._kinds = (None, None)  # (passes, their responsibility mass)

    def reduce(self, func, *args, combine=None):
        return func(self.block, *args)

    def _stats(self, changed, loglik, n_kinds):
        kinds = kind_mass(self.block, self.passes.resp, n_kinds)
        # The next E-step starts from these responsibilities (the objective
        # needs their mass): kept for it, not summed again.
        self._kinds = (self.passes, kinds)
        return Stats(self.passes.stats, kinds, loglik, changed)

    def start(self, events, mixing, run):
        if not events.incremental:
            return super().start(events, mixing, run)
        self.passes = IncrementalPasses(self.block,
                                        mixing.initial_resp(self.block, run))
        return self._stats(self.passes.start(), 0.0, mixing.C + 1)

    def e_pass(self, events, table):
        if not events.incremental:
            return super().e_pass(events, table)
        if self.passes is None:  # a warm start: nothing counted yet
            self.passes = IncrementalPasses(self.block, np.zeros((
                self.block.rows.size, table.shape[1])))
        # kinds: the mass of the kept responsibilities (the objective's)
        passes, kinds = self._kinds
        if passes is not self.passes or kinds.shape[0] != table.shape[0]:
            kinds = kind_mass(self.block, self.passes.resp, table.shape[0])
        return self._stats(*self.passes.e_step(events, table, kinds),
                           table.shape[0])

    def drop(self, events, stats, keep):
        stats = super().drop(events, stats, keep)
        if self.passes is not None:  # new components: restart the row state
            stats.events = [np.ascontiguousarray(s) for s in stats.events]
            self.passes = IncrementalPasses(self.block, np.ascontiguousarray(
                self.passes.resp[:, keep]), stats.events)
        return stats


def scan_block(X, y, event_model):
    """What a first pass learns from one raw block: its labels, its size,
    whether it looks like counts, its document frequencies."""
    check_sparse_structure(X)
    X = check_array(X, accept_sparse="csr", dtype=np.float64)
    counts = looks_like_counts(X)
    model = event_class(event_model if event_model != "auto"
                        else AUTO_MODELS[counts])
    return (labels_of(y), X.shape[0], counts,
            document_frequency(X) if model.column_order else None,
            X.shape[1], np.asarray(X.sum(axis=0)).ravel())


class Chunks(Source):
    """Chunks read one at a time, validated and prepared every pass."""

    def __init__(self, est, chunks, classes, events, unlabeled_weight=1.0):
        self.name, self.chunks = type(est).__name__, chunks
        self.files = getattr(chunks, "files", ())
        scans = [_in_chunk(k, scan_block, X, y, est.event_model,
                           files=self.files)
                 for k, X, y, w in _chunk_items(chunks)]
        if not scans:
            raise ValueError("chunks yielded no chunk.")
        self._from_scans(scans, est.event_model, events, unlabeled_weight,
                         classes)

    def blocks(self):
        for k, X, y, w in _chunk_items(self.chunks):
            yield _in_chunk(k, prepare_block, X, y, w, self.name, self.fitted,
                            self.events_template, self.offsets[k],
                            files=self.files)

    def reduce(self, func, *args, combine=add):
        return functools.reduce(combine, (func(block, *args)
                                          for block in self.blocks()))
