"""Event models: the per-component densities shared by every method.

An event model holds the parameters of K component densities over X and
offers the two operations EM needs:

``log_prob(X) -> (n, K)``
    log p(x_i | component k), up to a term that depends on x_i only.
``fit(data, resp)``
    the weighted M-step from responsibilities ``resp`` (n, K), which already
    carry the row weights (labeled 1, unlabeled lambda, sample weights).

plus ``log_prior()``, the log-density of the current parameters under their
prior, so that MAP-EM objectives can be monitored, and ``e_step``, the
posterior over the allowed components (fused with ``log_prob`` where that
pays).

``prepare(X)`` turns validated input into the layout the two operations
read, once per fit; ``finalize(data)`` undoes any reordering it made.
``e_step_table`` is the E-step with a log prior per kind of row (unlabeled,
or labeled with class c: MixtureOfExperts' class tables). The multinomial
model also has ``begin_em`` / ``end_em``: within one EM run its E- and
M-steps become incremental (saturated rows skipped, only moved rows added
to the kept statistics; see ``_kernels``), with EM's result.

| model       | input          | log p(x given k)                          |
|-------------|----------------|-------------------------------------------|
| multinomial | counts         | x . log theta_k                           |
| bernoulli   | binary (> b)   | sum_w x_w log p_wk + (1 - x_w) log(1-p_wk)|
| gaussian    | dense reals    | diagonal Gaussian log-density             |
"""

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numba import get_num_threads

from . import _kernels
from ._validation import to_kernel_csr

EVENT_MODELS = ("multinomial", "bernoulli", "gaussian")
COVARIANCE_TYPES = ("diag", "tied", "spherical")


class CountData:
    """A sparse matrix in the layouts the count kernels read.

    The columns are reordered by decreasing document frequency, once per
    fit: the few words that carry most non-zeros then sit together in
    memory, and their parameter rows stay in cache during both passes.
    Event models fitted on a ``CountData`` hold their parameters in this
    order until ``finalize`` puts them back.

    Attributes
    ----------
    csr : scipy.sparse.csr_matrix
        Rows for the E-step (one row per document), columns reordered.
    csc : scipy.sparse.csc_matrix
        Columns for the M-step (one column per word), columns reordered.
    lengths : ndarray of shape (n_samples,)
        Total count of every document.
    order : ndarray of shape (n_features,)
        ``csr[:, j]`` is column ``order[j]`` of the input.
    row_chunks, col_chunks : ndarray
        Work ranges with about equal non-zeros, for the parallel kernels.
    """

    def __init__(self, X):
        X = to_kernel_csr(X)
        doc_freq = np.bincount(X.indices, minlength=X.shape[1])
        self.order = np.argsort(-doc_freq, kind="stable")
        self.csr = to_kernel_csr(X[:, self.order])
        self.csc = self.csr.tocsc()
        self.csc.sort_indices()
        self.lengths = np.asarray(self.csr.sum(axis=1)).ravel()
        self.row_chunks = _kernels.balanced_chunks(self.csr.indptr)
        self.col_chunks = _kernels.balanced_chunks(self.csc.indptr)

    @property
    def shape(self):
        return self.csr.shape

    def transposed_dot(self, resp):
        """``X.T @ resp``: (n_features, K), in the reordered columns."""
        out = np.empty((self.shape[1], resp.shape[1]))
        csc = self.csc
        _kernels.csr_dense_dot(
            self.col_chunks, csc.indptr, csc.indices, csc.data, resp, out
        )
        return out


def _sparse_dot(X, dense):
    """``X @ dense`` for CSR/CountData X with the parallel kernel."""
    if isinstance(X, CountData):
        X, chunks = X.csr, X.row_chunks
    else:
        X = to_kernel_csr(X)
        chunks = _kernels.balanced_chunks(X.indptr)
    out = np.empty((X.shape[0], dense.shape[1]))
    _kernels.csr_dense_dot(chunks, X.indptr, X.indices, X.data, dense, out)
    return out


class _EventModel:
    """What every event model shares: the generic E-step and no reordering."""

    def e_step(self, data, log_prior, row_class, n_per_class, weights, resp,
               row_loglik):
        """Weighted posterior over components, labeled rows clamped to their
        class's ``n_per_class`` components (``class_prior_table``)."""
        self.e_step_table(data, class_prior_table(log_prior, n_per_class),
                          row_class, weights, resp, row_loglik)

    def e_step_table(self, data, table, row_class, weights, resp,
                     row_loglik):
        """Weighted posterior over components with a log prior per row kind:
        ``table[row_class + 1]`` (row 0: unlabeled rows; -inf: a component
        the row may not take). Writes ``resp`` and ``row_loglik``."""
        jll = self.log_prob(data)
        _kernels.table_posterior(
            jll, table, row_class, weights, resp, row_loglik
        )

    def finalize(self, data):
        return self

    def log_prior(self):
        return self._log_prior


def class_prior_table(log_prior, n_per_class):
    """The (C + 1, K) log prior table of class-clamped EM: row 0 (unlabeled
    rows) is ``log_prior``; row c + 1 keeps class c's ``n_per_class``
    components and is -inf elsewhere."""
    K = log_prior.shape[0]
    table = np.full((K // n_per_class + 1, K), -np.inf)
    table[0] = log_prior
    for c in range(K // n_per_class):
        comps = slice(c * n_per_class, (c + 1) * n_per_class)
        table[c + 1, comps] = log_prior[comps]
    return table


def _table_moved(old, new):
    """Twice the largest change of a log prior table (inf when there is no
    previous one or a component became possible or impossible)."""
    if old is None or old.shape != new.shape:
        return np.inf
    finite = np.isfinite(new)
    if not np.array_equal(finite, np.isfinite(old)):
        return np.inf
    if not finite.any():
        return 0.0
    return 2.0 * float(np.abs(new[finite] - old[finite]).max())


# Responsibilities that move by at most this much (times the row weight)
# between iterations are left as they are by the incremental EM passes.
MOVED = 1e-14


@dataclass(eq=False)
class _IncrementalState:
    """What the incremental passes keep between iterations of one EM run."""

    data: object
    stats: np.ndarray  # X.T @ resp, (V, K)
    log_stats: np.ndarray  # log(alpha + stats)
    col_sums: np.ndarray  # log_stats.sum(axis=1)
    bound: np.ndarray  # 2 * max_k |change of log_stats[w, k]|
    top: np.ndarray
    gap: np.ndarray
    changed: np.ndarray
    delta: np.ndarray
    old: np.ndarray  # scratch for the M-step kernel
    touched: np.ndarray
    log_norm: np.ndarray = None
    prev_log_norm: np.ndarray = None
    table: np.ndarray = None  # the log prior table of the last E-step
    ranges: tuple = None  # (n_threads, column ranges) of the M-step scatter


class MultinomialEvents(_EventModel):
    """K multinomials over V words with a symmetric Dirichlet prior.

    The MAP M-step is (Nigam et al. 2000, eq. 5 with Laplace ``alpha=1``)::

        theta[w | k] = (alpha + sum_i N(w, i) r[i, k])
                       / (alpha V + sum_s sum_i N(s, i) r[i, k])

    and ``log_prior() = alpha * sum_{w,k} log theta[w | k]`` (the Dirichlet
    log-density with parameters ``alpha + 1``, up to a constant).

    Parameters are stored as ``log_theta`` of shape (V, K), C-ordered: the
    E-step reads one contiguous row of K values per non-zero.
    """

    name = "multinomial"

    def __init__(self, alpha=1.0):
        self.alpha = float(alpha)
        self.log_theta = None
        self._log_prior = 0.0

    @staticmethod
    def prepare(X):
        return X if isinstance(X, CountData) else CountData(X)

    def log_prob(self, X, out=None):
        """``X @ log theta``: (n, K), without the multinomial coefficient."""
        if not (isinstance(X, CountData) or sp.issparse(X)):
            return np.dot(X, self.log_theta, out=out)
        if isinstance(X, CountData):
            X, chunks = X.csr, X.row_chunks
        else:
            X = to_kernel_csr(X)
            chunks = _kernels.balanced_chunks(X.indptr)
        if out is None:
            out = np.empty((X.shape[0], self.log_theta.shape[1]))
        _kernels.csr_dense_dot(
            chunks, X.indptr, X.indices, X.data, self.log_theta, out
        )
        return out

    def begin_em(self, data, n_components):
        """Make ``fit`` and ``e_step`` incremental for one EM run on ``data``.

        Within the run, ``resp`` must be the same array for both calls: the
        E-step then rewrites only the rows that moved by more than
        ``MOVED * weight`` and skips the saturated ones, and the M-step adds
        only their change to the kept statistics (see ``_kernels``). The
        result is EM's up to rounding. ``end_em`` sets ``log_theta`` and
        drops the state (it is not pickled).
        """
        n, V = data.shape
        self._inc = _IncrementalState(
            data=data,
            stats=np.zeros((V, n_components)),
            log_stats=np.full((V, n_components), np.log(self.alpha)),
            col_sums=np.full(V, n_components * np.log(self.alpha)),
            bound=np.zeros(V),
            top=np.zeros(n, dtype=np.int64),
            gap=np.full(n, -np.inf),
            changed=np.ones(n, dtype=np.uint8),
            delta=np.empty((n, n_components)),
            old=np.empty((V, n_components)),
            touched=np.zeros(V, dtype=np.uint8),
        )

    def end_em(self):
        inc = self.__dict__.pop("_inc", None)
        if inc is not None and inc.log_norm is not None:
            self.log_theta = inc.log_stats - inc.log_norm

    def _incremental(self, data):
        inc = self.__dict__.get("_inc")
        return inc if inc is not None and inc.data is data else None

    def e_step_table(self, data, table, row_class, weights, resp,
                     row_loglik):
        """As ``_EventModel.e_step_table``; incremental within an EM run
        (see ``begin_em``), fused ``X @ log theta`` + posterior otherwise."""
        inc = self._incremental(data)
        csr = data.csr
        if inc is None:
            _kernels.csr_dense_dot_posterior(
                data.row_chunks, csr.indptr, csr.indices, csr.data,
                self.log_theta, table, row_class, weights, resp, row_loglik,
            )
            return
        row_bound = _table_moved(inc.table, table)
        norm_bound = (np.inf if inc.prev_log_norm is None else
                      2.0 * np.abs(inc.log_norm - inc.prev_log_norm).max())
        _kernels.csr_posterior_incremental(
            data.row_chunks, csr.indptr, csr.indices, csr.data,
            data.lengths, inc.log_stats, inc.log_norm, table, row_bound,
            norm_bound, inc.bound, row_class, weights, MOVED, resp,
            row_loglik, inc.top, inc.gap, inc.changed, inc.delta,
        )
        inc.table = np.array(table, dtype=np.float64)

    def fit(self, data, resp):
        """Weighted MAP M-step; ``resp`` rows carry the row weights."""
        resp = np.ascontiguousarray(resp, dtype=np.float64)
        n_features = data.shape[1]
        n_components = resp.shape[1]
        totals = data.lengths @ resp
        log_norm = np.log(self.alpha * n_features + totals)
        inc = self._incremental(data)
        if inc is not None:
            return self._fit_incremental(inc, data, resp, log_norm)
        if self.log_theta is None or self.log_theta.shape != (
            n_features, n_components
        ):
            self.log_theta = np.empty((n_features, n_components))
        col_sums = np.empty(n_features)
        csc = data.csc
        _kernels.csc_multinomial_log_theta(
            data.col_chunks, csc.indptr, csc.indices, csc.data, resp,
            self.alpha, log_norm, self.log_theta, col_sums,
        )
        self._log_prior = self.alpha * col_sums.sum()
        return self

    def _fit_incremental(self, inc, data, resp, log_norm):
        """The M-step within ``begin_em``: only the rows the last E-step
        moved update the kept statistics and their logarithms."""
        if inc.table is None:  # first M-step: every row is new
            inc.delta[...] = resp
        n_threads = get_num_threads()
        if inc.ranges is None or inc.ranges[0] != n_threads:
            # column ranges of equal non-zeros, one per thread
            inc.ranges = (n_threads, _kernels.balanced_chunks(
                data.csc.indptr, n_threads))
        csr = data.csr
        _kernels.csr_scatter_rows(
            inc.ranges[1], np.flatnonzero(inc.changed), csr.indptr,
            csr.indices, csr.data, inc.delta, inc.stats, inc.old,
            inc.touched,
        )
        cols = np.flatnonzero(inc.touched)
        inc.touched[cols] = 0
        inc.bound[...] = 0.0
        _kernels.log_stats_update(
            cols, self.alpha, inc.stats, inc.old, inc.log_stats,
            inc.col_sums, inc.bound,
        )
        inc.prev_log_norm, inc.log_norm = inc.log_norm, log_norm
        self._log_prior = self.alpha * (
            inc.col_sums.sum() - data.shape[1] * log_norm.sum()
        )
        return self

    def finalize(self, data):
        """Put the parameters back in the input's column order."""
        log_theta = np.empty_like(self.log_theta)
        log_theta[data.order] = self.log_theta
        self.log_theta = log_theta
        return self

    @property
    def feature_log_prob(self):
        """log theta as (K, V), scikit-learn's orientation (a view)."""
        return self.log_theta.T


class BernoulliEvents(_EventModel):
    """K products of Bernoullis: the presence or absence of every word.

    ``x_w = 1`` when the input is above ``binarize``. The MAP M-step with a
    symmetric Beta(alpha + 1, alpha + 1) prior is (as ``BernoulliNB``)::

        p[w | k] = (alpha + sum_i x_iw r[i, k]) / (2 alpha + sum_i r[i, k])

    and, absent words counting too, the log-likelihood of a row is
    ``x . (log p - log(1 - p)) + sum_w log(1 - p_w)``: one sparse product.
    """

    name = "bernoulli"

    def __init__(self, alpha=1.0, binarize=0.0):
        self.alpha = float(alpha)
        self.binarize = binarize
        self.log_p = None
        self.log_1mp = None
        self._log_prior = 0.0

    def _binary(self, X):
        if self.binarize is None:
            values = X.data if sp.issparse(X) else np.asarray(X)
            if not np.all((values == 0) | (values == 1)):
                raise ValueError(
                    "binarize=None expects binary X (0 or 1 everywhere); "
                    "set binarize to a threshold to binarize counts."
                )
            return X
        if sp.issparse(X):
            X = to_kernel_csr(X).copy()
            X.data = (X.data > self.binarize).astype(np.float64)
            X.eliminate_zeros()
            return X
        return (np.asarray(X) > self.binarize).astype(np.float64)

    def prepare(self, X):
        if isinstance(X, CountData):
            return X
        return CountData(sp.csr_matrix(self._binary(X)))

    def _set(self, log_p, log_1mp):
        self.log_p, self.log_1mp = log_p, log_1mp
        self._log_odds = np.ascontiguousarray(log_p - log_1mp)
        self._log_absent = log_1mp.sum(axis=0)

    def log_prob(self, X, out=None):
        if isinstance(X, CountData) or sp.issparse(X):
            jll = _sparse_dot(X if isinstance(X, CountData)
                              else self._binary(X), self._log_odds)
        else:
            jll = self._binary(X) @ self._log_odds
        jll += self._log_absent
        if out is not None:
            out[...] = jll
            return out
        return jll

    def fit(self, data, resp):
        resp = np.ascontiguousarray(resp, dtype=np.float64)
        return self.fit_statistics((data.transposed_dot(resp),
                                    resp.sum(axis=0)))

    def fit_statistics(self, statistics):
        """The M-step from (summed) ``(X.T @ resp, resp.sum(0))``."""
        present, nk = statistics
        p = (present + self.alpha) / (nk + 2.0 * self.alpha)
        self._set(np.log(p), np.log1p(-p))
        self._log_prior = self.alpha * (self.log_p.sum() + self.log_1mp.sum())
        return self

    def finalize(self, data):
        log_p = np.empty_like(self.log_p)
        log_1mp = np.empty_like(self.log_1mp)
        log_p[data.order] = self.log_p
        log_1mp[data.order] = self.log_1mp
        self._set(log_p, log_1mp)
        return self

    @property
    def feature_log_prob(self):
        """log p as (K, V), as ``BernoulliNB.feature_log_prob_``."""
        return self.log_p.T


class GaussianData:
    """Dense rows with their squares beside them: ``XX = [X * X, X]``.

    Both Gaussian operations are then one matrix product each: the E-step
    ``XX @ W.T`` and the M-step ``resp.T @ XX`` (n x 2d x K), never an
    n x K x d array.
    """

    def __init__(self, X):
        X = np.ascontiguousarray(X, dtype=np.float64)
        self.XX = np.hstack([X * X, X])
        self.n_features = X.shape[1]

    @property
    def shape(self):
        return (self.XX.shape[0], self.n_features)


class GaussianEvents(_EventModel):
    """K Gaussians with diagonal covariances, for dense embeddings.

    ``covariance_type``: ``"diag"`` (a variance per component and feature),
    ``"tied"`` (one diagonal shared by all components) or ``"spherical"``
    (one variance per component). ``reg_covar`` is added to every variance
    (as ``GaussianNB``'s ``epsilon_`` and ``GaussianMixture``'s
    ``reg_covar``), which keeps a component that shrinks onto few rows from
    collapsing.

    Estimates are maximum likelihood (``log_prior()`` is 0). Since the
    variance floor is added rather than optimised over, EM's objective is
    monotone up to terms of order ``reg_covar**2``.
    """

    name = "gaussian"

    def __init__(self, covariance_type="diag", reg_covar=1e-6):
        self.covariance_type = covariance_type
        self.reg_covar = float(reg_covar)
        self.means = None
        self.variances = None
        self._log_prior = 0.0

    @staticmethod
    def prepare(X):
        return X if isinstance(X, GaussianData) else GaussianData(X)

    def _full_variances(self):
        """Variances broadcast to (K, d), whatever the covariance type."""
        K, d = self.means.shape
        if self.covariance_type == "spherical":
            return np.repeat(self.variances[:, None], d, axis=1)
        return np.broadcast_to(self.variances, (K, d))

    def _set(self, means, variances):
        if not np.all(variances > 0):
            raise FloatingPointError(
                "A Gaussian variance is zero (a feature constant within a "
                "component); set reg_covar > 0."
            )
        self.means, self.variances = means, variances
        var = self._full_variances()
        precision = 1.0 / var
        self._weights = np.ascontiguousarray(
            np.hstack([-0.5 * precision, means * precision]).T
        )
        d = means.shape[1]
        self._const = -0.5 * (
            d * np.log(2.0 * np.pi)
            + np.log(var).sum(axis=1)
            + (means * means * precision).sum(axis=1)
        )

    def log_prob(self, X, out=None):
        XX = X.XX if isinstance(X, GaussianData) else GaussianData(X).XX
        out = np.dot(XX, self._weights, out=out)
        out += self._const
        return out

    def fit(self, data, resp):
        return self.fit_statistics(self.statistics(data, resp))

    @staticmethod
    def statistics(data, resp):
        """Sums over rows that the M-step needs: ``(resp.T @ [X*X, X],
        resp.sum(0))``; additive over row blocks (chunked EM)."""
        # (XX.T @ resp).T, not resp.T @ XX: OpenBLAS's threaded kernel for
        # the latter shape runs up to 10x slower on this (n >> K) product.
        return (data.XX.T @ resp).T, resp.sum(axis=0)

    def fit_statistics(self, statistics):
        """The M-step from (summed) :meth:`statistics`."""
        stats, nk = statistics
        # A component without mass keeps finite (unused) parameters.
        safe_nk = np.where(nk > 0, nk, 1.0)[:, None]
        d = stats.shape[1] // 2
        means = stats[:, d:] / safe_nk
        second = stats[:, :d] / safe_nk
        if self.covariance_type == "tied":
            second = second.T @ nk / nk.sum()
            spread = second - (means**2).T @ nk / nk.sum()
        else:
            spread = second - means**2
        # E[x^2] - E[x]^2 cancels: what is left within rounding error of
        # E[x^2] is a zero variance (a feature constant in a component).
        spread[spread <= 16 * np.finfo(np.float64).eps * second] = 0.0
        variances = spread + self.reg_covar
        if self.covariance_type == "spherical":
            variances = variances.mean(axis=1)
        self._set(means, variances)
        return self


def make_event_model(name, *, alpha=1.0, binarize=0.0, covariance_type="diag",
                     reg_covar=1e-6):
    """The event model called ``name`` with the relevant hyper-parameters."""
    if name == "multinomial":
        return MultinomialEvents(alpha)
    if name == "bernoulli":
        return BernoulliEvents(alpha, binarize)
    if name == "gaussian":
        return GaussianEvents(covariance_type, reg_covar)
    raise ValueError(
        f"event_model must be one of {EVENT_MODELS} or 'auto', got {name!r}."
    )
