"""The EM loop for a mixture whose components are grouped by class.

Shared by the estimators that are "a prior over components + an event
model": components ``c * M ... c * M + M - 1`` belong to class ``c``;
labeled rows are clamped to their class's components, unlabeled rows may
take any component.
"""

import warnings
from dataclasses import dataclass, field

import numpy as np
from sklearn.exceptions import ConvergenceWarning



@dataclass
class EMResult:
    log_prior: np.ndarray
    n_iter: int
    converged: bool
    lower_bound: float
    history: list = field(default_factory=list)
    resp: np.ndarray = None


def record_iteration(history, objective, n_iter, *, owner, verbose, tol,
                     callback=None,
                     hint="a class whose prior mass vanished?"):
    """Book-keeping after an E-step, shared by every EM loop.

    Raises FloatingPointError on a non-finite objective (a row that no
    component it may take can explain), appends it to ``history``, reports
    it (``verbose``, ``callback(n_iter, objective)``) and returns whether
    EM has converged: a gain of at most ``tol * |objective|``.
    """
    if not np.isfinite(objective):
        raise FloatingPointError(
            f"{owner}: the EM objective became {objective} at iteration "
            f"{n_iter}; a row has zero probability under every component "
            f"it may take ({hint})."
        )
    history.append(float(objective))
    if verbose:
        gain = objective - history[-2] if len(history) > 1 else np.nan
        print(f"{owner} iteration {n_iter:3d}: objective {objective:.6f} "
              f"(gain {gain:.3g})", flush=True)
    if callback is not None:
        callback(n_iter, objective)
    return len(history) > 1 and (
        history[-1] - history[-2] <= tol * abs(history[-1])
    )


def log_component_prior(resp, prior_alpha):
    """MAP (``prior_alpha`` > 0) or ML log mixing weights from weighted resp."""
    counts = resp.sum(axis=0) + prior_alpha
    with np.errstate(divide="ignore"):
        return np.log(counts) - np.log(counts.sum())


def run_em(
    events,
    data,
    resp,
    row_class,
    n_per_class,
    weights,
    *,
    prior_alpha,
    max_iter,
    tol,
    verbose=0,
    owner="EM",
):
    """Run EM from the initial weighted responsibilities ``resp``.

    Each iteration: M-step from ``resp`` (event model and mixing weights),
    then E-step with the new parameters, which also yields the MAP
    objective of those parameters::

        sum_i w_i log sum_{k allowed for i} pi_k p(x_i | k)
        + events.log_prior() + prior_alpha * sum_k log pi_k

    EM never decreases it. Stops when the gain is at most
    ``tol * |objective|`` (a relative gain: the objective of a corpus grows
    with its size) or after ``max_iter`` E-steps. The final parameters are
    those of the last E-step, so ``lower_bound`` is exactly their objective.

    ``resp`` is updated in place and holds the last E-step's weighted
    responsibilities on return.
    """
    n_samples = resp.shape[0]
    row_loglik = np.empty(n_samples)
    history = []
    begin_em = getattr(events, "begin_em", None)
    if begin_em is not None:
        begin_em(data, resp.shape[1])
    try:
        n_iter, converged, log_pi = _iterate(
            events, data, resp, row_class, n_per_class, weights, row_loglik,
            history, prior_alpha, max_iter, tol, verbose, owner,
        )
    finally:
        if begin_em is not None:
            events.end_em()
    if not converged:
        warnings.warn(
            f"{owner} did not converge in max_iter={max_iter} iterations; "
            "raise max_iter or tol.",
            ConvergenceWarning,
        )
    events.finalize(data)
    return EMResult(
        log_prior=log_pi,
        n_iter=n_iter,
        converged=converged,
        lower_bound=history[-1] if history else -np.inf,
        history=history,
        resp=resp,
    )


def _iterate(events, data, resp, row_class, n_per_class, weights, row_loglik,
             history, prior_alpha, max_iter, tol, verbose, owner):
    """The iterations of :func:`run_em`.

    Returns ``(n_iter, converged, log_pi)``.
    """
    converged = False
    n_iter = 0
    log_pi = None
    for n_iter in range(1, max_iter + 1):
        log_pi = log_component_prior(resp, prior_alpha)
        events.fit(data, resp)
        events.e_step(
            data, log_pi, row_class, n_per_class, weights, resp, row_loglik
        )
        objective = row_loglik.sum() + events.log_prior()
        if prior_alpha > 0:
            objective += prior_alpha * log_pi.sum()
        if record_iteration(history, objective, n_iter, owner=owner,
                            verbose=verbose, tol=tol):
            converged = True
            break
    return n_iter, converged, log_pi
