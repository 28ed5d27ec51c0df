"""The one EM loop: an event model, a mixing part and a source of rows.

``run_em`` serves ``fit``, ``fit_chunks`` and the Dask fit of every EM
estimator. Each iteration is an M-step from the summed statistics of the
last pass (mixing part, then event model), then an E-step pass over the
source with the new parameters, which also yields their MAP objective::

    sum_i w_i log sum_{k allowed for i} table[kind_i, k] p(x_i | k)
    + events.log_prior() + mixing.log_prior()

EM never decreases it. A run stops when the gain is at most
``tol * |objective|`` (a relative gain: the objective of a corpus grows
with its size; :func:`has_converged`, the rule of every loop here: never
on a decrease, never with ``tol=0``) or after ``max_iter`` E-steps; the
final parameters are those of the last E-step, so the last objective is
exactly theirs. With several starts (``n_init``) the run with the
highest objective is kept.
"""

import copy
import logging
import os
import sys
import warnings
from collections import namedtuple

import numpy as np
from sklearn.exceptions import ConvergenceWarning

# Verbose fits report through this logger, at INFO. By default the lines go
# to the current sys.stdout (where ``verbose`` printed before; scikit-learn's
# verbose output goes there too); configure or remove the handler to send
# them elsewhere.
logger = logging.getLogger("probssl")


class _CurrentStdout:
    """``sys.stdout`` as it is when a line is written (pytest's capsys or a
    notebook swap it after import)."""

    def write(self, text):
        sys.stdout.write(text)

    def flush(self):
        sys.stdout.flush()


_HANDLER = logging.StreamHandler(_CurrentStdout())
_HANDLER.set_name("probssl-verbose")
_HANDLER.setFormatter(logging.Formatter("%(name)s: %(message)s"))
if not any(h.get_name() == "probssl-verbose" for h in logger.handlers):
    logger.addHandler(_HANDLER)
if logger.level == logging.NOTSET:
    logger.setLevel(logging.INFO)

# A fall of the objective by at most this much times |objective| is
# rounding (sums over millions of rows in another order; the Gaussian
# variance floor, monotone only up to reg_covar**2 terms), not a decrease.
ROUNDING = 1e-10

_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep
_SKLEARN_BASE = os.sep + os.path.join("sklearn", "base.py")


def caller_stacklevel():
    """The ``stacklevel`` that makes a warning raised by the function that
    calls this one point at the first frame outside probssl (and outside
    scikit-learn's ``fit`` wrapper): the user's ``fit`` line."""
    frame, level = sys._getframe(1), 1
    while frame is not None and (
            frame.f_code.co_filename.startswith(_PACKAGE)
            or frame.f_code.co_filename.endswith(_SKLEARN_BASE)):
        frame, level = frame.f_back, level + 1
    return level


# The outcome of one EM run: the event model, the mixing part's state, the
# objective after every iteration, and the statistics of the last E-step
# (those of the final parameters; the event model's in input column order).
Run = namedtuple("Run", "events mixing n_iter converged history stats")


def has_converged(history, tol, *, kind="objective", owner="EM",
                  name="objective", comparable=True):
    """The one stopping rule of every iterative fit in probssl.

    ``history`` holds the monitored value after every iteration.
    ``kind="objective"``: a value the loop must not decrease (EM's MAP
    objective); converged when the last gain lies in ``[0, tol *
    |objective|]`` (a relative gain; a fall within ``ROUNDING * |objective|``
    counts as no change). A larger fall is never convergence: it warns
    (``RuntimeWarning``) with by how much. ``kind="change"``: a distance
    between successive iterates (co-EM's label change, the hybrid's
    posterior change); converged when at most ``tol``. ``tol=0`` is never
    converged: the loop runs all its iterations. ``comparable=False``: the
    last two values are not comparable (components were dropped between
    them), so no decision.
    """
    if not comparable or (len(history) < 2 and kind == "objective"):
        return False
    if kind == "change":
        return tol > 0 and history[-1] <= tol
    gain, scale = history[-1] - history[-2], abs(history[-1])
    if gain < -ROUNDING * scale:
        warnings.warn(
            f"{owner}: the {name} decreased by {-gain:.6g} (relative "
            f"{-gain / max(scale, np.finfo(float).tiny):.3g}) at iteration "
            f"{len(history)}; a decrease is not convergence, the fit goes "
            "on.", RuntimeWarning, stacklevel=caller_stacklevel())
        return False
    return tol > 0 and gain <= tol * scale


def record_iteration(history, value, n_iter, *, owner, verbose, tol,
                     callback=None, hint="a class whose prior mass vanished?",
                     name="objective", kind="objective", comparable=True):
    """Book-keeping after an iteration, shared by every EM-like loop.

    Raises FloatingPointError on a non-finite value (a row that no
    component it may take can explain), appends it to ``history``, reports
    it (``verbose``: one INFO line on the ``"probssl"`` logger;
    ``callback(n_iter, value)``) and returns whether the loop has
    converged, by :func:`has_converged`.
    """
    if not np.isfinite(value):
        raise FloatingPointError(
            f"{owner}: the EM objective became {value} at iteration "
            f"{n_iter}: {hint() if callable(hint) else hint}.")
    history.append(float(value))
    if verbose:
        change = (f" (change {value - history[-2]:+.3g})"
                  if kind == "objective" and len(history) > 1 else "")
        logger.info("%s iteration %3d: %s %.6g%s", owner, n_iter, name,
                    value, change)
    if callback is not None:
        callback(n_iter, value)
    return has_converged(history, tol, kind=kind, owner=owner, name=name,
                         comparable=comparable)


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
                tol=tol, callback=callback,
                hint=lambda: _diagnose(ev, mixing, source),
                comparable=keep is None)
            if converged:
                break
        result = Run(ev, mixing.state(), n_iter, converged, history, stats)
        # A later start must win by more than rounding (runs that reach the
        # same optimum tie, and the first is kept whatever the blocking).
        if best is None or result.history[-1] > best.history[-1] + 1e-12 * abs(
                best.history[-1]):
            best = result
    if not best.converged:
        warn_not_converged(owner, max_iter)
    best.stats.events = best.events.stats_in_input_order(best.stats.events)
    best.stats.changed = None
    best.events.restore_order()
    return best


def warn_not_converged(owner, max_iter):
    """The ConvergenceWarning of every loop, pointing at the user's fit."""
    warnings.warn(f"{owner} did not converge in max_iter={max_iter} "
                  "iterations; raise max_iter or tol.", ConvergenceWarning,
                  stacklevel=caller_stacklevel())


def _largest_weight(source):
    """The largest row weight (sample_weight x unlabeled_weight) of an
    in-memory source; None where the rows are not at hand (chunks, Dask)."""
    block = getattr(source, "block", None)
    weights = getattr(block, "weights", None)
    return float(weights.max()) if weights is not None and weights.size \
        else None


def _diagnose(events, mixing, source=None):
    """Why the objective is not finite, as far as the parameters (and the
    row weights of an in-memory ``source``) tell."""
    big = np.finfo(np.float64).max
    weight = _largest_weight(source)
    # a weight this large overflows any sum it enters (x counts, x rows,
    # x a log-likelihood of a few hundred)
    heavy = weight is not None and weight > big / 1e6
    weights_note = heavy and (f"rows weigh up to {weight:.3g}: rescale "
                              "sample_weight (or unlabeled_weight)")
    bad = [name for name, v in vars(events).items()
           if isinstance(v, np.ndarray) and v.dtype.kind == "f"
           and name not in events._bounds and not name.startswith("_")
           and not np.isfinite(v).all()]  # (private: caches of them)
    if bad:
        alpha = getattr(events, "alpha", None)
        n_features = max((v.shape[0] for v in vars(events).values()
                          if isinstance(v, np.ndarray) and v.ndim), default=1)
        if alpha is not None and float(alpha) > big / (4.0 * n_features):
            cause = (f"alpha={float(alpha):.3g} is too large: its pseudo-"
                     f"counts over {n_features} features overflow float64; "
                     "use a smaller alpha")
        elif heavy:
            cause = weights_note
        elif weight is None:  # rows not at hand: either may be the cause
            cause = ("the weighted sums overflow float64: rescale "
                     "sample_weight or X?")
        else:
            cause = "rescale X?"
        return (f"the {events.name} model's parameters {bad} are not finite "
                f"(an overflow: {cause})")
    empty = np.flatnonzero(~np.isfinite(mixing.log_weights))
    if empty.size:
        return (f"component(s) {empty.tolist()} have no mass, so the rows "
                "that may only take them have zero probability "
                f"({mixing.hint})")
    if heavy:
        return ("a row's weight times its log-likelihood overflows float64: "
                + weights_note)
    return ("a row has zero probability under every component it may take "
            f"({mixing.hint})")
