"""EM naive Bayes for labeled + unlabeled documents (Nigam et al. 2000)."""

from numbers import Integral, Real

import numpy as np
from scipy.special import logsumexp
from sklearn.base import _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions

from ._base import SemiSupervisedClassifier, _is_dask
from ._em import run_em
from ._events import COVARIANCE_TYPES, EVENT_MODELS, make_event_model


_EVENT_ATTRIBUTES = (
    "means_", "variances_", "theta_", "var_", "feature_log_prob_",
    "component_feature_log_prob_",
)


class EMNaiveBayes(SemiSupervisedClassifier):
    """Multinomial naive Bayes trained by EM on labeled and unlabeled rows.

    The semi-supervised naive Bayes of Nigam, McCallum, Thrun & Mitchell
    (2000): train naive Bayes on the labeled rows, then alternate an E-step
    (posterior class probabilities of the unlabeled rows) and an M-step (MAP
    parameters from all rows, unlabeled ones weighted by ``unlabeled_weight``)
    until the MAP objective stops improving. Rows with ``y == -1`` are
    unlabeled, as in :mod:`sklearn.semi_supervised`.

    Parameters
    ----------
    alpha : float, default=1.0
        Additive (Laplace/Lidstone) smoothing of the word probabilities: the
        Dirichlet prior of parameter ``alpha + 1`` (the paper's Laplace prior
        is ``alpha=1``). Must be positive.
    unlabeled_weight : float, default=1.0
        The paper's lambda (EM-lambda, Sec. 5.1): each unlabeled row counts
        ``unlabeled_weight`` times in the M-step and in the objective. ``0``
        is supervised naive Bayes exactly; ``1`` is basic EM.
    n_components_per_class : int, default=1
        M multinomial components per class (EM with multiple mixture
        components per class, Sec. 5.2). Labeled rows are spread at random
        over their own class's components to start, then move only among
        them; a class's probability is the sum over its components.
    max_iter : int, default=100
        Maximum number of EM iterations (E-steps).
    tol : float, default=1e-6
        Stop when the gain of the MAP objective in one iteration is at most
        ``tol * |objective|`` (a relative gain, so that it does not depend
        on the size of the corpus).
    random_state : int, RandomState instance or None, default=None
        Seeds the random spread of labeled rows over their class's
        components when ``n_components_per_class > 1`` (the only randomness).
    verbose : int, default=0
        Print the objective at every iteration when positive.
    prior_smoothing : float, default=0.0
        Additive smoothing of the component (class) prior. ``0`` is the
        maximum-likelihood prior of scikit-learn's ``MultinomialNB``; ``1``
        is the Laplace-smoothed prior of the paper's eq. for theta_c.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Labels seen on labeled rows.
    class_log_prior_ : ndarray of shape (n_classes,)
        Log prior of each class (sum over its components).
    feature_log_prob_ : ndarray of shape (n_classes, n_features)
        Log word probabilities of each class. With several components per
        class, the class's word distribution is the mixture of its
        components' (the model itself predicts with the components).
    component_log_prior_ : ndarray of shape (n_classes * M,)
        Log mixing weight of every component; components
        ``c * M, ..., c * M + M - 1`` belong to class ``classes_[c]``.
    component_feature_log_prob_ : ndarray of shape (n_classes * M, n_features)
        Log word probabilities of every component.
    events_ : MultinomialEvents
        The fitted event model (word probabilities, layout used by kernels).
    n_iter_ : int
        Number of EM iterations run.
    converged_ : bool
        Whether the relative gain fell under ``tol`` before ``max_iter``.
    lower_bound_ : float
        MAP objective of the final parameters: the weighted log-likelihood
        (labeled rows of their own class; unlabeled rows summed over
        classes, times ``unlabeled_weight``) plus the Dirichlet log-prior,
        without the multinomial coefficients (constant in the parameters).
    lower_bounds_ : list of float
        The objective after every iteration; never decreases.
    transduction_ : ndarray of shape (n_samples,)
        Label of every training row: its own for labeled rows, the predicted
        one for unlabeled rows.
    n_features_in_ : int
        Number of features (words) seen during fit.

    See Also
    --------
    sklearn.naive_bayes.MultinomialNB : The supervised model that this one
        equals when there are no unlabeled rows.

    Notes
    -----
    Implements Nigam et al. (2000): the naive Bayes document model (eqs. 1-2),
    the MAP estimates of word probabilities and class priors (eqs. 3-4,
    ``alpha`` and ``prior_smoothing``), the classification rule (eq. 5), and
    EM on the log posterior of labeled and unlabeled documents (eqs. 8-9),
    with the lambda-weighted variant (Sec. 5.1) and multiple mixture
    components per class (Sec. 5.2).

    Each EM iteration costs two parallel passes over the non-zeros (Numba):
    the E-step reads the rows (CSR), the M-step the columns (CSC, fused with
    the logarithm). Neither builds a dense (n_samples, n_features) array.

    References
    ----------
    K. Nigam, A. McCallum, S. Thrun and T. Mitchell. Text Classification
    from Labeled and Unlabeled Documents using EM. Machine Learning 39(2/3),
    103-134, 2000.

    Examples
    --------
    >>> import numpy as np
    >>> from probssl import EMNaiveBayes
    >>> X = np.array([[3, 0, 1], [2, 0, 0], [0, 4, 1], [0, 3, 0],
    ...               [4, 1, 0], [0, 5, 1]])
    >>> y = np.array([0, -1, 1, -1, -1, -1])   # -1: unlabeled
    >>> clf = EMNaiveBayes().fit(X, y)
    >>> clf.predict(X).tolist()
    [0, 0, 1, 1, 0, 1]
    >>> clf.converged_
    True
    """

    _parameter_constraints = {
        "alpha": [Interval(Real, 0, None, closed="neither")],
        "unlabeled_weight": [Interval(Real, 0, None, closed="left")],
        "n_components_per_class": [Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "prior_smoothing": [Interval(Real, 0, None, closed="left")],
        "event_model": [StrOptions({"auto", *EVENT_MODELS})],
        "covariance_type": [StrOptions(set(COVARIANCE_TYPES))],
        "reg_covar": [Interval(Real, 0, None, closed="left")],
        "binarize": [None, Interval(Real, 0, None, closed="left")],
    }

    def __init__(
        self,
        alpha=1.0,
        unlabeled_weight=1.0,
        n_components_per_class=1,
        max_iter=100,
        tol=1e-6,
        random_state=None,
        verbose=0,
        prior_smoothing=0.0,
        event_model="auto",
        covariance_type="diag",
        reg_covar=1e-6,
        binarize=0.0,
    ):
        self.alpha = alpha
        self.unlabeled_weight = unlabeled_weight
        self.n_components_per_class = n_components_per_class
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.verbose = verbose
        self.prior_smoothing = prior_smoothing
        self.event_model = event_model
        self.covariance_type = covariance_type
        self.reg_covar = reg_covar
        self.binarize = binarize

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit by EM on labeled rows and unlabeled rows (``y == -1``).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Non-negative counts (e.g. from ``CountVectorizer``). All-zero
            rows are allowed; their posterior is the prior.
            A Dask array (rows chunked; ``event_model="auto"`` means
            multinomial there) is fitted on its cluster, one map and one tree sum per
            iteration (see :mod:`probssl.distributed`).
        y : array-like of shape (n_samples,)
            Class labels; ``-1`` marks an unlabeled row. At least one row
            must be labeled.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative row weights, multiplied with ``unlabeled_weight``
            on unlabeled rows.

        Returns
        -------
        self : EMNaiveBayes
        """
        if _is_dask(X) or _is_dask(y) or _is_dask(sample_weight):
            from .distributed import fit_dask

            return fit_dask(self, X, y, sample_weight)
        for name in _EVENT_ATTRIBUTES:  # a refit may change the model
            self.__dict__.pop(name, None)
        X, y_index, sample_weight = self._validate_fit(X, y, sample_weight)
        n_samples = X.shape[0]
        labeled = y_index >= 0
        weights = sample_weight * np.where(
            labeled, 1.0, float(self.unlabeled_weight)
        )

        # Weightless rows (e.g. unlabeled_weight=0) cannot change the fit:
        # leave them out of the passes rather than multiply them by zero.
        active = weights > 0
        self.events_ = make_event_model(
            self.event_model_,
            alpha=self.alpha,
            binarize=self.binarize,
            covariance_type=self.covariance_type,
            reg_covar=self.reg_covar,
        )
        data = self.events_.prepare(X[active] if not active.all() else X)
        row_class = np.ascontiguousarray(y_index[active])
        row_weight = np.ascontiguousarray(weights[active])

        n_classes = len(self.classes_)
        M = self.n_components_per_class
        resp = self._initial_resp(row_class, row_weight, n_classes, M)
        result = run_em(
            self.events_,
            data,
            resp,
            row_class,
            M,
            row_weight,
            prior_alpha=float(self.prior_smoothing),
            max_iter=self.max_iter,
            tol=self.tol,
            verbose=self.verbose,
            owner=type(self).__name__,
        )
        self.n_iter_ = result.n_iter
        self.converged_ = result.converged
        self.lower_bound_ = result.lower_bound
        self.lower_bounds_ = result.history
        self.component_log_prior_ = result.log_prior
        self.class_log_prior_ = logsumexp(
            result.log_prior.reshape(n_classes, M), axis=1
        )
        if self.event_model_ == "gaussian":
            self.means_ = self.events_.means
            self.variances_ = self.events_.variances
            if M == 1:
                # GaussianNB's names, for drop-in use.
                self.theta_ = self.means_
                self.var_ = self.events_._full_variances()
        else:
            self.component_feature_log_prob_ = self.events_.feature_log_prob
            if M == 1:
                self.feature_log_prob_ = self.component_feature_log_prob_
            else:
                # A class's word distribution: the mixture of its components.
                within = (
                    result.log_prior.reshape(n_classes, M)
                    - self.class_log_prior_[:, None]
                )
                comp = self.component_feature_log_prob_.reshape(
                    n_classes, M, -1
                )
                self.feature_log_prob_ = logsumexp(
                    comp + within[..., None], axis=1
                )

        transduction = np.empty(n_samples, dtype=np.intp)
        transduction[labeled] = y_index[labeled]
        if not labeled.all():
            jll = self._joint_log_likelihood_checked(X[~labeled])
            transduction[~labeled] = jll.argmax(axis=1)
        self.transduction_ = self.classes_[transduction]
        return self

    def fit_chunks(self, chunks, classes=None):
        """Fit by EM over chunks of rows read one at a time (out of core).

        Any event model: multinomial (``event_model="auto"`` means it
        here), Bernoulli (chunks binarized once) or Gaussian (dense
        chunks). Memory is bounded by one chunk plus a
        few (n_features, n_classes * M) arrays; the result equals ``fit`` on
        the concatenated chunks up to rounding (same iterations, same random
        spread for ``n_components_per_class > 1``), but ``transduction_`` is
        not set.

        Parameters
        ----------
        chunks : callable or re-iterable
            ``chunks()`` returning an iterator, or a re-iterable such as a
            list or :class:`probssl.chunked.NpzChunks`, of ``(X, y)`` or
            ``(X, y, sample_weight)``; read once per EM iteration.
        classes : array-like, default=None
            The class labels; found by a first pass when None.

        Returns
        -------
        self : EMNaiveBayes
        """
        from ._chunked import fit_chunked

        return fit_chunked(self, chunks, classes=classes)

    def _initial_resp(self, row_class, row_weight, n_classes, M):
        """Weighted responsibilities of the labeled rows (the paper's start:
        naive Bayes on labeled rows only); unlabeled rows start at zero."""
        n = row_class.shape[0]
        resp = np.zeros((n, n_classes * M))
        labeled = np.flatnonzero(row_class >= 0)
        if M == 1:
            resp[labeled, row_class[labeled]] = row_weight[labeled]
        else:
            rng = check_random_state(self.random_state)
            spread = rng.random_sample((labeled.size, M))
            spread /= spread.sum(axis=1, keepdims=True)
            cols = row_class[labeled, None] * M + np.arange(M)
            resp[labeled[:, None], cols] = spread * row_weight[labeled, None]
        return resp

    # -- prediction -----------------------------------------------------------
    def _joint_log_likelihood_checked(self, X):
        """log P(x, c) for validated X, summed over each class's components."""
        jll = self.events_.log_prob(X)
        jll += self.component_log_prior_
        M = self.n_components_per_class
        if M > 1:
            jll = logsumexp(jll.reshape(X.shape[0], -1, M), axis=2)
        return jll
