"""Hybrid generative/discriminative classifier (Fujino, Ueda & Saito 2005)."""

import copy
import warnings
from numbers import Integral, Real

import numpy as np
from scipy.optimize import minimize
from scipy.special import logsumexp
from sklearn.base import _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, StrOptions

from . import _threads
from ._base import SHRINKAGE_CONSTRAINT, SemiSupervisedClassifier
from ._em import record_iteration
from ._events import COVARIANCE_TYPES, EVENT_MODELS, make_event_model

_EPS = np.finfo(np.float64).eps
# Rows of the dense (rows x features) blocks of the Bernoulli leave-one-out.
_BLOCK = 1 << 22


# -- the combination weights Gamma --------------------------------------------
def _hybrid_scores(A, B, params):
    """``gamma1 * A + gamma2 * B + mu``: (n, K) unnormalised log-posteriors."""
    return params[0] * A + params[1] * B + params[2:]


def _gamma_objective(params, A, B, y, w, C, fix_gamma2=False,
                     penalty=(1.0, 1.0)):
    """Negated penalised conditional log-likelihood and its gradient.

    ``f = C * sum_i w_i log R(y_i | x_i) - (gamma1**2 + gamma2**2) / 2``;
    returns ``(-f, -grad f)`` for ``scipy.optimize.minimize``. With
    ``fix_gamma2`` the gradient in gamma2 is zeroed (it stays where it is).
    ``penalty`` weighs the two squares (for rescaled features: gamma_j
    multiplies ``A / s`` then, and its penalty is ``1 / s**2``).
    """
    S = _hybrid_scores(A, B, params)
    top = S.max(axis=1)
    log_norm = top + np.log(np.exp(S - top[:, None]).sum(axis=1))
    rows = np.arange(S.shape[0])
    log_r_true = S[rows, y] - log_norm
    R = np.exp(S - log_norm[:, None])
    gamma = params[:2]
    pen = np.asarray(penalty)
    f = C * np.dot(w, log_r_true) - 0.5 * np.dot(pen * gamma, gamma)
    grad = np.empty_like(params)
    grad[0] = (C * np.dot(w, A[rows, y] - np.einsum("ik,ik->i", R, A))
               - pen[0] * gamma[0])
    grad[1] = (C * np.dot(w, B[rows, y] - np.einsum("ik,ik->i", R, B))
               - pen[1] * gamma[1])
    onehot = np.zeros_like(R)
    onehot[rows, y] = 1.0
    grad[2:] = C * (w @ (onehot - R))
    if fix_gamma2:
        grad[1] = 0.0
    return -f, -grad


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
    event_model : {"auto", "multinomial", "bernoulli", "gaussian", "vmf"}, \
            default="auto"
        Family of both generative models. ``"auto"``: multinomial for
        sparse or non-negative integer X, diagonal Gaussian otherwise.
    alpha : float, default=1.0
        Additive smoothing of the count models (Dirichlet/Beta prior), for
        ``theta`` and ``psi`` alike. Must be positive.
    C : float, default=1.0
        Inverse regularisation strength of the Gamma-step, with
        scikit-learn's ``LogisticRegression`` convention: the Gamma-step
        maximises ``C * sum_i w_i log R(y_i | x_i) - (gamma1**2 +
        gamma2**2) / 2`` over the labeled rows. The class offsets ``mu`` are
        not penalised (like an intercept).
    max_iter : int, default=100
        Maximum number of (psi-step, Gamma-step) iterations.
    tol : float, default=1e-6
        Stop when the monitored objective (the penalised conditional
        log-likelihood after the Gamma-step) changes by at most
        ``tol * |objective|`` between two iterations.
    leave_one_out : bool, default=True
        Whether the Gamma-step reads, for every labeled row, its
        log-likelihood under ``theta`` re-estimated without that row (the
        paper's device against trusting ``theta`` on the rows it was fitted
        on). Closed form: the row's (weighted) statistics are subtracted.
    random_state : int, RandomState instance or None, default=None
        Unused: the fit is deterministic. Accepted for API consistency.
    verbose : int, default=0
        Print the monitored objective at every iteration when positive.
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
        Final monitored objective.
    objectives_ : list of float
        The monitored objective after every iteration's Gamma-step.
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
    2. Gamma-step: L-BFGS-B (analytic gradient), warm-started, on the
       penalised conditional log-likelihood above, with features
       ``log p(x_i | k; theta^(-i))`` (leave-one-out) and
       ``log p(x_i | k; psi)`` of the labeled rows.

    The Gamma-step never decreases the penalised conditional
    log-likelihood for the current ``psi``; the psi-step changes the
    features, so the monitored sequence need not be monotone, and
    convergence means it has settled (relative change at most ``tol``).

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
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "reg_covar": [Interval(Real, 0, None, closed="left")],
        "covariance_type": [StrOptions(set(COVARIANCE_TYPES))],
        "shrinkage": SHRINKAGE_CONSTRAINT,
        "binarize": [None, Interval(Real, 0, None, closed="left")],
        "n_jobs": [Integral, None],
    }

    def __init__(
        self,
        event_model="auto",
        alpha=1.0,
        C=1.0,
        max_iter=100,
        tol=1e-6,
        leave_one_out=True,
        random_state=None,
        verbose=0,
        reg_covar=1e-6,
        covariance_type="diag",
        binarize=0.0,
        shrinkage=None,
        n_jobs=None,
    ):
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
        """One warm-started L-BFGS-B solve; never returns a worse point."""
        args = (A, B, y, w, float(self.C), fix_gamma2)
        f0, _ = _gamma_objective(params, *args)
        # gamma >= 0: a negative weight on a log-likelihood would reward
        # the classes that explain a row worst.
        bounds = [(0.0, None)] * 2 + [(None, None)] * (params.size - 2)
        res = minimize(_gamma_objective, params, args=args, jac=True,
                       method="L-BFGS-B", bounds=bounds,
                       options={"maxiter": 1000, "gtol": 1e-10,
                                "ftol": 1e-14})
        if fix_gamma2:
            res.x[1] = params[1]
        f1, _ = _gamma_objective(res.x, *args)
        if not np.isfinite(f1) or f1 > f0:
            return params.copy(), -f0
        return res.x, -f1

    @_fit_context(prefer_skip_nested_validation=True)
    @_threads.uses_n_jobs
    def fit(self, X, y, sample_weight=None):
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
        params = self._fit_weights(loo, *args)
        # Safeguard: the leave-one-out features keep Gamma from over-trusting
        # theta, but on very sparse or tiny data they can mislead it; a
        # hybrid worse on its own labeled rows than its generative part
        # alone is refitted on the plain features, with a warning.
        if self.leave_one_out:
            own = _hybrid_scores(full, self.bias_correction_.log_prob(X_lab),
                                 params).argmax(axis=1) == y_lab
            nb = (full + log_prior).argmax(axis=1) == y_lab
            if w_lab @ own < w_lab @ nb:
                warnings.warn(
                    f"HybridClassifier: with leave-one-out features the "
                    f"combination weights {params[:2].round(4).tolist()} "
                    f"classify {w_lab @ own / w_lab.sum():.1%} of the "
                    f"labeled rows, naive Bayes alone {w_lab @ nb / w_lab.sum():.1%}; "
                    "refitting them on the plain features "
                    "(leave_one_out_ is False).", UserWarning)
                self.leave_one_out_ = False
                params = self._fit_weights(full, *args)
        self.weights_ = params[:2].copy()
        self.intercept_ = params[2:].copy()
        return self

    def _fit_weights(self, A, X_lab, y_lab, w_lab, X_unl, w_unl, log_prior):
        """psi and Gamma by alternation from psi = theta, Gamma = (1, 0,
        log prior); ``A``: the labeled rows' generative features."""
        self.bias_correction_ = copy.deepcopy(self.generative_)
        params = np.concatenate([[1.0, 0.0], log_prior])
        has_unlabeled = X_unl.shape[0] > 0
        if has_unlabeled:
            A_unl = self.generative_.log_prob(X_unl)
            # Prepared once: the psi-steps reuse its layout.
            data_unl = self.bias_correction_.prepare(X_unl)
            B_unl = self.bias_correction_.log_prob(data_unl)
        self.objectives_ = []
        self.converged_ = False
        n_iter = 0
        for n_iter in range(1, self.max_iter + 1):
            if has_unlabeled:
                # psi-step: the hybrid's posteriors as soft labels.
                S = _hybrid_scores(A_unl, B_unl, params)
                R = np.exp(S - logsumexp(S, axis=1, keepdims=True))
                psi = self.bias_correction_.fit(data_unl, R * w_unl[:, None])
                B_unl = psi.log_prob(data_unl)
            B = self.bias_correction_.log_prob(X_lab)
            params, objective = self._gamma_step(
                params, A, B, y_lab, w_lab, fix_gamma2=not has_unlabeled)
            # The alternation need not be monotone: a small change either
            # way ends it (one step without unlabeled rows).
            previous = self.objectives_[-1] if self.objectives_ else np.inf
            self.converged_ = record_iteration(
                self.objectives_, objective, n_iter, owner="HybridClassifier",
                verbose=self.verbose, tol=self.tol,
                hint="the combination weights or psi overflowed",
                converged=not has_unlabeled or abs(objective - previous)
                <= self.tol * abs(objective))
            if self.converged_:
                break
        if not self.converged_:
            warnings.warn(
                f"HybridClassifier did not converge in max_iter="
                f"{self.max_iter} iterations; raise max_iter or tol.",
                ConvergenceWarning,
            )
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
