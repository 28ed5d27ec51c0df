"""Chunked (out-of-core and Dask) EM for :class:`~probssl.MixtureOfExperts`.

The multinomial EM-I / EM-II of ``MixtureOfExperts._run_em`` as a map over
chunks of rows and a sum of their sufficient statistics, as
:mod:`probssl._chunked` does for EMNaiveBayes. Per iteration and chunk, with
the current ``log theta`` (V, J) and the log prior table (C + 1, J) (row 0:
``log alpha_l`` for unlabeled rows; row c + 1: ``log alpha_l + log beta(c |
l)``): the weighted responsibilities of the chunk's rows, then

* word counts ``X.T @ R`` (V, J), ``R.sum(0)`` (J), token totals
  ``lengths @ R`` (J),
* the labeled class mass per component (C, J) and the unlabeled mass (J),
  from which the class tables are updated (EM-II adds the unlabeled mass),
* the weighted log-likelihood.

Summed over chunks, the M-step is the in-memory one (same dropped
components, same class tables), so the fit equals ``fit`` on the whole data
up to rounding. Only ``init="labeled"`` is supported: the k-means and
random starts need every row at once (or, for ``"random"``, one draw per
row of the whole corpus); with more components than classes the random
spread of the labeled rows is drawn class by class as ``fit`` draws it.
"""

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state

from . import _kernels
from ._chunked import (_EVENT_ATTRIBUTES, _iterate, check_estimator_for_chunks,
                       find_classes, m_step, prepare_chunk)
from ._em import record_iteration
from .mixture_of_experts import (_DROPPED_HINT, _class_table,
                                 _kept_components, _prior_table)
from ._events import MultinomialEvents

__all__ = ["check_moe_for_chunks", "fit_chunked_moe", "moe_chunk_statistics",
           "moe_em", "spread_blocks"]

def check_moe_for_chunks(est):
    check_estimator_for_chunks(est, models=("multinomial",))
    if est.init != "labeled":
        raise NotImplementedError(
            "chunked and distributed MixtureOfExperts fits support "
            f"init='labeled' only, got init={est.init!r} (k-means and random "
            "starts need every row at once)."
        )


def n_components_of(est, n_classes):
    return n_classes if est.n_components is None else int(est.n_components)


def chunk_class_counts(chunk, n_classes):
    """Rows of positive weight per class in one chunk, (C + 1,): the last
    entry counts the unlabeled rows."""
    rc = chunk.row_class
    return np.bincount(np.where(rc >= 0, rc, n_classes),
                       minlength=n_classes + 1)


def _owners(n_classes, J):
    """The components each class starts on (``_initial_resp``'s rule)."""
    owner = np.arange(J) % n_classes
    return [np.flatnonzero(owner == c) if J >= n_classes
            else np.array([c % J]) for c in range(n_classes)]


def spread_blocks(counts_per_chunk, n_classes, J, rng):
    """The labeled rows' random spread of one start, cut into chunks.

    ``counts_per_chunk`` (n_chunks, C): labeled rows per chunk and class.
    Drawn class by class over all rows of the class, as ``_initial_resp``
    draws it, so that a chunked start equals the in-memory one. Returns one
    ``{class: (rows, n_owned)}`` dict per chunk (``None`` entries where a
    class starts on one component: no draw).
    """
    counts = np.asarray(counts_per_chunk, dtype=np.intp).reshape(-1, n_classes)
    blocks = [dict() for _ in range(counts.shape[0])]
    for c, comps in enumerate(_owners(n_classes, J)):
        total = int(counts[:, c].sum())
        if comps.size == 1 or total == 0:
            continue
        draw = rng.random_sample((total, comps.size))
        edges = np.concatenate([[0], np.cumsum(counts[:, c])])
        for k in range(counts.shape[0]):
            blocks[k][c] = draw[edges[k]:edges[k + 1]]
    return blocks


def initial_resp(chunk, n_classes, J, spread):
    """``_initial_resp(init="labeled")`` on the rows of one chunk."""
    rc, w = chunk.row_class, chunk.weights
    resp = np.zeros((rc.shape[0], J))
    labeled = np.flatnonzero(rc >= 0)
    for c, comps in enumerate(_owners(n_classes, J)):
        rows = labeled[rc[labeled] == c]
        if comps.size == 1:
            resp[rows, comps[0]] = 1.0
        elif rows.size:
            s = spread[c] / spread[c].sum(axis=1, keepdims=True)
            resp[rows[:, None], comps] = s
    resp *= w[:, None]
    return resp


def moe_chunk_statistics(chunk, params, n_classes, J, spread=None):
    """Sufficient statistics of one chunk: ``(counts (V, J), mass (J,),
    totals (J,), labeled mass (C, J), unlabeled mass (J,), loglik)``.

    ``params``: ``(log_theta (V, J), table (C + 1, J))`` for an E-step, or
    ``None`` for the start (``spread``: this chunk's :func:`spread_blocks`).
    """
    csr = chunk.csr
    n, V = csr.shape
    if params is None:
        resp = initial_resp(chunk, n_classes, J, spread or {})
        loglik = 0.0
    else:
        log_theta, table = params
        J = log_theta.shape[1]
        if n == 0:
            resp = np.zeros((0, J))
            loglik = 0.0
        else:
            jll = np.empty((n, J))
            _kernels.csr_dense_dot(
                _kernels.balanced_chunks(csr.indptr), csr.indptr,
                csr.indices, csr.data, log_theta, jll,
            )
            resp = np.empty((n, J))
            row_loglik = np.empty(n)
            _kernels.table_posterior(jll, table, chunk.row_class,
                                     chunk.weights, resp, row_loglik)
            loglik = float(row_loglik.sum())
    counts = np.zeros((V, J))
    if n:
        csc = csr.tocsc()
        csc.sort_indices()
        _kernels.csr_dense_dot(
            _kernels.balanced_chunks(csc.indptr), csc.indptr, csc.indices,
            csc.data, resp, counts,
        )
    rc = chunk.row_class
    labeled = rc >= 0
    lab = np.zeros((n_classes, J))
    np.add.at(lab, rc[labeled], resp[labeled])
    return (counts, resp.sum(axis=0), chunk.lengths @ resp, lab,
            resp[~labeled].sum(axis=0), loglik)


def add_moe_statistics(a, b):
    return tuple(x + y for x, y in zip(a, b))


def moe_em(est, pass_statistics, n_classes, J, has_unlabeled,
           callback=None):
    """EM-I / EM-II from ``pass_statistics(params, run)`` (``params=None``:
    the start of run ``run``), ``n_init`` runs when the start is random.
    Sets the fitted attributes of ``est``; returns it."""
    deterministic = J <= n_classes
    best = None
    for run in range(1 if deterministic else est.n_init):
        result = _one_run(est, pass_statistics, run, n_classes, J,
                          has_unlabeled, callback)
        if best is None or result["history"][-1] > best["history"][-1]:
            best = result
    if not best["converged"]:
        warnings.warn(
            f"{type(est).__name__} did not converge in "
            f"max_iter={est.max_iter} iterations; raise max_iter or tol.",
            ConvergenceWarning,
        )
    events = MultinomialEvents(float(est.alpha))
    events.log_theta = np.ascontiguousarray(best["log_theta"])
    events._log_prior = best["events_prior"]
    est.event_model_ = "multinomial"
    est.n_features_in_ = events.log_theta.shape[0]
    est.events_ = events
    est.n_components_ = best["kept"].size
    est.weights_ = np.exp(best["log_weights"])
    est._log_weights = best["log_weights"]
    est.class_table_ = best["beta"]
    est.n_iter_ = best["n_iter"]
    est.converged_ = best["converged"]
    est.lower_bound_ = best["history"][-1]
    est.lower_bounds_ = best["history"]
    est.component_feature_log_prob_ = events.feature_log_prob
    return est


def _one_run(est, pass_statistics, run, n_classes, J, has_unlabeled,
             callback):
    owner = type(est).__name__
    alpha = float(est.alpha)
    em2 = est.algorithm == "em2"
    stats = pass_statistics(None, run)
    class_mass = stats[3].sum(axis=1)
    if not class_mass.sum() > 0:
        raise ValueError(
            "Every labeled row has sample_weight 0: nothing to learn from."
        )
    class_freq = class_mass / class_mass.sum()
    kept = np.arange(J)
    beta = None
    history = []
    converged = False
    for n_iter in range(1, est.max_iter + 1):
        counts, mass, totals, lab, unl, _ = stats
        keep = _kept_components(mass, kept, owner, n_iter)
        if not keep.all():
            kept = kept[keep]
            counts, mass, totals = counts[:, keep], mass[keep], totals[keep]
            lab, unl = lab[:, keep], unl[keep]
            if beta is not None:
                beta = beta[keep]
        log_weights = np.log(mass) - np.log(mass.sum())
        log_theta, _, events_prior = m_step((counts, mass, totals, 0.0),
                                            alpha, 0.0)
        beta = _class_table(lab.T, beta, class_freq,
                            unl if em2 and has_unlabeled else None)
        stats = pass_statistics((np.ascontiguousarray(log_theta),
                                 _prior_table(log_weights, beta)), run)
        objective = float(stats[5]) + events_prior
        if record_iteration(history, objective, n_iter, owner=owner,
                            verbose=est.verbose, tol=est.tol,
                            callback=callback, hint=_DROPPED_HINT):
            converged = True
            break
    return dict(log_theta=log_theta, log_weights=log_weights, beta=beta,
                kept=kept, n_iter=n_iter, converged=converged,
                history=history, events_prior=events_prior)


def fit_chunked_moe(est, chunks, classes=None, callback=None):
    """Fit ``est`` (a MixtureOfExperts) by EM over chunks read one at a
    time; see ``MixtureOfExperts.fit_chunks``."""
    check_moe_for_chunks(est)
    for name in _EVENT_ATTRIBUTES + ("class_table_", "weights_"):
        est.__dict__.pop(name, None)
    est.classes_ = classes = find_classes(chunks, classes)
    C = len(classes)
    J = n_components_of(est, C)
    state = {"V": None}

    def prepared():
        for X, y, w in _iterate(chunks):
            chunk = prepare_chunk(X, y, w, classes, 1.0, state["V"])
            if state["V"] is None:
                state["V"] = chunk.n_features
            yield chunk

    counts = np.array([chunk_class_counts(c, C) for c in prepared()])
    if counts.size == 0:
        raise ValueError("chunks yielded no chunk.")
    rng = check_random_state(est.random_state)

    def pass_statistics(params, run):
        blocks = (spread_blocks(counts[:, :C], C, J, rng)
                  if params is None and J > C else None)
        total = None
        for k, chunk in enumerate(prepared()):
            s = moe_chunk_statistics(chunk, params, C, J,
                                     blocks[k] if blocks else None)
            total = s if total is None else add_moe_statistics(total, s)
        return total

    return moe_em(est, pass_statistics, C, J, bool(counts[:, C].sum()),
                  callback)
