"""Chunked (out-of-core) EM for :class:`~probssl.EMNaiveBayes`.

The multinomial EM of :func:`probssl._em.run_em`, rewritten as a map over
chunks of rows and a sum of their sufficient statistics, so that a corpus
never needs to be in memory at once. Per iteration and chunk:

* E-step with the current ``log theta`` (V, K) and ``log pi`` (K): the
  weighted, clamped responsibilities ``R`` of the chunk's rows (the fused
  Numba kernel of the in-memory fit) and their weighted log-likelihood;
* statistics: word counts ``X.T @ R`` (V, K), ``R.sum(0)`` (K), weighted
  token totals ``lengths @ R`` (K) and the log-likelihood (a float).

The Gaussian model (dense chunks) works the same way with
``R.T @ [X*X, X]`` and ``R.sum(0)`` as its statistics, the Bernoulli model
(chunks binarized once) with ``X.T @ R`` and ``R.sum(0)``; their M-steps
are the event models' ``fit_statistics``.

The statistics of all chunks are summed; the M-step from the sums is the one
of :class:`~probssl._events.MultinomialEvents` and
:func:`~probssl._em.log_component_prior`, the objective and stopping rule
those of ``run_em``. The result equals the in-memory fit up to rounding
(different summation order), whatever the chunking.

The same per-chunk functions (:func:`prepare_chunk`,
:func:`chunk_statistics`) run on Dask workers in :mod:`probssl.distributed`.

Memory: one chunk (its CSR, a CSC copy and its (n_chunk, K)
responsibilities) plus a few (V, K) parameter and statistics arrays.
"""

import glob
import os
import warnings
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.special import logsumexp
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state

from . import _kernels
from ._events import (BernoulliEvents, GaussianData, GaussianEvents,
                      MultinomialEvents, class_prior_table, make_event_model)
from ._em import record_iteration
from ._validation import _unlabeled_mask, encode_known_labels, to_kernel_csr

__all__ = ["NpzChunks", "fit_chunked", "write_npz_chunks"]

_EVENT_ATTRIBUTES = (
    "means_", "variances_", "theta_", "var_", "feature_log_prob_",
    "component_feature_log_prob_", "transduction_",
)


# -- chunk sources ------------------------------------------------------------
class NpzChunks:
    """Re-iterable chunks from a folder of ``.npz`` CSR files.

    Every ``NAME.npz`` (written by :func:`scipy.sparse.save_npz`) holds the
    rows of one chunk; ``NAME.y.npy`` its labels (``-1``: unlabeled) and,
    optionally, ``NAME.w.npy`` its sample weights. Chunks are read one at a
    time, sorted by file name, every time the object is iterated.
    """

    def __init__(self, folder):
        self.folder = os.fspath(folder)
        self.files = sorted(glob.glob(os.path.join(self.folder, "*.npz")))
        if not self.files:
            raise FileNotFoundError(f"no .npz chunk in {self.folder!r}")

    def __len__(self):
        return len(self.files)

    def __iter__(self):
        for path in self.files:
            stem = path[: -len(".npz")]
            X = sp.load_npz(path)
            y = np.load(stem + ".y.npy", allow_pickle=False)
            if os.path.exists(stem + ".w.npy"):
                yield X, y, np.load(stem + ".w.npy", allow_pickle=False)
            else:
                yield X, y


def write_npz_chunks(folder, X, y, chunk_rows, sample_weight=None,
                     start=0):
    """Write (X, y[, sample_weight]) as chunks of ``chunk_rows`` rows.

    Files are ``chunk_{i:06d}.npz`` / ``.y.npy`` / ``.w.npy`` with ``i``
    counted from ``start`` (to append to a folder chunk by chunk). Returns
    the number of chunks written.
    """
    os.makedirs(folder, exist_ok=True)
    X = sp.csr_matrix(X)
    y = np.asarray(y)
    n = X.shape[0]
    i = start
    for lo in range(0, n, int(chunk_rows)):
        hi = min(lo + int(chunk_rows), n)
        stem = os.path.join(os.fspath(folder), f"chunk_{i:06d}")
        sp.save_npz(stem + ".npz", X[lo:hi], compressed=False)
        np.save(stem + ".y.npy", y[lo:hi])
        if sample_weight is not None:
            np.save(stem + ".w.npy",
                    np.asarray(sample_weight, dtype=np.float64)[lo:hi])
        i += 1
    return i - start


def _iterate(chunks):
    """One pass over ``chunks``: a callable returning an iterator, or a
    re-iterable (list, :class:`NpzChunks`); items (X, y) or (X, y, w)."""
    source = chunks() if callable(chunks) else chunks
    it = iter(source)
    if it is source and not callable(chunks):
        raise TypeError(
            "chunks must be re-iterable (EM reads them once per iteration): "
            "pass a list, an NpzChunks, or a callable returning an iterator."
        )
    for item in it:
        if len(item) == 2:
            yield item[0], item[1], None
        elif len(item) == 3:
            yield item
        else:
            raise ValueError("a chunk must be (X, y) or (X, y, sample_weight)")


# -- per-chunk work (also run on Dask workers) -------------------------------
@dataclass
class Chunk:
    """A validated chunk: its active rows (weight > 0) only; counts as
    ``csr`` (with ``lengths``), or dense reals as ``dense`` (Gaussian)."""

    csr: sp.csr_matrix
    row_class: np.ndarray
    weights: np.ndarray
    lengths: np.ndarray
    dense: np.ndarray = None

    @property
    def n_labeled(self):
        return int(np.count_nonzero(self.row_class >= 0))

    @property
    def n_features(self):
        return (self.dense if self.csr is None else self.csr).shape[1]


def check_dense(X, n_features=None):
    """X as a dense float64 2-D array, checked finite (Gaussian model)."""
    if sp.issparse(X):
        raise TypeError("the Gaussian event model needs dense X chunks; got "
                        "a sparse matrix.")
    try:
        X = np.ascontiguousarray(X, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"X chunk must be numeric: {exc}") from None
    if X.ndim != 2:
        raise ValueError(f"a chunk of X must be 2-D, got {X.ndim}-D.")
    if n_features is not None and X.shape[1] != n_features:
        raise ValueError(
            f"chunk has {X.shape[1]} features, expected {n_features}."
        )
    if not np.all(np.isfinite(X)):
        raise ValueError("X contains NaN or infinity.")
    return X


def check_binary(X, n_features=None, binarize=0.0):
    """X as kernel CSR of 0/1 (``x > binarize``; as is when ``binarize`` is
    None, which then must be binary already), checked finite."""
    if not sp.issparse(X):
        X = check_dense(X, n_features)
    elif n_features is not None and X.shape[1] != n_features:
        raise ValueError(
            f"chunk has {X.shape[1]} features, expected {n_features}."
        )
    values = X.data if sp.issparse(X) else X
    if not np.all(np.isfinite(values)):
        raise ValueError("X contains NaN or infinity.")
    return to_kernel_csr(BernoulliEvents(1.0, binarize)._binary(X))


def check_counts(X, n_features=None):
    """X as kernel CSR, checked finite and non-negative."""
    if not sp.issparse(X):
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2:
            raise ValueError(f"a chunk of X must be 2-D, got {X.ndim}-D.")
    X = to_kernel_csr(X)
    if n_features is not None and X.shape[1] != n_features:
        raise ValueError(
            f"chunk has {X.shape[1]} features, expected {n_features}."
        )
    if not np.all(np.isfinite(X.data)):
        raise ValueError("X contains NaN or infinity.")
    if X.data.size and X.data.min() < 0:
        raise ValueError("Negative values in data passed to EMNaiveBayes "
                         "(input X); counts must be non-negative.")
    return X


def chunk_labels(y, sample_weight=None):
    """Labels seen on labeled rows, and the number of labeled rows with
    positive weight (the rows the initial random spread is drawn for)."""
    y = np.asarray(y).ravel()
    unlabeled = _unlabeled_mask(y)
    labeled_y = y[~unlabeled]
    if labeled_y.dtype == object:
        labeled_y = np.asarray(labeled_y.tolist())
    if sample_weight is None:
        n_active = labeled_y.shape[0]
    else:
        sw = np.asarray(sample_weight, dtype=np.float64).ravel()
        n_active = int(np.count_nonzero(sw[~unlabeled] > 0))
    return np.unique(labeled_y), n_active


def merge_labels(parts):
    """Sorted union of :func:`chunk_labels` results; total active count."""
    labels = [p[0] for p in parts if p[0].size]
    if not labels:
        raise ValueError(
            "y has no labeled rows: every entry is -1 (unlabeled). At least "
            "one labeled row per class to be learned is needed."
        )
    return np.unique(np.concatenate(labels)), sum(int(p[1]) for p in parts)


def prepare_chunk(X, y, sample_weight, classes, unlabeled_weight,
                  n_features=None, event_model="multinomial", binarize=0.0):
    """Validate a chunk and keep its rows of positive weight (as fit does);
    Bernoulli chunks are binarized here, once."""
    gaussian = event_model == "gaussian"
    if gaussian:
        X = check_dense(X, n_features)
    elif event_model == "bernoulli":
        X = check_binary(X, n_features, binarize)
    else:
        X = check_counts(X, n_features)
    y = np.asarray(y).ravel()
    if y.shape[0] != X.shape[0]:
        raise ValueError(
            f"X and y chunks have {X.shape[0]} and {y.shape[0]} rows."
        )
    row_class = encode_known_labels(classes, y)
    if sample_weight is None:
        sw = np.ones(X.shape[0])
    else:
        sw = np.asarray(sample_weight, dtype=np.float64).ravel()
        if sw.shape[0] != X.shape[0] or not np.all(np.isfinite(sw)) or (
            sw.size and sw.min() < 0
        ):
            raise ValueError("sample_weight chunk must be finite, "
                             "non-negative and match X's rows.")
    weights = sw * np.where(row_class >= 0, 1.0, float(unlabeled_weight))
    active = weights > 0
    if not active.all():
        X = (np.ascontiguousarray(X[active]) if gaussian
             else to_kernel_csr(X[active]))
        row_class = row_class[active]
        weights = weights[active]
    row_class = np.ascontiguousarray(row_class, dtype=np.int64)
    weights = np.ascontiguousarray(weights)
    if gaussian:
        return Chunk(None, row_class, weights, None, dense=X)
    lengths = np.asarray(X.sum(axis=1)).ravel()
    return Chunk(X, row_class, weights, lengths)


def initial_resp(chunk, n_classes, M, spread=None):
    """The labeled rows' weighted responsibilities (``_initial_resp``);
    ``spread`` (n_labeled, M): the chunk's rows of the random spread."""
    n = chunk.row_class.shape[0]
    resp = np.zeros((n, n_classes * M))
    labeled = np.flatnonzero(chunk.row_class >= 0)
    rc, w = chunk.row_class, chunk.weights
    if M == 1:
        resp[labeled, rc[labeled]] = w[labeled]
    else:
        spread = spread / spread.sum(axis=1, keepdims=True)
        cols = rc[labeled, None] * M + np.arange(M)
        resp[labeled[:, None], cols] = spread * w[labeled, None]
    return resp


def chunk_statistics(chunk, params, n_classes, M, spread=None):
    """Sufficient statistics of one chunk.

    ``params``: ``(log_theta (V, K), log_pi (K,))`` for an E-step, or
    ``None`` for the labeled rows' initial responsibilities (``spread``
    then holds the chunk's random spread when M > 1).

    Returns ``(word_counts (V, K), resp_sums (K,), totals (K,), loglik)``:
    ``X.T @ R``, ``R.sum(0)``, ``lengths @ R`` and the weighted
    log-likelihood of the rows (0 for the initial pass).
    """
    if chunk.dense is not None:
        return _gaussian_chunk_statistics(chunk, params, n_classes, M, spread)
    if params is not None and not isinstance(params[0], np.ndarray):
        return _bernoulli_chunk_statistics(chunk, params, n_classes, M)
    csr = chunk.csr
    n, V = csr.shape
    K = n_classes * M
    if n == 0:
        return np.zeros((V, K)), np.zeros(K), np.zeros(K), 0.0
    if params is None:
        resp = initial_resp(chunk, n_classes, M, spread)
        loglik = 0.0
    else:
        log_theta, log_pi = params
        resp = np.empty((n, K))
        row_loglik = np.empty(n)
        _kernels.csr_dense_dot_posterior(
            _kernels.balanced_chunks(csr.indptr), csr.indptr, csr.indices,
            csr.data, log_theta, class_prior_table(log_pi, M),
            chunk.row_class, chunk.weights, resp, row_loglik,
        )
        loglik = float(row_loglik.sum())
    return (_transposed_dot(csr, resp), resp.sum(axis=0),
            chunk.lengths @ resp, loglik)


def _transposed_dot(csr, resp):
    """``csr.T @ resp`` (V, K) with the parallel kernel over a CSC copy."""
    csc = csr.tocsc()
    csc.sort_indices()
    out = np.empty((csr.shape[1], resp.shape[1]))
    _kernels.csr_dense_dot(
        _kernels.balanced_chunks(csc.indptr), csc.indptr, csc.indices,
        csc.data, resp, out,
    )
    return out


def _gaussian_chunk_statistics(chunk, params, n_classes, M, spread):
    """As :func:`chunk_statistics` for the Gaussian model: ``params`` is
    ``(GaussianEvents, log_pi)``; returns ``(resp.T @ [X*X, X] (K, 2d),
    resp_sums (K,), (empty), loglik)``."""
    X = chunk.dense
    n, d = X.shape
    K = n_classes * M
    if n == 0:
        return np.zeros((K, 2 * d)), np.zeros(K), np.zeros(0), 0.0
    data = GaussianData(X)
    if params is None:
        resp = initial_resp(chunk, n_classes, M, spread)
        loglik = 0.0
    else:
        events, log_pi = params
        resp = np.empty((n, K))
        row_loglik = np.empty(n)
        _kernels.table_posterior(
            events.log_prob(data), class_prior_table(log_pi, M),
            chunk.row_class, chunk.weights, resp, row_loglik,
        )
        loglik = float(row_loglik.sum())
    xxr, resp_sums = GaussianEvents.statistics(data, resp)
    return xxr, resp_sums, np.zeros(0), loglik


def _bernoulli_chunk_statistics(chunk, params, n_classes, M):
    """As :func:`chunk_statistics` for the Bernoulli model (binarized
    chunk): ``params`` is ``(BernoulliEvents, log_pi)``; returns
    ``(X.T @ resp (V, K), resp_sums (K,), lengths @ resp, loglik)``."""
    csr = chunk.csr
    n, V = csr.shape
    K = n_classes * M
    if n == 0:
        return np.zeros((V, K)), np.zeros(K), np.zeros(K), 0.0
    events, log_pi = params
    # The chunk is binary already: x . log-odds + sum log(1 - p), without
    # log_prob's binarization (x = 1 is not > binarize = 1).
    jll = np.empty((n, K))
    _kernels.csr_dense_dot(
        _kernels.balanced_chunks(csr.indptr), csr.indptr, csr.indices,
        csr.data, events._log_odds, jll,
    )
    jll += events._log_absent
    resp = np.empty((n, K))
    row_loglik = np.empty(n)
    _kernels.table_posterior(
        jll, class_prior_table(log_pi, M), chunk.row_class, chunk.weights,
        resp, row_loglik,
    )
    return (_transposed_dot(csr, resp), resp.sum(axis=0),
            chunk.lengths @ resp, float(row_loglik.sum()))


def add_statistics(a, b):
    """Sum of two statistics tuples (the reduction)."""
    return a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3] + b[3]


def m_step(stats, alpha, prior_alpha):
    """Parameters from summed statistics: ``(log_theta, log_pi,
    events_log_prior)`` as ``MultinomialEvents.fit`` and
    ``log_component_prior``."""
    counts, resp_sums, totals, _ = stats
    V = counts.shape[0]
    log_theta = np.log(alpha + counts)
    log_theta -= np.log(alpha * V + totals)
    log_prior = alpha * log_theta.sum()
    return log_theta, _log_pi(resp_sums, prior_alpha), log_prior


def _log_pi(resp_sums, prior_alpha):
    """``log_component_prior`` from summed responsibilities."""
    c = resp_sums + prior_alpha
    with np.errstate(divide="ignore"):
        return np.log(c) - np.log(c.sum())


# -- the EM loop --------------------------------------------------------------
def chunk_event_model(est):
    """The event model of a chunked fit: ``"auto"`` means multinomial (the
    chunks are not all seen before the first pass)."""
    return "multinomial" if est.event_model == "auto" else est.event_model


def check_estimator_for_chunks(est,
                               models=("multinomial", "bernoulli", "gaussian")):
    est._validate_params()
    if chunk_event_model(est) not in models:
        raise NotImplementedError(
            "chunked and distributed fits support the "
            f"{' and '.join(models)} event model(s), got "
            f"event_model={est.event_model!r}."
        )


def em_loop(est, pass_statistics, n_classes, callback=None):
    """EM from a function ``pass_statistics(params)`` that returns the
    summed statistics of a full pass (``params=None``: initial pass).
    Sets the fitted attributes of ``est``; returns it."""
    alpha = float(est.alpha)
    prior_alpha = float(est.prior_smoothing)
    owner = type(est).__name__
    stats = pass_statistics(None)
    if not np.any(stats[1] > 0):
        raise ValueError(
            "Every labeled row has sample_weight 0: nothing to learn from."
        )
    history = []
    converged = False
    n_iter = 0
    model = chunk_event_model(est)
    for n_iter in range(1, est.max_iter + 1):
        if model != "multinomial":
            events = make_event_model(
                model, alpha=alpha, binarize=est.binarize,
                covariance_type=est.covariance_type, reg_covar=est.reg_covar,
            ).fit_statistics((stats[0], stats[1]))
            log_pi = _log_pi(stats[1], prior_alpha)
            events_prior, e_params = events.log_prior(), events
        else:
            log_theta, log_pi, events_prior = m_step(stats, alpha,
                                                     prior_alpha)
            e_params = log_theta
        stats = pass_statistics((e_params, log_pi))
        objective = stats[3] + events_prior
        if prior_alpha > 0:
            objective += prior_alpha * log_pi.sum()
        if record_iteration(history, objective, n_iter, owner=owner,
                            verbose=est.verbose, tol=est.tol,
                            callback=callback):
            converged = True
            break
    if not converged:
        warnings.warn(
            f"{owner} did not converge in max_iter={est.max_iter} "
            "iterations; raise max_iter or tol.",
            ConvergenceWarning,
        )
    if model == "multinomial":
        events = MultinomialEvents(alpha)
        events.log_theta = np.ascontiguousarray(log_theta)
        events._log_prior = events_prior
    set_fitted(est, events, log_pi, n_iter, converged, history, n_classes)
    return est


def set_fitted(est, events, log_pi, n_iter, converged, history, n_classes):
    """The attributes ``EMNaiveBayes.fit`` sets (but ``transduction_``)."""
    M = est.n_components_per_class
    est.event_model_ = events.name
    est.events_ = events
    est.n_iter_ = n_iter
    est.converged_ = converged
    est.lower_bound_ = history[-1] if history else -np.inf
    est.lower_bounds_ = history
    est.component_log_prior_ = log_pi
    est.class_log_prior_ = logsumexp(log_pi.reshape(n_classes, M), axis=1)
    if events.name == "gaussian":
        est.n_features_in_ = events.means.shape[1]
        est.means_ = events.means
        est.variances_ = events.variances
        if M == 1:  # GaussianNB's names, as fit sets them
            est.theta_ = est.means_
            est.var_ = events._full_variances()
        return
    est.component_feature_log_prob_ = events.feature_log_prob
    est.n_features_in_ = est.component_feature_log_prob_.shape[1]
    if M == 1:
        est.feature_log_prob_ = est.component_feature_log_prob_
    else:
        within = log_pi.reshape(n_classes, M) - est.class_log_prior_[:, None]
        comp = est.component_feature_log_prob_.reshape(n_classes, M, -1)
        est.feature_log_prob_ = logsumexp(comp + within[..., None], axis=1)


def find_classes(chunks, classes=None):
    """The sorted class labels: ``classes`` when given, else those seen on
    the labeled rows of a first pass over the chunks."""
    if classes is not None:
        return np.unique(np.asarray(classes))
    return merge_labels(
        [chunk_labels(y, w) for _, y, w in _iterate(chunks)]
    )[0]


def fit_chunked(est, chunks, classes=None, callback=None):
    """Fit ``est`` (an EMNaiveBayes) by EM over chunks read one at a time.

    Parameters
    ----------
    est : EMNaiveBayes
        Multinomial event model (``event_model`` ``"auto"`` or
        ``"multinomial"``); any ``n_components_per_class``,
        ``unlabeled_weight``, ``prior_smoothing``.
    chunks : callable or re-iterable
        ``chunks()`` returns a fresh iterator, or ``iter(chunks)`` does (a
        list, an :class:`NpzChunks`); items are ``(X, y)`` or
        ``(X, y, sample_weight)``, X sparse or dense counts, ``y == -1`` on
        unlabeled rows. Read ``n_iter_ + 2`` times (``+ 1`` with
        ``classes`` given).
    classes : array-like, default=None
        The class labels; found by a first pass over y when None.
    callback : callable, default=None
        ``callback(n_iter, objective)`` after every iteration.

    Returns
    -------
    est
        Fitted exactly as by ``est.fit`` on the concatenated chunks (up to
        rounding; the same random spread for M > 1), except that
        ``transduction_`` is not set: predict the unlabeled rows chunk by
        chunk instead.
    """
    check_estimator_for_chunks(est)
    for name in _EVENT_ATTRIBUTES:
        est.__dict__.pop(name, None)
    est.classes_ = classes = find_classes(chunks, classes)
    n_classes = len(classes)
    M = est.n_components_per_class
    state = {"V": None}

    def pass_statistics(params):
        rng = check_random_state(est.random_state) if (
            params is None and M > 1) else None
        total = None
        for X, y, w in _iterate(chunks):
            chunk = prepare_chunk(X, y, w, classes, est.unlabeled_weight,
                                  state["V"], chunk_event_model(est),
                                  est.binarize)
            if state["V"] is None:
                state["V"] = chunk.n_features
            spread = (rng.random_sample((chunk.n_labeled, M))
                      if rng is not None else None)
            s = chunk_statistics(chunk, params, n_classes, M, spread)
            del chunk
            total = s if total is None else add_statistics(total, s)
        if total is None:
            raise ValueError("chunks yielded no chunk.")
        return total

    return em_loop(est, pass_statistics, n_classes, callback)
