"""Hybrid generative/discriminative classifier (Fujino, Ueda & Saito 2005)."""

from __future__ import annotations

import copy
import warnings
from numbers import Integral, Real

import numpy as np
from scipy.optimize import minimize
from sklearn.utils._param_validation import Interval, StrOptions

from . import _threads
from ._base import SHRINKAGE_CONSTRAINT, SemiSupervisedClassifier
from ._em import caller_stacklevel, record_iteration, warn_not_converged
from ._events import (COVARIANCE_TYPES, EVENT_MODELS, CountBlock,
                      blas_threads, make_event_model)
from ._typing import ArrayLike, MatrixLike, RandomStateLike, _fit_context

_EPS = np.finfo(np.float64).eps
# Newton's Gamma-step ends with one full step once the ascent it predicts
# (the Newton decrement) is at most this times max(1, |objective|), close
# to the rounding of a sum over the labeled rows.
_NEWTON_TOL = 1e-10
# ... and its (projected) gradient is at most this times max(1, |objective|).
_NEWTON_GTOL = 1e-6
_NEWTON_MAX_ITER = 50
# L-BFGS-B steps before Newton is tried again, when Newton stalls.
_LBFGS_STEPS = (20, 1000)


# -- the combination weights Gamma --------------------------------------------
def _posterior(A, B, params):
    """The hybrid's posteriors R (n, K) from its features."""
    S = _hybrid_scores(A, B, params)
    S -= S.max(axis=1, keepdims=True)
    np.exp(S, out=S)
    S /= S.sum(axis=1, keepdims=True)
    return S


def _hybrid_scores(A, B, params):
    """``gamma1 * A + gamma2 * B + mu``: (n, K) unnormalised log-posteriors."""
    return params[0] * A + params[1] * B + params[2:]


def _penalised_cll(params, A, B, y, w, C):
    """Penalised conditional log-likelihood of the labeled rows,
    ``f = C * sum_i w_i log R(y_i | x_i) - (gamma1**2 + gamma2**2) / 2``,
    with the scores and their row-wise log-normalisers."""
    S = _hybrid_scores(A, B, params)
    top = S.max(axis=1)
    log_norm = top + np.log(np.exp(S - top[:, None]).sum(axis=1))
    rows = np.arange(S.shape[0])
    f = C * np.dot(w, S[rows, y] - log_norm) - 0.5 * np.dot(params[:2],
                                                            params[:2])
    return f, S, log_norm


def _newton_direction(params, A, B, y, w, C, S, log_norm, fix_gamma2):
    """Gradient of f and the projected Newton direction (gamma >= 0).

    The Hessian of ``-f`` is ``C sum_i w_i Cov_{R_i}(phi_i) + diag(1, 1, 0)``
    with ``phi_ik = (A_ik, B_ik, e_k)``; it is singular along ``mu + t``
    (the classes' common offset), which the gradient never has, so that
    direction is pinned by adding ``u u^T`` (``u``: that unit direction).
    A gamma at its bound 0 with the gradient pushing it below stays fixed.
    """
    n, K = A.shape
    rows = np.arange(n)
    R = np.exp(S - log_norm[:, None])
    WR = (C * w)[:, None] * R
    mA = np.einsum("ik,ik->i", R, A)
    mB = np.einsum("ik,ik->i", R, B)
    dA, dB = A - mA[:, None], B - mB[:, None]
    grad = np.empty(K + 2)
    grad[0] = C * np.dot(w, A[rows, y] - mA) - params[0]
    grad[1] = C * np.dot(w, B[rows, y] - mB) - params[1]
    grad[2:] = np.bincount(y, weights=C * w, minlength=K) - WR.sum(axis=0)
    H = np.empty((K + 2, K + 2))
    WdA, WdB = WR * dA, WR * dB
    H[0, 0] = np.sum(WdA * dA) + 1.0
    H[1, 1] = np.sum(WdB * dB) + 1.0
    H[0, 1] = H[1, 0] = np.sum(WdA * dB)
    H[0, 2:] = H[2:, 0] = WdA.sum(axis=0)
    H[1, 2:] = H[2:, 1] = WdB.sum(axis=0)
    H[2:, 2:] = np.diag(WR.sum(axis=0)) - (R.T * (C * w)) @ R
    H[2:, 2:] += 1.0 / K
    if fix_gamma2:
        grad[1] = 0.0
    free = np.ones(K + 2, dtype=bool)
    free[:2] = ~((params[:2] <= 0.0) & (grad[:2] <= 0.0))
    free[1] &= not fix_gamma2
    step = np.zeros(K + 2)
    try:
        step[free] = np.linalg.solve(H[np.ix_(free, free)], grad[free])
    except np.linalg.LinAlgError:
        step[free] = np.linalg.lstsq(H[np.ix_(free, free)], grad[free],
                                     rcond=None)[0]
    return grad, np.where(free, grad, 0.0), step


def _gamma_newton(params, A, B, y, w, C, fix_gamma2):
    """Maximise f by projected Newton with Armijo backtracking from
    ``params``; returns ``(params, f, converged)``."""
    p = params.copy()
    f, S, log_norm = _penalised_cll(p, A, B, y, w, C)
    for _ in range(_NEWTON_MAX_ITER):
        _, grad, step = _newton_direction(p, A, B, y, w, C, S, log_norm,
                                          fix_gamma2)
        decrement = np.dot(grad, step)
        if not (np.all(np.isfinite(step)) and decrement >= 0):
            return p, f, False
        # The decrement alone is not enough: where the softmax saturates the
        # solve can give a vanishing step (hence decrement) with a gradient
        # far from zero, a point L-BFGS-B then improves by orders of
        # magnitude.
        scale = max(1.0, abs(f))
        if (decrement <= _NEWTON_TOL * scale
                and np.abs(grad).max() <= _NEWTON_GTOL * scale):
            # Within rounding of the optimum a line search cannot tell
            # better from worse: one full step, where the quadratic model
            # is exact to float64, then stop.
            q = p + step
            q[:2] = np.maximum(q[:2], 0.0)
            fq, _, _ = _penalised_cll(q, A, B, y, w, C)
            if np.isfinite(fq) and fq >= f - 4 * _EPS * max(1.0, abs(f)):
                return q, fq, True
            return p, f, True
        t = 1.0
        for _ in range(30):
            q = p + t * step
            q[:2] = np.maximum(q[:2], 0.0)
            fq, Sq, lq = _penalised_cll(q, A, B, y, w, C)
            if np.isfinite(fq) and fq >= f + 1e-4 * np.dot(grad, q - p):
                break
            t *= 0.5
        else:
            return p, f, False  # no ascent: L-BFGS-B takes over
        p, f, S, log_norm = q, fq, Sq, lq
    return p, f, False


def _gamma_objective(params, A, B, y, w, C, fix_gamma2=False):
    """Negated penalised conditional log-likelihood and its gradient.

    ``f = C * sum_i w_i log R(y_i | x_i) - (gamma1**2 + gamma2**2) / 2``;
    returns ``(-f, -grad f)`` for ``scipy.optimize.minimize`` (the fallback
    of Newton's step). With ``fix_gamma2`` the gradient in gamma2 is zeroed
    (it stays where it is).
    """
    f, S, log_norm = _penalised_cll(params, A, B, y, w, C)
    grad, _, _ = _newton_direction(params, A, B, y, w, C, S, log_norm,
                                   fix_gamma2)
    return -f, -grad


class _PsiStep:
    """The psi-step over the unlabeled ``block``: ``step(resp)`` refits psi
    from the (weighted) soft labels and returns ``log p(x | k; psi)`` of
    the unlabeled and the labeled rows; ``finish()`` leaves ``events``
    fitted on the last soft labels.

    For the multinomial model (the one with the incremental passes) the
    statistics ``X.T @ R`` come from the parallel row kernel on ``X.T``,
    transposed once per fit, and the densities from ``log(alpha + S)``
    directly: the hybrid's posteriors are soft (on 20 Newsgroups 4 % of
    the unlabeled rows lead by the 40 nats that the incremental E-step
    needs to skip a row), so every row moves every iteration, the scatter
    of ``X.T @ R`` took twice a product's time, and the model's M-step
    bookkeeping (column sums, bounds, its log prior) a fifth of a step.
    Other models: their own statistics and M-step.
    """

    def __init__(self, events, block, lab_block):
        self.events, self.block, self.lab_block = events, block, lab_block
        self.resp = None
        self.fast = events.incremental and isinstance(block, CountBlock)
        if self.fast:
            self.transposed = CountBlock(block.csr.T.tocsr())

    def statistics(self, resp):
        if self.fast:
            return [self.transposed.dot(resp), self.block.lengths @ resp]
        stats = self.events.new_stats(resp.shape[1], self.block.shape[1])
        self.events.add_stats(stats, self.block, resp)
        return stats

    def step(self, resp):
        self.resp = np.ascontiguousarray(resp)
        if not self.fast:
            # The model's own statistics: two arrays for counts, more for
            # the full and tied Gaussians.
            psi = self.events.m_step(self.statistics(self.resp))
            return psi.log_prob(self.block), psi.log_prob(self.lab_block)
        S, totals = self.statistics(self.resp)
        alpha = self.events.alpha
        log_norm = np.log(alpha * S.shape[0] + totals)
        log_stats = np.log(np.add(S, alpha, out=S), out=S)
        return tuple(b.dot(log_stats) - np.outer(b.lengths, log_norm)
                     for b in (self.block, self.lab_block))

    def finish(self):
        if self.fast and self.resp is not None:
            self.events.m_step(self.statistics(self.resp))


class HybridClassifier(SemiSupervisedClassifier):
    """Hybrid generative/discriminative semi-supervised classifier.

    The classifier of Fujino, Ueda & Saito (2005) combines two generative
    models of the same family (the ``event_model``) with a log-linear
    (maximum-entropy) layer::

        R(k | x) ∝ exp(gamma1 log p(x | k; theta)
                       + gamma2 log p(x | k; psi) + mu_k)

    ``theta`` is naive Bayes fitted (MAP) on the labeled rows only; ``psi``,
    the *bias-correction model*, is fitted on the unlabeled rows with the
    hybrid's own posteriors ``R`` as soft labels; ``Gamma = (gamma1, gamma2,
    mu)`` maximises the penalised conditional log-likelihood of the labeled
    rows. Rows with ``y == -1`` are unlabeled.

    Parameters
    ----------
    event_model : {"auto", "multinomial", "bernoulli", "poisson", "gaussian", \
            "vmf"}, default="auto"
        Family of both generative models. ``"auto"``: multinomial for
        sparse or non-negative integer X, diagonal Gaussian otherwise.
    alpha : float, default=0.01
        Additive smoothing of the count models (Dirichlet/Beta prior), for
        ``theta`` and ``psi`` alike. Must be positive. 0.01, as
        :class:`probssl.EMNaiveBayes` (within 0.5 points of the best of
        {1, 0.1, 0.01, 0.001} on 20 Newsgroups at 100 to 1,000 labeled
        posts; ``scripts/defaults_table.py``).
    C : float, default=1.0
        Inverse regularisation strength of the Gamma-step, with
        scikit-learn's ``LogisticRegression`` convention: the Gamma-step
        maximises ``C * sum_i w_i log R(y_i | x_i) - (gamma1**2 +
        gamma2**2) / 2`` over the labeled rows. The class offsets ``mu`` are
        not penalised (like an intercept).
    max_iter : int, default=100
        Maximum number of (psi-step, Gamma-step) iterations.
    tol : float, default=1e-3
        Stop when the hybrid's posteriors of the unlabeled rows, the soft
        labels of the psi-step, move by at most ``tol`` between two
        iterations (mean total variation distance, weighted by
        ``sample_weight``).
        ``tol=0`` runs all ``max_iter`` iterations. The alternation
        converges slowly (posteriors at the temperature ``1 / gamma2``,
        about 17 on 20 Newsgroups, are soft, and psi sharpens as gamma2
        falls): on Nigam's split (300 labeled, 10,000 unlabeled posts,
        3 draws) 1e-3 stops after 26-60 iterations with test accuracy
        within 0.4 points of the converged fit's (tol=1e-6, 167-376
        iterations), where 1e-2 stopped after 9-12, 0.65-0.85 points below.
    leave_one_out : bool, default=True
        Whether the Gamma-step reads, for every labeled row, its
        log-likelihood under ``theta`` re-estimated without that row (the
        paper's device against trusting ``theta`` on the rows it was fitted
        on). Closed form: the row's (weighted) statistics are subtracted.
    random_state : str, default="deprecated"
        Unused (the fit is deterministic) and deprecated: passing it warns
        (``FutureWarning``); it will be removed.
    verbose : int, default=0
        Report the posterior change of every iteration when positive (one
        INFO line on the ``"probssl"`` logger; printed by default).
    reg_covar : float, default=1e-6
        Added to every Gaussian variance (``event_model="gaussian"``).
    covariance_type : {"full", "tied", "diag", "spherical", "tied_diag"}, \
default="diag"
        Covariance structure of the Gaussian event model (scikit-learn's
        meanings; ``"tied_diag"``: one shared diagonal); vMF: a tied type
        shares one concentration.
    shrinkage : None, float in [0, 1] or "auto", default=None
        Shrinkage of the "full" / "tied" covariances (Ledoit–Wolf for
        ``"auto"``).
    binarize : float or None, default=0.0
        Threshold of the Bernoulli event model (values above are present).
    n_jobs : int or None, default=None
        Threads of the kernels and BLAS products during ``fit`` and
        prediction (``-1``: every CPU, ``-2``: all but one); None: every
        CPU that ``threadpoolctl``'s limits allow.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Labels seen on labeled rows.
    event_model_ : str
        The event model used (``"auto"`` resolved).
    generative_ : event model
        ``theta``, fitted on the labeled rows (one component per class).
    bias_correction_ : event model
        ``psi``, fitted on the unlabeled rows with ``R`` as soft labels; a
        copy of ``theta`` when there are no unlabeled rows (of positive
        weight).
    weights_ : ndarray of shape (2,)
        ``(gamma1, gamma2)``.
    intercept_ : ndarray of shape (n_classes,)
        ``mu``.
    n_iter_ : int
        Number of iterations run.
    converged_ : bool
        Whether the stopping rule was met before ``max_iter``.
    objective_ : float
        Final penalised conditional log-likelihood of the labeled rows.
    objectives_ : list of float
        That objective after every iteration's Gamma-step (it need not
        rise: see Notes).
    posterior_changes_ : list of float
        The mean change (total variation) of the unlabeled rows'
        posteriors at every iteration, which the stopping rule reads.
    leave_one_out_ : bool
        Whether the final Gamma was fitted on leave-one-out features
        (False after the safeguard in Notes refitted it).
    leave_one_out_scores_ : dict or None
        With ``leave_one_out``: the weighted accuracy on the left-out
        labeled rows of the hybrid and of naive Bayes, and the largest
        class's share ("hybrid", "naive_bayes", "chance"), over the rows
        whose class has another labeled row (None when there is none).
    n_features_in_ : int
        Number of features seen during fit.

    See Also
    --------
    probssl.EMNaiveBayes : Generative semi-supervised naive Bayes.

    Notes
    -----
    Training (Sec. 3 of the paper): ``theta`` is the MAP naive Bayes of the
    labeled rows, ``psi = theta`` and ``Gamma = (1, 0, log class prior)`` to
    start (so that ``R`` starts as naive Bayes); then every iteration

    1. psi-step: ``psi`` is refitted (MAP for counts, maximum likelihood for
       Gaussians) on the unlabeled rows, row ``i`` counting ``R(k | x_i)``
       times its sample weight for class ``k``;
    2. Gamma-step: projected Newton (the exact Hessian of the ``2 + K``
       parameters; gamma >= 0), warm-started, L-BFGS-B where it fails, on
       the penalised conditional log-likelihood above, with features
       ``log p(x_i | k; theta^(-i))`` (leave-one-out) and
       ``log p(x_i | k; psi)`` of the labeled rows.

    The Gamma-step never decreases the penalised conditional
    log-likelihood for the current ``psi``; the psi-step climbs another
    objective (psi's on the unlabeled rows) and changes the features, so
    the labeled rows' objective need not rise (it falls as psi sharpens).
    The alternation has converged when the soft labels of the psi-step
    settle (``tol``). It converges slowly: gamma2 is small (about 0.06 on
    20 Newsgroups), so ``R`` is a posterior at a high temperature, soft on
    most rows, and psi sharpens over tens of iterations as gamma2 falls
    (SQUAREM extrapolation of psi halved the iterations to 1e-6 but not
    those to the converged accuracy; a start with Gamma calibrated first
    changed the fixed point reached). Every unlabeled row moves every
    iteration, so the psi-step is two sparse products over them.

    Safeguard: after the leave-one-out fit, the hybrid's accuracy on the
    labeled rows, each scored with its leave-one-out features, is compared
    with naive Bayes' scored alike (leave-one-out ``theta`` and class
    prior). If the hybrid loses, or naive Bayes does no better than the
    largest class's share, the leave-one-out features mislead Gamma
    (Bernoulli on 10^5 sparse columns with 10 rows a class: a row's
    absence from its class lowers every absent word's probability there;
    rows alone in their class are not scored), and Gamma is refitted on
    the plain features, with a warning.

    With no unlabeled rows, ``psi = theta`` and ``gamma2`` stays 0: the
    model is naive Bayes with its log-likelihood scale and class offsets
    recalibrated discriminatively (one Gamma-step).

    Sample weights multiply every row's statistics; the leave-one-out
    estimate of a row removes its statistics times its weight. For the
    Gaussian model, a row whose class has fewer than two other rows of
    positive weight keeps the full-data density. With a tied covariance the
    leave-one-out changes every class's density of the row.

    References
    ----------
    A. Fujino, N. Ueda and K. Saito. A Hybrid Generative/Discriminative
    Approach to Semi-supervised Classifier Design. AAAI 2005, 764-769.

    Examples
    --------
    >>> import numpy as np
    >>> from probssl.hybrid import HybridClassifier
    >>> X = np.array([[3, 0, 1], [2, 0, 0], [0, 4, 1], [0, 3, 0],
    ...               [4, 1, 0], [0, 5, 1]])
    >>> y = np.array([0, -1, 1, -1, -1, -1])   # -1: unlabeled
    >>> clf = HybridClassifier().fit(X, y)
    >>> clf.predict(X).tolist()
    [0, 0, 1, 1, 0, 1]
    >>> clf.weights_.shape, clf.intercept_.shape
    ((2,), (2,))
    """

    _parameter_constraints = {
        "event_model": [StrOptions({"auto", *EVENT_MODELS})],
        "alpha": [Interval(Real, 0, None, closed="neither")],
        "C": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "leave_one_out": ["boolean"],
        "random_state": [StrOptions({"deprecated"}), "random_state"],
        "verbose": ["verbose"],
        "reg_covar": [Interval(Real, 0, None, closed="left")],
        "covariance_type": [StrOptions(set(COVARIANCE_TYPES))],
        "shrinkage": SHRINKAGE_CONSTRAINT,
        "binarize": [None, Interval(Real, 0, None, closed="left")],
        "n_jobs": [Integral, None],
    }

    def __init__(
        self,
        event_model: str = "auto",
        alpha: float = 0.01,
        C: float = 1.0,
        max_iter: int = 100,
        tol: float = 1e-3,
        leave_one_out: bool = True,
        random_state: RandomStateLike | str = "deprecated",
        verbose: int = 0,
        reg_covar: float = 1e-6,
        covariance_type: str = "diag",
        binarize: float | None = 0.0,
        shrinkage: float | str | None = None,
        n_jobs: int | None = None,
    ) -> None:
        self.event_model = event_model
        self.alpha = alpha
        self.C = C
        self.max_iter = max_iter
        self.tol = tol
        self.leave_one_out = leave_one_out
        self.random_state = random_state
        self.verbose = verbose
        self.reg_covar = reg_covar
        self.covariance_type = covariance_type
        self.binarize = binarize
        self.shrinkage = shrinkage
        self.n_jobs = n_jobs

    def _new_events(self):
        return make_event_model(
            self.event_model_,
            alpha=self.alpha,
            binarize=self.binarize,
            covariance_type=self.covariance_type,
            reg_covar=self.reg_covar,
            shrinkage=self.shrinkage,
        )

    def _generative_features(self, X_lab, y_lab, w_lab):
        """log p(x_i | k; theta) of the labeled rows, plain and leave-one-out
        (theta from the labeled statistics minus the row's own)."""
        resp = np.zeros((y_lab.size, len(self.classes_)))
        resp[np.arange(y_lab.size), y_lab] = w_lab
        events = self._new_events()
        block = events.prepare(X_lab)
        stats = events.new_stats(resp.shape[1], X_lab.shape[1])
        events.add_stats(stats, block, resp)
        self.generative_ = events.m_step(stats)
        full = events.log_prob(block)
        if not self.leave_one_out:
            return full, full
        return full, events.loo_log_prob(block, stats, y_lab, w_lab, full)

    def _gamma_step(self, params, A, B, y, w, fix_gamma2):
        """One warm-started Gamma-step; never returns a worse point.

        Projected Newton (22 parameters for 20 classes: the Hessian is
        cheap, and from the last step's Gamma it converges in 3-6 steps to
        float64's precision, where L-BFGS-B took 50 evaluations a step, a
        fifth of the fit); L-BFGS-B where Newton does not converge.
        """
        C = float(self.C)
        f0, _, _ = _penalised_cll(params, A, B, y, w, C)
        x, f1, converged = _gamma_newton(params, A, B, y, w, C, fix_gamma2)
        # gamma >= 0: a negative weight on a log-likelihood would reward
        # the classes that explain a row worst.
        bounds = [(0.0, None)] * 2 + [(None, None)] * (params.size - 2)
        # Where the softmax saturates (features of thousands of nats, the
        # first step of a fit) Newton's direction can stop ascending: a few
        # L-BFGS-B steps bring Gamma where the quadratic model holds and
        # Newton finishes (on Nigam's split 7 ms, where L-BFGS-B alone took
        # 844 steps, 240 ms, to a slightly worse point); failing that,
        # L-BFGS-B to its own end.
        for lbfgs_steps in _LBFGS_STEPS:
            if converged:
                break
            res = minimize(_gamma_objective, x, jac=True, method="L-BFGS-B",
                           args=(A, B, y, w, C, fix_gamma2), bounds=bounds,
                           options={"maxiter": lbfgs_steps, "gtol": 1e-12,
                                    "ftol": 1e-16})
            f2, _, _ = _penalised_cll(res.x, A, B, y, w, C)
            if np.isfinite(f2) and f2 > f1:
                x, f1 = res.x, f2
            x2, f3, converged = _gamma_newton(x, A, B, y, w, C, fix_gamma2)
            if np.isfinite(f3) and f3 >= f1:
                x, f1 = x2, f3
        if fix_gamma2:
            x[1] = params[1]
            f1, _, _ = _penalised_cll(x, A, B, y, w, C)
        if not np.isfinite(f1) or f1 < f0:
            return params.copy(), f0
        return x, f1

    @_fit_context(prefer_skip_nested_validation=True)
    @_threads.uses_n_jobs
    def fit(self, X: MatrixLike, y: ArrayLike,
            sample_weight: ArrayLike | None = None) -> HybridClassifier:
        """Fit on labeled rows and unlabeled rows (``y == -1``).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Counts (multinomial, bernoulli) or dense reals (gaussian).
        y : array-like of shape (n_samples,)
            Class labels; ``-1`` marks an unlabeled row. At least one row
            must be labeled.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative row weights.

        Returns
        -------
        self : HybridClassifier
        """
        if not (isinstance(self.random_state, str)
                and self.random_state == "deprecated"):
            warnings.warn(
                "HybridClassifier: random_state is unused (the fit is "
                "deterministic) and deprecated; it will be removed. Leave it "
                "out.", FutureWarning, stacklevel=caller_stacklevel())
        X, y_index, sample_weight = self._validate_fit(X, y, sample_weight)
        labeled = y_index >= 0
        K = len(self.classes_)
        lab = np.flatnonzero(labeled & (sample_weight > 0))
        unl = np.flatnonzero(~labeled & (sample_weight > 0))
        X_lab, y_lab, w_lab = X[lab], y_index[lab], sample_weight[lab]

        # theta: MAP naive Bayes on the labeled rows.
        full, loo = self._generative_features(X_lab, y_lab, w_lab)
        class_weight = np.bincount(y_lab, weights=w_lab, minlength=K)
        with np.errstate(divide="ignore"):
            log_prior = np.log(class_weight / class_weight.sum())
        # A class whose labeled rows all weigh 0: a finite, low offset.
        log_prior[~np.isfinite(log_prior)] = np.min(
            log_prior[np.isfinite(log_prior)]) - 30.0
        self.leave_one_out_ = self.leave_one_out
        args = (X_lab, y_lab, w_lab, X[unl], sample_weight[unl], log_prior)
        # One BLAS thread: the Gamma-step's BLAS calls are tiny, and waking
        # OpenBLAS's threads for each cost 50x the solve on a busy machine.
        with blas_threads(0):
            params = self._fit_weights(loo, *args)
            if self.leave_one_out:
                params = self._check_leave_one_out(params, loo, class_weight,
                                                   full, *args)
        self.weights_ = params[:2].copy()
        self.intercept_ = params[2:].copy()
        return self

    def _check_leave_one_out(self, params, loo, class_weight, full, *args):
        """The safeguard of the leave-one-out fit, judged like with like.

        On its labeled rows the hybrid is scored with the leave-one-out
        features it was fitted on, against naive Bayes scored the same way
        (leave-one-out theta and class prior), not naive Bayes
        re-substituted (which has seen the rows: 99 % on 20 Newsgroups,
        and the hybrid was refitted on ordinary text). Gamma is refitted
        on the plain features, with a warning (``leave_one_out_`` False),
        where the hybrid loses, or where naive Bayes does no better than
        always taking the largest class: then the leave-one-out features
        mislead (Bernoulli on 10^5 sparse columns with 10 rows a class: a
        row's absence from its class lowers every absent word's probability
        there, so theta^(-i) favours the wrong classes, 0 % of the rows)
        and Gamma would learn to ignore theta, which is good on new rows.
        Only rows whose class keeps another labeled row are scored: a class's
        only row has nothing left of its class (on 20 Newsgroups with one
        row a class the leave-one-out fit scores 23-25 % on the test set,
        the plain one 6 %).
        """
        X_lab, y_lab, w_lab = args[:3]
        rows = np.arange(y_lab.size)
        others = np.bincount(y_lab[w_lab > 0], minlength=class_weight.size)
        scored = (w_lab > 0) & (others[y_lab] >= 2)
        if not scored.any():
            self.leave_one_out_scores_ = None
            return params
        w = np.where(scored, w_lab, 0.0)
        total = w.sum()
        B = self.bias_correction_.log_prob(X_lab)
        hybrid = w @ (_hybrid_scores(loo, B, params).argmax(axis=1)
                      == y_lab) / total
        with np.errstate(divide="ignore"):
            prior = np.tile(np.log(class_weight), (y_lab.size, 1))
            prior[rows, y_lab] = np.log(np.maximum(
                class_weight[y_lab] - w_lab, 0.0))
        nb = w @ ((loo + prior).argmax(axis=1) == y_lab) / total
        chance = np.bincount(y_lab, weights=w).max() / total
        self.leave_one_out_scores_ = {"hybrid": float(hybrid),
                                      "naive_bayes": float(nb),
                                      "chance": float(chance)}
        if hybrid >= nb > chance:
            return params
        warnings.warn(
            f"HybridClassifier: on the labeled rows left out, the hybrid "
            f"(combination weights {params[:2].round(4).tolist()}) classifies "
            f"{hybrid:.1%}, naive Bayes {nb:.1%}, the largest class "
            f"{chance:.1%}: the leave-one-out features "
            f"{'mislead' if nb <= chance else 'do not help'} here; refitting "
            "them on the plain features (leave_one_out_ is False).",
            UserWarning, stacklevel=caller_stacklevel())
        self.leave_one_out_ = False
        return self._fit_weights(full, *args)

    def _fit_weights(self, A, X_lab, y_lab, w_lab, X_unl, w_unl, log_prior):
        """psi and Gamma by alternation from psi = theta, Gamma = (1, 0,
        log prior); ``A``: the labeled rows' generative features."""
        self.bias_correction_ = copy.deepcopy(self.generative_)
        params = np.concatenate([[1.0, 0.0], log_prior])
        has_unlabeled = X_unl.shape[0] > 0
        # Both blocks prepared once: every step reuses their layout.
        data_lab = self.generative_.prepare(X_lab)
        if has_unlabeled:
            data_unl = self.bias_correction_.prepare(X_unl)
            psi_step = _PsiStep(self.bias_correction_, data_unl, data_lab)
            A_unl = self.generative_.log_prob(data_unl)
            R = _posterior(A_unl, A_unl, params)  # psi = theta to start
        self.objectives_, self.posterior_changes_ = [], []
        self.converged_ = not has_unlabeled
        n_iter = 0
        for n_iter in range(1, self.max_iter + 1):
            if has_unlabeled:
                # psi-step: the hybrid's posteriors as soft labels.
                B_unl, B = psi_step.step(R * w_unl[:, None])
            else:
                B = self.bias_correction_.log_prob(data_lab)
            params, objective = self._gamma_step(
                params, A, B, y_lab, w_lab, fix_gamma2=not has_unlabeled)
            if not np.isfinite(objective):
                raise FloatingPointError(
                    f"HybridClassifier: the objective became {objective} at "
                    f"iteration {n_iter}: the combination weights or psi "
                    "overflowed.")
            self.objectives_.append(float(objective))
            if not has_unlabeled:
                break  # psi = theta: one Gamma-step is the whole fit
            # The two steps climb two different objectives, so neither
            # is monotone (the labeled rows' one falls as psi sharpens):
            # the alternation has converged when the soft labels it feeds
            # the psi-step stop moving (mean total variation).
            new = _posterior(A_unl, B_unl, params)
            change = w_unl @ np.abs(new - R).sum(axis=1) / (2 * w_unl.sum())
            R = new
            self.converged_ = record_iteration(
                self.posterior_changes_, change, n_iter,
                owner="HybridClassifier", verbose=self.verbose, tol=self.tol,
                name="posterior change", kind="change")
            if self.converged_:
                break
        if has_unlabeled:
            psi_step.finish()
        if not self.converged_:
            warn_not_converged("HybridClassifier", self.max_iter)
        self.n_iter_ = n_iter
        self.objective_ = self.objectives_[-1]
        return params

    def _joint_log_likelihood_checked(self, X):
        """Unnormalised log-posterior ``gamma1 log p(x|k; theta) + gamma2
        log p(x|k; psi) + mu_k`` for validated X."""
        A = self.generative_.log_prob(X)
        B = self.bias_correction_.log_prob(X)
        return _hybrid_scores(A, B, np.concatenate([self.weights_,
                                                    self.intercept_]))
