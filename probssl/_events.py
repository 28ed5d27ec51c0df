"""Event models: the per-component densities shared by every method.

Every model offers the same protocol, on additive sufficient statistics, so
that one EM engine (:mod:`probssl._em`) serves every estimator and every
place the rows live (in memory, chunks on disk, Dask workers):

``prepare(X) -> block``
    validated rows in the layout the kernels read, once per fit (counts:
    CSR with the columns in ``order``; Bernoulli: binarized here, once;
    Gaussian: ``[X * X, X]``).
``new_stats(K, n_features)`` / ``add_stats(stats, block, resp)``
    zero statistics, and a block's contribution added in place (``resp``
    carries the row weights).
``m_step(stats)``
    parameters from summed statistics; ``log_prior()`` is their log-prior.
``e_step(block, table, row_class, weights, resp, row_loglik)``
    the E-step (``log_prob``, then :func:`probssl._kernels.table_posterior`
    unless a model fuses them): weighted posterior over components with a
    log prior per row kind (``table[row_class + 1]``; row 0 for unlabeled
    rows; -inf for a component the row may not take).
``log_prob(X)``
    log p(x | k) (n, K), up to a term in x only, for prediction.
``loo_log_prob(block, stats, row_class, weights, full)``
    the same with every row's own contribution taken out of the
    statistics of its class (leave-one-out, for the hybrid).

Count models reorder the columns by decreasing document frequency for
cache locality; the parameters carry that order explicitly (``order``:
``block[:, j]`` is input column ``order[j]``) until ``restore_order()``.

| model       | input          | statistics                         |
|-------------|----------------|------------------------------------|
| multinomial | counts         | X.T @ R, lengths @ R               |
| bernoulli   | binary (> b)   | X.T @ R, R.sum(0)                  |
| gaussian    | dense reals    | R.T @ [X*X, X], R.sum(0)           |
| poisson     | counts         | X.T @ R, R.sum(0)                  |
| vmf         | unit rows      | X.T @ R, R.sum(0)                  |

A model is one class registered by name (:func:`register`): what it is
(sparse input, counts, column order, ...) it declares as class attributes
(see :class:`probssl._event_base.EventModel`), which the estimators, the
sources and active learning read.
"""

import contextlib
import functools
import weakref

import numpy as np
import scipy.sparse as sp
from sklearn.preprocessing import binarize

from . import _kernels, _threads
from ._kernels import to_kernel_csr
from ._committees import DirichletPosterior, GaussianMeansPosterior
from ._gaussian import (DenseEvents, FullGaussianEvents,
                        warn_below_reg_covar)
from ._event_base import EVENT_MODELS, EventModel, register
from ._vmf import VMFEvents

__all__ = ["EVENT_MODELS", "COVARIANCE_TYPES", "make_event_model"]
# scikit-learn's meanings; "tied" is one shared FULL covariance (before
# issue 17 it was one shared diagonal, now "tied_diag").
COVARIANCE_TYPES = ("full", "tied", "diag", "spherical", "tied_diag")


class CountBlock:
    """Sparse counts as the kernels read them: CSR, columns in ``order``.

    The columns are relabelled, not sorted within rows (a sort cost more
    than the whole first iteration). No CSC copy: column statistics are
    scattered from the rows, each thread owning a range of columns
    (:func:`probssl._kernels.csr_scatter_rows`; ``col_nnz``: the columns'
    non-zeros that size the ranges, counted here when None).
    """

    def __init__(self, X, order=None, col_nnz=None):
        X = to_kernel_csr(X)
        scan = _kernels.scan_of(X)
        self.row_chunks = _kernels.balanced_chunks(X.indptr)
        if order is not None:  # X[:, order] by relabelling
            new = np.empty(order.size, dtype=X.indices.dtype)
            new[order] = np.arange(order.size, dtype=X.indices.dtype)
            indices = np.empty_like(X.indices)
            row_sorted = np.empty(X.shape[0], dtype=np.uint8)
            _kernels.csr_relabel(self.row_chunks, X.indptr, X.indices, new,
                                 indices, row_sorted)
            X = sp.csr_matrix((X.data, indices, X.indptr), shape=X.shape)
            X.has_sorted_indices = bool(row_sorted.all())
        self.csr = X
        self.lengths = (scan.lengths if scan is not None
                        else np.asarray(X.sum(axis=1)).ravel())
        if col_nnz is None:
            col_nnz = np.bincount(X.indices, minlength=X.shape[1])
        # Any ranges give the same sums (in row order within a column).
        self.col_ranges = _kernels.balanced_chunks(
            np.concatenate([[0], np.cumsum(col_nnz)]), _kernels.n_threads())

    @property
    def shape(self):
        return self.csr.shape

    def row(self, i):
        return CountBlock(self.csr[i:i + 1])

    def scatter(self, rows, delta, stats, old=None, touched=None):
        """``stats += X[rows].T @ delta[rows]``; see ``csr_scatter_rows``
        (``old``, ``touched``: the previous statistics of the columns
        reached, for an incremental M-step)."""
        if old is None:
            old = _kernels.zeros(stats.shape)
            touched = np.zeros(stats.shape[0], dtype=np.uint8)
        csr = self.csr
        # Each range reads every non-zero of the rows (they are not sorted
        # within rows): one thread takes one range, or it reads them twice.
        ranges = (self.col_ranges if _kernels.launch_threads() > 1
                  else self.col_ranges[[0, -1]])
        _kernels.csr_scatter_rows(ranges, rows, csr.indptr,
                                  csr.indices, csr.data, delta, stats, old,
                                  touched, bool(csr.has_sorted_indices))

    def dot(self, dense):
        """``X @ dense`` with the parallel row kernel."""
        csr = self.csr
        out = np.empty((csr.shape[0], dense.shape[1]))
        _kernels.csr_dense_dot(self.row_chunks, csr.indptr, csr.indices,
                               csr.data, dense, out)
        return out


def _column_pieces(n_columns, n_pieces=64):
    """Boundaries of ``n_pieces`` equal ranges of columns (a kernel's
    loop, dealt to its threads piece by piece)."""
    return np.unique(np.linspace(0, n_columns, n_pieces + 1).astype(
        np.int64))


SMALL_PRODUCT = 2e7  # multiply-adds under which one BLAS thread is faster


def blas_threads(work):
    """One BLAS thread for a product of ``work`` multiply-adds below
    ``SMALL_PRODUCT``: there, waking OpenBLAS's threads costs more than
    they save (a 500 x 384 Gaussian E-step: 1.9x faster); else the
    threads :func:`probssl._threads.choose` allows (n_jobs, the cores
    other processes leave free)."""
    n = 1 if work < SMALL_PRODUCT else _threads.choose(blas=True,
                                                        dealt=False)
    if n >= (_threads.blas_limit() or n):
        return contextlib.nullcontext()
    return _threads.blas_controller().limit(limits=n, user_api="blas")


class GaussianBlock:
    """Dense rows minus ``shift`` with their squares beside them: ``XX =
    [X * X, X]``, so that both Gaussian operations are one matrix product
    each. The shift (the data's column means) keeps E[x^2] - E[x]^2 from
    cancelling when features have a large offset."""

    def __init__(self, X, shift=None):
        X = np.asarray(X, dtype=np.float64)
        X = np.ascontiguousarray(X if shift is None else X - shift)
        self.XX = np.hstack([X * X, X])
        self.n_features = X.shape[1]
        if not np.isfinite(self.XX).all():
            raise ValueError(
                "X has values too large for the Gaussian model: their squares "
                f"overflow float64 (largest |x - mean| {np.abs(X).max():.3g})"
                "; rescale X.")

    @property
    def shape(self):
        return (self.XX.shape[0], self.n_features)

    def row(self, i):
        return GaussianBlock(self.XX[i:i + 1, self.n_features:])


@register
class MultinomialEvents(EventModel):
    """K multinomials over V words with a symmetric Dirichlet prior.

    The MAP M-step is (Nigam et al. 2000, eq. 5 with Laplace ``alpha=1``)::

        theta[w | k] = (alpha + S[w, k]) / (alpha V + sum_s S[s, k]),
        S = X.T @ R

    and ``log_prior() = alpha * sum_{w,k} log theta[w | k]``. Parameters
    are kept as ``log_stats = log(alpha + S)`` (V, K, C-ordered: the E-step
    reads one contiguous row per non-zero) and ``log_norm`` (K,);
    ``log_theta = log_stats - log_norm``. The M-step takes a logarithm only
    where ``alpha + S`` changed since the last one, and records twice the
    largest change per word (``bound``) and of ``log_norm``
    (``norm_bound``), which the incremental E-step of
    :mod:`probssl._incremental` needs.
    """

    name = "multinomial"
    non_negative = counts = column_order = incremental = True
    _feature_stats = (0,)
    _feature_params = ("log_stats", "col_sums", "bound")
    _bounds = ("bound",)

    log_stats = log_norm = None

    def __init__(self, alpha=1.0):
        self.alpha = float(alpha)

    def prepare(self, X):
        return X if isinstance(X, CountBlock) else CountBlock(
            X, self.order, self.col_nnz)

    def new_stats(self, K, n_features):
        return [_kernels.zeros((n_features, K)), np.zeros(K)]

    def add_stats(self, stats, block, resp):
        block.scatter(np.arange(block.shape[0]), resp, stats[0])
        stats[1] += block.lengths @ resp

    def m_step(self, stats, changed=None):
        """MAP parameters from ``[X.T @ R, lengths @ R]``; ``changed``:
        ``(columns, their previous statistics)`` when only those moved
        since the last M-step (the incremental in-memory passes)."""
        S, totals = stats
        V = S.shape[0]
        if changed is None:
            # new arrays: a copy of this model may share the old ones
            self.log_stats = np.empty(S.shape)
            self.col_sums, self._col_dots = np.empty(V), np.empty(V)
            _kernels.log_stats_full(_column_pieces(V), self.alpha, S,
                                    self.log_stats, self.col_sums,
                                    self._col_dots)
            self.bound = np.full(V, np.inf)  # no previous parameters
        else:
            self.bound[...] = 0.0
            _kernels.log_stats_update(changed[0], self.alpha, S, changed[1],
                                      self.log_stats, self.col_sums,
                                      self._col_dots, self.bound)
        # (a reference to S would keep it alive, and go into pickles)
        self._dots_of = weakref.ref(S)
        log_norm = np.log(self.alpha * V + totals)
        self.norm_bound = (np.inf if changed is None else
                           2.0 * np.abs(log_norm - self.log_norm).max())
        self.log_norm = log_norm
        self._log_prior = self.alpha * (self.col_sums.sum()
                                        - V * self.log_norm.sum())
        vars(self).pop("log_theta", None)  # the cached property
        return self

    def stats_dot(self, S):
        """``sum_{w,k} S[w, k] log_stats[w, k]``: summed from the M-step's
        column sums when these parameters were made from ``S`` (and S has
        not changed since), else afresh."""
        dots = getattr(self, "_dots_of", None)
        if dots is not None and dots() is S:
            return float(self._col_dots.sum())
        # (einsum, not BLAS: OpenBLAS's threads, woken here, would fight
        # the kernels' threads for the cores; a fit took 3x as long)
        return float(np.einsum("wk,wk->", S, self.log_stats))

    def _permute(self, perm):
        self._dots_of = self._col_dots = None  # column sums of other order
        super()._permute(perm)

    @functools.cached_property
    def log_theta(self):
        return np.ascontiguousarray(self.log_stats - self.log_norm)

    def log_prob(self, X):
        return self.prepare(X).dot(self.log_theta)

    def __getstate__(self):
        state = dict(self.__dict__)
        for cache in ("log_theta", "_dots_of", "_col_dots"):
            state.pop(cache, None)
        return state

    def loo_log_prob(self, block, stats, row_class, weights, full):
        """``full`` (n, K) with log p(x_i | y_i) re-computed from the
        statistics minus row i's own counts (``stats`` include it)."""
        S, totals = stats
        csr = block.csr
        n, V = csr.shape
        row_of_nz = np.repeat(np.arange(n), np.diff(csr.indptr))
        y_nz = row_class[row_of_nz]
        num = self.alpha + S[csr.indices, y_nz] - weights[row_of_nz] * csr.data
        # Mathematically >= alpha (the row is part of its class's counts).
        terms = csr.data * np.log(np.maximum(num, self.alpha))
        den = np.maximum(self.alpha * V + totals[row_class]
                         - weights * block.lengths, self.alpha * V)
        out = full.copy()
        out[np.arange(n), row_class] = (
            np.bincount(row_of_nz, weights=terms, minlength=n)
            - block.lengths * np.log(den))
        return out

    @property
    def feature_log_prob(self):
        """log theta as (K, V), scikit-learn's orientation (a view)."""
        return self.log_theta.T

    def naive_bayes_attributes(self):
        return {"feature_log_prob": self.feature_log_prob}

    def committee(self, stats):
        """Dirichlet(alpha + expected word counts) per component."""
        return DirichletPosterior(self.alpha + stats[0].T)


@register
class BernoulliEvents(EventModel):
    """K products of Bernoullis: the presence or absence of every word.

    ``x_w = 1`` when the input is above ``binarize``. The MAP M-step with a
    symmetric Beta(alpha + 1, alpha + 1) prior is (as ``BernoulliNB``)::

        p[w | k] = (alpha + sum_i x_iw r[i, k]) / (2 alpha + sum_i r[i, k])

    and, absent words counting too, the log-likelihood of a row is
    ``x . (log p - log(1 - p)) + sum_w log(1 - p_w)``: one sparse product.
    """

    name = "bernoulli"
    counts = column_order = True
    _feature_stats = (0,)
    _feature_params = ("log_p", "log_1mp")

    log_p = log_1mp = None

    def __init__(self, alpha=1.0, binarize=0.0):
        self.alpha = float(alpha)
        self.binarize = binarize

    def binary(self, X):
        """X as 0/1 (``x > binarize``; checked binary if ``binarize`` is
        None)."""
        if self.binarize is not None:
            return binarize(X, threshold=self.binarize)
        values = X.data if sp.issparse(X) else np.asarray(X)
        if not np.all((values == 0) | (values == 1)):
            raise ValueError("binarize=None expects binary X (0 or 1 "
                             "everywhere); set binarize to a threshold to "
                             "binarize counts.")
        return X

    def prepare(self, X):
        return X if isinstance(X, CountBlock) else CountBlock(
            self.binary(X), self.order, self.col_nnz)

    new_stats = MultinomialEvents.new_stats

    def add_stats(self, stats, block, resp):
        block.scatter(np.arange(block.shape[0]), resp, stats[0])
        stats[1] += resp.sum(axis=0)

    def m_step(self, stats, changed=None):
        present, nk = stats
        p = (present + self.alpha) / (nk + 2.0 * self.alpha)
        self.log_p, self.log_1mp = np.log(p), np.log1p(-p)
        self._log_prior = self.alpha * (self.log_p.sum() + self.log_1mp.sum())
        return self

    def log_prob(self, X):
        jll = self.prepare(X).dot(np.ascontiguousarray(self.log_p
                                                       - self.log_1mp))
        return jll + self.log_1mp.sum(axis=0)

    @property
    def feature_log_prob(self):
        """log p as (K, V), as ``BernoulliNB.feature_log_prob_``."""
        return self.log_p.T

    naive_bayes_attributes = MultinomialEvents.naive_bayes_attributes


@register
class PoissonEvents(EventModel):
    """K products of Poissons: every count ``x_w ~ Poisson(lambda[w, k])``.

    With a Gamma(alpha + 1, 1) prior on every rate the MAP M-step is::

        lambda[w, k] = (alpha + sum_i x_iw r[i, k]) / (1 + sum_i r[i, k])

    and ``log p(x | k) = x . log lambda_k - sum_w lambda[w, k]`` up to
    ``-sum_w log x_w!`` (a term in x only): one sparse product.
    """

    name = "poisson"
    non_negative = counts = column_order = True
    _feature_stats = (0,)
    _feature_params = ("log_rate", "rate")

    log_rate = rate = None

    __init__ = MultinomialEvents.__init__
    prepare = MultinomialEvents.prepare
    new_stats = MultinomialEvents.new_stats
    add_stats = BernoulliEvents.add_stats

    def m_step(self, stats, changed=None):
        S, nk = stats
        self.rate = (self.alpha + S) / (1.0 + nk)
        self.log_rate = np.log(self.rate)
        self._log_prior = float((self.alpha * self.log_rate
                                 - self.rate).sum())
        return self

    def log_prob(self, X):
        return (self.prepare(X).dot(np.ascontiguousarray(self.log_rate))
                - self.rate.sum(axis=0))


@register
class GaussianEvents(DenseEvents):
    """K Gaussians with diagonal covariances, for dense embeddings.

    ``covariance_type``: ``"diag"`` (a variance per component and feature),
    ``"tied_diag"`` (one diagonal shared by all components) or ``"spherical"``
    (one variance per component). ``reg_covar`` is added to every variance
    (as ``GaussianNB``'s ``epsilon_`` and ``GaussianMixture``'s
    ``reg_covar``), which keeps a component that shrinks onto few rows from
    collapsing.

    Estimates are maximum likelihood (``log_prior()`` is 0). Since the
    variance floor is added rather than optimised over, EM's objective is
    monotone up to terms of order ``reg_covar**2``.
    """

    name = "gaussian"
    sparse_input = spherical = False
    centred = True
    fitted_attributes = ("means", "variances")

    means = variances = shift = None

    @classmethod
    def from_params(cls, covariance_type="diag", reg_covar=1e-6,
                    shrinkage=None, **hyper):
        """The full / tied models for those covariance types."""
        if covariance_type in ("full", "tied"):
            return FullGaussianEvents(covariance_type, reg_covar, shrinkage)
        return cls(covariance_type, reg_covar)

    def __init__(self, covariance_type="diag", reg_covar=1e-6):
        if covariance_type not in ("diag", "tied_diag", "spherical"):
            raise ValueError(f"GaussianEvents: covariance_type "
                             f"{covariance_type!r}; the shared diagonal is "
                             "'tied_diag' ('tied' is a full covariance).")
        self.covariance_type = covariance_type
        self.reg_covar = float(reg_covar)

    @property
    def shared(self):
        return self.covariance_type == "tied_diag"

    def prepare(self, X):
        return (X if isinstance(X, GaussianBlock)
                else GaussianBlock(X, self.shift))

    def aligned_with(self, template):
        """These parameters, for blocks prepared by ``template``."""
        super().aligned_with(template)
        return self._set(self.means, self.variances)

    def new_stats(self, K, n_features):
        return [_kernels.zeros((2 * n_features, K)), np.zeros(K)]

    def add_stats(self, stats, block, resp):
        # XX.T @ resp, not resp.T @ XX: OpenBLAS's threaded kernel for the
        # latter shape runs up to 10x slower on this (n >> K) product.
        with blas_threads(block.XX.size * resp.shape[1]):
            stats[0] += block.XX.T @ resp
        stats[1] += resp.sum(axis=0)

    def full_variances(self):
        """Variances broadcast to (K, d), whatever the covariance type."""
        spherical = self.covariance_type == "spherical"
        return np.broadcast_to(self.variances[:, None] if spherical
                               else self.variances, self.means.shape)

    def m_step(self, stats, changed=None):
        nk = stats[1]
        # A component without mass keeps finite (unused) parameters.
        second, means = np.split(
            stats[0].T / np.where(nk > 0, nk, 1.0)[:, None], 2, axis=1)
        if self.covariance_type == "tied_diag":
            second = second.T @ nk / nk.sum()
            spread = second - (means**2).T @ nk / nk.sum()
        else:
            spread = second - means**2
        # E[x^2] - E[x]^2 cancels: what is left within rounding error of
        # E[x^2] is a zero variance (a feature constant in a component).
        spread[spread <= 16 * np.finfo(np.float64).eps * second] = 0.0
        warn_below_reg_covar(self, spread, means, nk, self.reg_covar)
        variances = spread + self.reg_covar
        if self.covariance_type == "spherical":
            variances = variances.mean(axis=1)
        if not np.all(variances > 0):
            raise FloatingPointError(
                "A Gaussian variance is zero (a feature constant within a "
                "component); set reg_covar > 0.")
        return self._set(means if self.shift is None else means + self.shift,
                         variances)

    def _set(self, means, variances):
        self.means, self.variances = means, variances
        d = means.shape[1]
        if self.shift is not None:
            means = means - self.shift  # the blocks' coordinates
        precision = 1.0 / self.full_variances()
        self._weights = np.ascontiguousarray(
            np.hstack([-0.5 * precision, means * precision]).T)
        self._const = -0.5 * (d * np.log(2.0 * np.pi)
                              - np.log(precision).sum(axis=1)
                              + (means * means * precision).sum(axis=1))
        return self

    def log_prob(self, X):
        XX = self.prepare(X).XX
        with blas_threads(XX.size * self._weights.shape[1]):
            out = XX @ self._weights
        out += self._const
        return out

    def naive_bayes_attributes(self):
        return {"theta": self.means, "var": self.full_variances()}

    def committee(self, stats):
        """The means' normal posterior, the variances as fitted."""
        return GaussianMeansPosterior(self, stats[1])

register(VMFEvents)


def make_event_model(name, **hyper):
    """The event model called ``name`` from the estimators'
    hyper-parameters (``alpha``, ``binarize``, ``covariance_type``,
    ``reg_covar``, ``shrinkage``; each model takes the ones it uses)."""
    if name not in EVENT_MODELS:
        raise ValueError(f"event_model must be one of {tuple(EVENT_MODELS)} "
                         f"or 'auto', got {name!r}.")
    return EVENT_MODELS[name].from_params(**hyper)


def event_class(name):
    """The registered class of the event model called ``name``."""
    try:
        return EVENT_MODELS[name]
    except KeyError:
        raise ValueError(f"event_model must be one of {tuple(EVENT_MODELS)} "
                         f"or 'auto', got {name!r}.") from None
