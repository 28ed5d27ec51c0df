"""Hybrid generative/discriminative classifier (Fujino, Ueda & Saito 2005)."""

import copy
import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from scipy.optimize import minimize
from scipy.special import logsumexp
from sklearn.base import _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, StrOptions

from ._base import SemiSupervisedClassifier
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


# -- leave-one-out log-likelihoods of the labeled rows --------------------------
def _loo_multinomial(X, y, w, K, alpha, full):
    """log p(x_i | y_i; theta^(-i)) replaced in ``full`` (n, K)."""
    X = sp.csr_matrix(X)
    n, V = X.shape
    resp = np.zeros((n, K))
    resp[np.arange(n), y] = w
    N = np.asarray(X.T @ resp)                      # (V, K) weighted counts
    Nk = N.sum(axis=0)
    lengths = np.asarray(X.sum(axis=1)).ravel()
    row_of_nz = np.repeat(np.arange(n), np.diff(X.indptr))
    w_nz = w[row_of_nz]
    num = alpha + N[X.indices, y[row_of_nz]] - w_nz * X.data
    # Mathematically >= alpha (the row is part of its class's counts).
    terms = X.data * np.log(np.maximum(num, alpha))
    out = full.copy()
    den = np.maximum(alpha * V + Nk[y] - w * lengths, alpha * V)
    out[np.arange(n), y] = (
        np.bincount(row_of_nz, weights=terms, minlength=n)
        - lengths * np.log(den)
    )
    return out


def _loo_bernoulli(Xb, y, w, K, alpha, full):
    """As ``_loo_multinomial`` for presence/absence ``Xb`` (already binary)."""
    Xb = sp.csr_matrix(Xb)
    n, V = Xb.shape
    resp = np.zeros((n, K))
    resp[np.arange(n), y] = w
    M = np.asarray(Xb.T @ resp)                     # (V, K) weighted presence
    nk = resp.sum(axis=0)
    out = full.copy()
    step = max(1, _BLOCK // max(V, 1))
    for start in range(0, n, step):
        stop = min(n, start + step)
        rows = slice(start, stop)
        b = Xb[rows].toarray()
        yy, ww = y[rows], w[rows][:, None]
        Mrow = M[:, yy].T                           # (m, V)
        present = np.maximum(alpha + Mrow - ww * b, alpha)
        absent = np.maximum(alpha + (nk[yy][:, None] - Mrow) - ww * (1 - b),
                            alpha)
        den = np.log(2.0 * alpha + nk[yy] - w[rows])
        ll = (b * np.log(present) + (1 - b) * np.log(absent)).sum(axis=1)
        out[np.arange(start, stop), yy] = ll - V * den
    return out


def _gauss_logpdf(X, means, var):
    """Row-wise diagonal Gaussian log-density; means, var (n, d)."""
    d = X.shape[1]
    return -0.5 * (d * np.log(2.0 * np.pi) + np.log(var).sum(axis=1)
                   + ((X - means) ** 2 / var).sum(axis=1))


def _loo_gaussian(X, y, w, K, events, full):
    """Leave-one-out Gaussian log-densities, as ``GaussianEvents.fit``.

    Rows whose class keeps fewer than two other rows of positive weight
    keep the full-data density (a class mean and variance from one row or
    none would be degenerate).
    """
    X = np.asarray(X, dtype=np.float64)
    n, d = X.shape
    reg = events.reg_covar
    resp = np.zeros((n, K))
    resp[np.arange(n), y] = w
    nk = resp.sum(axis=0)
    s1 = resp.T @ X                                 # (K, d)
    s2 = resp.T @ (X * X)
    count = np.bincount(y[w > 0], minlength=K)
    ok = (count[y] - (w > 0)) >= 2
    out = full.copy()
    if not ok.any():
        return out
    idx = np.flatnonzero(ok)
    Xi, yi, wi = X[idx], y[idx], w[idx][:, None]
    n_loo = nk[yi][:, None] - wi                    # (m, 1)
    s1_loo = s1[yi] - wi * Xi
    s2_loo = s2[yi] - wi * Xi * Xi
    mean_loo = s1_loo / n_loo
    ctype = events.covariance_type
    if ctype in ("diag", "spherical"):
        second = s2_loo / n_loo
        spread = second - mean_loo ** 2
        spread[spread <= 16 * _EPS * second] = 0.0
        var = spread + reg
        if ctype == "spherical":
            var = np.repeat(var.mean(axis=1, keepdims=True), d, axis=1)
        out[idx, yi] = _gauss_logpdf(Xi, mean_loo, var)
        return out
    # tied: one diagonal pooled over the classes changes every column.
    safe = np.where(nk > 0, nk, 1.0)
    total = nk.sum()
    meansq_k = s1 ** 2 / safe[:, None]              # nk * mean_k**2
    n_tot = total - wi                              # (m, 1)
    second = (s2.sum(axis=0) - wi * Xi * Xi) / n_tot
    meansq = (meansq_k.sum(axis=0) - meansq_k[yi]
              + s1_loo ** 2 / n_loo) / n_tot
    spread = second - meansq
    spread[spread <= 16 * _EPS * second] = 0.0
    var = spread + reg                              # (m, d)
    means = s1 / safe[:, None]                      # (K, d)
    inv = 1.0 / var
    quad = ((Xi * Xi * inv).sum(axis=1)[:, None] - 2.0 * (Xi * inv) @ means.T
            + inv @ (means * means).T)
    block = -0.5 * (d * np.log(2.0 * np.pi)
                    + np.log(var).sum(axis=1)[:, None] + quad)
    block[np.arange(idx.size), yi] = _gauss_logpdf(Xi, mean_loo, var)
    out[idx] = block
    return out


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
    event_model : {"auto", "multinomial", "bernoulli", "gaussian"}, \
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
    covariance_type : {"diag", "tied", "spherical"}, default="diag"
        Covariance structure of the Gaussian event model.
    binarize : float or None, default=0.0
        Threshold of the Bernoulli event model (values above are present).

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
        "binarize": [None, Interval(Real, 0, None, closed="left")],
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

    def _new_events(self):
        return make_event_model(
            self.event_model_,
            alpha=self.alpha,
            binarize=self.binarize,
            covariance_type=self.covariance_type,
            reg_covar=self.reg_covar,
        )

    @staticmethod
    def _fit_events(events, X, resp):
        """Weighted M-step on raw rows; parameters left in column order."""
        data = events.prepare(X)
        events.fit(data, resp)
        events.finalize(data)
        return events

    def _generative_features(self, X_lab, y_lab, w_lab):
        """log p(x_i | k; theta) of the labeled rows, leave-one-out or not."""
        full = self.generative_.log_prob(X_lab)
        if not self.leave_one_out:
            return full
        K = len(self.classes_)
        if self.event_model_ == "multinomial":
            return _loo_multinomial(X_lab, y_lab, w_lab, K,
                                    float(self.alpha), full)
        if self.event_model_ == "bernoulli":
            Xb = self.generative_._binary(X_lab)
            return _loo_bernoulli(Xb, y_lab, w_lab, K, float(self.alpha),
                                  full)
        return _loo_gaussian(X_lab, y_lab, w_lab, K, self.generative_, full)

    def _gamma_step(self, params, A, B, y, w, fix_gamma2):
        """One warm-started L-BFGS-B solve; never returns a worse point."""
        args = (A, B, y, w, float(self.C), fix_gamma2)
        f0, _ = _gamma_objective(params, *args)
        res = minimize(_gamma_objective, params, args=args, jac=True,
                       method="L-BFGS-B",
                       options={"maxiter": 1000, "gtol": 1e-10,
                                "ftol": 1e-14})
        if fix_gamma2:
            res.x[1] = params[1]
        f1, _ = _gamma_objective(res.x, *args)
        if not np.isfinite(f1) or f1 > f0:
            return params.copy(), -f0
        return res.x, -f1

    @_fit_context(prefer_skip_nested_validation=True)
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
        X_unl, w_unl = X[unl], sample_weight[unl]

        # theta: MAP naive Bayes on the labeled rows.
        resp = np.zeros((lab.size, K))
        resp[np.arange(lab.size), y_lab] = w_lab
        self.generative_ = self._fit_events(self._new_events(), X_lab, resp)
        self.bias_correction_ = copy.deepcopy(self.generative_)
        class_weight = resp.sum(axis=0)
        with np.errstate(divide="ignore"):
            log_prior = np.log(class_weight / class_weight.sum())
        # A class whose labeled rows all weigh 0: a finite, low offset.
        log_prior[~np.isfinite(log_prior)] = np.min(
            log_prior[np.isfinite(log_prior)]) - 30.0
        params = np.concatenate([[1.0, 0.0], log_prior])

        A = self._generative_features(X_lab, y_lab, w_lab)
        has_unlabeled = unl.size > 0
        if has_unlabeled:
            A_unl = self.generative_.log_prob(X_unl)
            # Prepared once: the psi-steps reuse its layout (for counts a
            # reordered CSR + CSC copy, costly to rebuild every iteration).
            data_unl = self.bias_correction_.prepare(X_unl)
            B_unl = self.bias_correction_.log_prob(X_unl)
        self.objectives_ = []
        self.converged_ = False
        n_iter = 0
        for n_iter in range(1, self.max_iter + 1):
            if has_unlabeled:
                # psi-step: the hybrid's posteriors as soft labels.
                S = _hybrid_scores(A_unl, B_unl, params)
                R = np.exp(S - logsumexp(S, axis=1, keepdims=True))
                psi = self.bias_correction_
                psi.fit(data_unl, R * w_unl[:, None])
                B_unl = psi.log_prob(data_unl)  # in data_unl's own layout
                psi.finalize(data_unl)  # back to the input's column order
            B = self.bias_correction_.log_prob(X_lab)
            params, objective = self._gamma_step(
                params, A, B, y_lab, w_lab, fix_gamma2=not has_unlabeled)
            self.objectives_.append(objective)
            if self.verbose > 0:
                print(f"HybridClassifier iteration {n_iter}: "
                      f"objective {objective:.6f}", flush=True)
            if not has_unlabeled:
                self.converged_ = True
                break
            if len(self.objectives_) > 1 and (
                abs(self.objectives_[-1] - self.objectives_[-2])
                <= self.tol * abs(self.objectives_[-1])
            ):
                self.converged_ = True
                break
        if not self.converged_:
            warnings.warn(
                f"HybridClassifier did not converge in max_iter="
                f"{self.max_iter} iterations; raise max_iter or tol.",
                ConvergenceWarning,
            )
        self.n_iter_ = n_iter
        self.objective_ = self.objectives_[-1]
        self.weights_ = params[:2].copy()
        self.intercept_ = params[2:].copy()
        return self

    def _joint_log_likelihood_checked(self, X):
        """Unnormalised log-posterior ``gamma1 log p(x|k; theta) + gamma2
        log p(x|k; psi) + mu_k`` for validated X."""
        A = self.generative_.log_prob(X)
        B = self.bias_correction_.log_prob(X)
        return _hybrid_scores(A, B, np.concatenate([self.weights_,
                                                    self.intercept_]))
