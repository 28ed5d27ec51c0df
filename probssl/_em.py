"""The one EM loop: an event model, a mixing part and a source of rows.

``run_em`` serves ``fit``, ``fit_chunks`` and the Dask fit of every EM
estimator. Each iteration is an M-step from the summed statistics of the
last pass (mixing part, then event model), then an E-step pass over the
source with the new parameters, which also yields their MAP objective::

    sum_i w_i log sum_{k allowed for i} table[kind_i, k] p(x_i | k)
    + events.log_prior() + mixing.log_prior()

EM never decreases it. A run stops when the gain is at most
``tol * |objective|`` (a relative gain: the objective of a corpus grows
with its size) or after ``max_iter`` E-steps; the final parameters are
those of the last E-step, so the last objective is exactly theirs. With
several starts (``n_init``) the run with the highest objective is kept.
"""

import copy
import warnings
from collections import namedtuple

import numpy as np
from sklearn.exceptions import ConvergenceWarning


# The outcome of one EM run: the event model, the mixing part's state, the
# objective after every iteration, and the statistics of the last E-step
# (those of the final parameters; the event model's in input column order).
Run = namedtuple("Run", "events mixing n_iter converged history stats")


def record_iteration(history, objective, n_iter, *, owner, verbose, tol,
                     callback=None, hint="a class whose prior mass vanished?",
                     name="objective", converged=None):
    """Book-keeping after an E-step, shared by every EM-like loop.

    Raises FloatingPointError on a non-finite objective (a row that no
    component it may take can explain), appends it to ``history``, reports
    it (``verbose``, ``callback(n_iter, objective)``) and returns whether
    the loop has converged: a gain of at most ``tol * |objective|``, unless
    the caller decides (``converged``; e.g. co-EM's label change).
    """
    if not np.isfinite(objective):
        raise FloatingPointError(
            f"{owner}: the EM objective became {objective} at iteration "
            f"{n_iter}: {hint() if callable(hint) else hint}.")
    history.append(float(objective))
    if verbose:
        gain = objective - history[-2] if len(history) > 1 else np.nan
        print(f"{owner} iteration {n_iter:3d}: {name} {objective:.6g} "
              f"(change {gain:.3g})", flush=True)
    if callback is not None:
        callback(n_iter, objective)
    if converged is not None:
        return converged
    return len(history) > 1 and (history[-1] - history[-2]
                                 <= tol * abs(history[-1]))


def run_em(events, mixing, source, *, max_iter, tol, n_init=1, verbose=0,
           callback=None, owner="EM", warm=None):
    """Fit ``events`` (an event model, copied per start) and ``mixing`` by
    EM over ``source``; ``warm``: a fitted ``(events, mixing state)`` to
    start from (an E-step first) instead of the mixing part's start.
    Returns the best :class:`Run`, its event model and statistics in input
    column order.
    """
    best = None
    for run in range(1 if warm else mixing.n_runs(n_init)):
        ev = copy.deepcopy(warm[0] if warm else events)
        if warm:
            mixing.warm(warm[1])
            stats = source.e_pass(ev.aligned_with(events), mixing.table())
        else:
            mixing.begin(source, run, ev)
            stats = source.start(ev, mixing, run)
        if not stats.kinds[1:].sum() > 0:
            raise ValueError("Every labeled row has sample_weight 0: "
                             "nothing to learn from.")
        history = []
        for n_iter in range(1, max_iter + 1):
            keep = mixing.m_step(stats.kinds, n_iter, owner)
            if keep is not None:
                stats = source.drop(ev, stats, keep)
            ev.m_step(stats.events, stats.changed)
            stats = source.e_pass(ev, mixing.table())
            objective = stats.loglik + ev.log_prior() + mixing.log_prior()
            converged = record_iteration(
                history, objective, n_iter, owner=owner, verbose=verbose,
                tol=tol, callback=callback, hint=lambda: _diagnose(ev, mixing))
            if converged:
                break
        result = Run(ev, mixing.state(), n_iter, converged, history, stats)
        # A later start must win by more than rounding (runs that reach the
        # same optimum tie, and the first is kept whatever the blocking).
        if best is None or result.history[-1] > best.history[-1] + 1e-12 * abs(
                best.history[-1]):
            best = result
    if not best.converged:
        warnings.warn(f"{owner} did not converge in max_iter={max_iter} "
                      "iterations; raise max_iter or tol.", ConvergenceWarning)
    best.stats.events = best.events.stats_in_input_order(best.stats.events)
    best.stats.changed = None
    best.events.restore_order()
    return best


def _diagnose(events, mixing):
    """Why the objective is not finite, as far as the parameters tell."""
    bad = [name for name, v in vars(events).items()
           if isinstance(v, np.ndarray) and v.dtype.kind == "f"
           and name not in events._bounds and not np.isfinite(v).all()]
    if bad:
        return (f"the {events.name} model's parameters {bad} are not finite "
                "(an overflow: rescale X?)")
    empty = np.flatnonzero(~np.isfinite(mixing.log_weights))
    if empty.size:
        return (f"component(s) {empty.tolist()} have no mass, so the rows "
                "that may only take them have zero probability "
                f"({mixing.hint})")
    return ("a row has zero probability under every component it may take "
            f"({mixing.hint})")
