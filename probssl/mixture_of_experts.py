"""Mixture of experts for labeled + unlabeled rows (Miller & Uyar 1996)."""

from __future__ import annotations

from numbers import Integral

import numpy as np
from scipy.special import logsumexp, softmax
from sklearn.utils._param_validation import Interval, StrOptions

from ._base import EMClassifier
from ._mixing import Mixing
from ._typing import FloatArray, IntArray, MatrixLike, RandomStateLike

class MixtureOfExperts(EMClassifier):
    """Mixture of experts trained by EM on labeled and unlabeled rows.

    The "generalized mixture" classifier of Miller & Uyar (1996): J
    components, each with a mixing weight ``alpha_l``, a density
    ``f(x | theta_l)`` (an event model: multinomial or Bernoulli for counts,
    Gaussian for dense embeddings) and a class table ``beta(c | l)``, so
    that::

        P(x, c) = sum_l alpha_l beta(c | l) f(x | theta_l)
        P(c | x) = sum_l P(l | x) beta(c | l),  P(l | x) ~ alpha_l f(x | l)

    Components need not align with classes: a class may span several
    components (``n_components > n_classes``) and a component may serve
    several classes. All parameters maximise the likelihood of labeled and
    unlabeled rows together (``y == -1`` marks an unlabeled row, as in
    :mod:`sklearn.semi_supervised`).

    Parameters
    ----------
    n_components : int or None, default=None
        Number of components J; ``None`` is one per class. With
        ``init="labeled"`` component ``l`` starts on class ``l mod C``
        (and, when J < C, class ``c`` on component ``c mod J``).
    event_model : {"auto", "multinomial", "bernoulli", "poisson", \
"gaussian", "vmf"}, default="auto"
        The component density. ``"auto"`` takes multinomial for sparse or
        non-negative integer input and Gaussian for real-valued dense input.
    algorithm : {"em1", "em2"}, default="em1"
        ``"em1"`` (EM-I): the missing data of an unlabeled row is its
        component, and the class tables learn from labeled rows only.
        ``"em2"`` (EM-II): the missing data of an unlabeled row is its
        component and its class, and the class tables also learn from the
        unlabeled rows' expected joint ``P(l, c | x_i)``. See Notes.
    alpha : float, default=0.01
        Additive smoothing of the count models' word probabilities (the
        Dirichlet prior of parameter ``alpha + 1``). Must be positive.
        0.01, as :class:`EMNaiveBayes`: on 20 Newsgroups (10,000
        unlabeled posts, 20 to 1,000 labeled) within 1.5 points of the best
        of {1, 0.1, 0.01, 0.001} at every size, where ``alpha=1`` loses
        20-45 points (``scripts/defaults_table.py``).
    reg_covar : float, default=1e-6
        Added to every Gaussian variance (the variance floor).
    max_iter : int, default=200
        Maximum number of EM iterations (E-steps) per run.
    tol : float or "auto", default=1e-6
        Stop when the gain of the objective in one iteration is at most
        ``tol * |objective|`` (a relative gain). ``"auto"`` is
        :class:`EMNaiveBayes`'s rule: 1e-4 for the count models, 1e-6 for
        the dense ones.
    n_init : int, default=1
        Number of EM runs from different starts; the run with the highest
        final objective is kept.
    init : {"labeled", "kmeans", "random"}, default="labeled"
        Initial responsibilities, from which the first M-step starts.
        ``"labeled"``: every labeled row on the components of its class
        (spread at random when a class has several), unlabeled rows at
        zero weight, so that the first M-step sees the labeled rows only.
        ``"kmeans"``: k-means clusters of all rows (documents as unit-length
        sublinear TF-IDF vectors: spherical k-means), seeded by k-means++
        on a row sample, then Lloyd iterations, each one pass of additive
        sums over the rows (so in memory, out of core and on Dask alike).
        ``"random"``: flat Dirichlet responsibilities for every row, drawn
        from the row's position in the input. In all three the first class
        table comes from the labeled rows' responsibilities. Since ML updates
        keep zeros at zero, the ``"labeled"`` start keeps every component
        on its one class (EM-I and EM-II then coincide); the other two let
        components be shared by classes. With several components per class
        use ``n_init > 1``: a start may end in a local optimum.
    random_state : int, RandomState instance or None, default=None
        Seeds the random starts (spread, k-means, random responsibilities).
    verbose : int, default=0
        Report the objective at every iteration when positive (one INFO
        line on the ``"probssl"`` logger, printed to stdout by default).
    covariance_type : {"full", "tied", "diag", "spherical", "tied_diag"}, \
default="diag"
        Covariance family of the Gaussian event model (scikit-learn's
        meanings; ``"tied_diag"``: one shared diagonal); vMF: a tied type
        shares one concentration.
    shrinkage : None, float in [0, 1] or "auto", default=None
        Shrinkage of the "full" / "tied" covariances (Ledoit–Wolf for
        ``"auto"``).
    binarize : float or None, default=0.0
        Threshold of the Bernoulli event model (``x > binarize`` is 1);
        ``None`` expects binary input.
    warm_start : bool, default=False
        When True and the estimator is fitted (same classes, features and
        event model), ``fit`` starts EM from the fitted parameters (an
        E-step first) instead of ``init``.
    n_jobs : int or None, default=None
        Threads of the kernels and BLAS products during ``fit`` and
        prediction (``-1``: every CPU, ``-2``: all but one); None: every
        CPU that ``threadpoolctl``'s limits allow.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Labels seen on labeled rows.
    n_components_ : int
        Number of components kept (J unless some were dropped, see Notes).
    weights_ : ndarray of shape (n_components_,)
        Mixing weights ``alpha_l``.
    class_table_ : ndarray of shape (n_components_, n_classes)
        ``beta(c | l)``: each row sums to 1.
    events_ : event model
        The fitted component densities.
    event_model_ : str
        The event model used (``"auto"`` resolved).
    means_ : ndarray of shape (n_components_, n_features)
        Gaussian means (Gaussian event model only).
    variances_ : ndarray
        Gaussian variances, of shape (n_components_, n_features) for
        ``"diag"`` and ``"full"`` (the diagonal), (n_features,) for
        ``"tied_diag"`` and ``"tied"``, (n_components_,) for
        ``"spherical"`` (Gaussian event model only).
    component_feature_log_prob_ : ndarray of shape (n_components_, n_features)
        Log word probabilities of every component (count models only).
    n_iter_ : int
        Number of EM iterations of the kept run.
    converged_ : bool
        Whether the kept run's relative gain fell under ``tol``.
    lower_bound_ : float
        The objective of the final parameters (see Notes).
    lower_bounds_ : list of float
        The objective after every iteration of the kept run; it never
        decreases.
    transduction_ : ndarray of shape (n_samples,)
        Label of every training row: its own for labeled rows, the
        predicted one for unlabeled rows.
    n_features_in_ : int
        Number of features seen during fit.

    See Also
    --------
    probssl.EMNaiveBayes : One component per class (or M per class), each
        bound to its class; the special case ``beta = identity``.

    Notes
    -----
    **Objective.** EM maximises the (weighted) log-likelihood of Miller &
    Uyar's Sec. 2 (with sample weights ``w_i``)::

        sum_{i in U} w_i log sum_l alpha_l f(x_i | l)
        + sum_{i in L} w_i log sum_l alpha_l beta(y_i | l) f(x_i | l)

    plus the event model's log-prior (the Dirichlet terms of the count
    models; 0 for the Gaussian model). The multinomial coefficients, which
    do not depend on the parameters, are left out. ``alpha_l`` and
    ``beta(c | l)`` are maximum-likelihood estimates, without smoothing: a
    zero in the class table stays zero (as any zero of an ML EM update),
    which is what makes a fully labeled fit with one component per class
    naive Bayes exactly (``class_table_`` is the identity). A component
    that no labeled (EM-I) or no (EM-II) mass reaches keeps its previous
    class table row; its first one is the labeled class frequencies.

    **EM-I** (``algorithm="em1"``). E-step: ``P(l | x_i, y_i) ~ alpha_l
    beta(y_i | l) f(x_i | l)`` for labeled rows, ``P(l | x_i) ~ alpha_l
    f(x_i | l)`` for unlabeled rows. M-step: ``alpha_l`` is the weighted
    mean responsibility over all rows; ``theta_l`` the weighted event model
    fit from all rows; ``beta(c | l) = sum_{i in L, y_i = c} w_i P(l | x_i,
    y_i) / sum_{i in L} w_i P(l | x_i, y_i)``.

    **EM-II** (``algorithm="em2"``). The E-step of an unlabeled row is the
    joint ``P(l, c | x_i) = P(l | x_i) beta(c | l)`` and the class table
    update adds that unlabeled mass::

        beta(c | l) = [sum_{i in L, y_i = c} w_i P(l | x_i, y_i)
                       + sum_{i in U} w_i P(l | x_i) beta_old(c | l)]
                      / [sum_{i in L} w_i P(l | x_i, y_i)
                         + sum_{i in U} w_i P(l | x_i)]

    (``alpha`` and ``theta`` as in EM-I). Since ``sum_c beta(c | l) = 1``,
    the unlabeled rows' marginal likelihood is the same, so both algorithms
    increase the same objective; they share their fixed points but take
    different paths (EM-II moves the class tables more slowly, shrinking
    them toward their previous value by the unlabeled mass). The first
    M-step, from the initial responsibilities, takes ``beta`` from the
    labeled rows in both.

    **Degenerate components.** A component whose mass falls to
    ``1e-10`` of the total weight or below is dropped, with a warning:
    it is removed from every fitted array (``n_components_`` counts the
    rest). Dropping rather than re-seeding keeps the objective monotone.
    A Gaussian component that shrinks onto a single row keeps the variance
    ``reg_covar``; with ``reg_covar=0`` a zero variance raises
    ``FloatingPointError``. The objective is never NaN: a row that no
    component can explain raises ``FloatingPointError``.

    Each iteration is one event-model E-step (``log_prob``, Numba or BLAS)
    and M-step (``fit``) plus O(n_samples x J) NumPy work.

    References
    ----------
    D. J. Miller and H. S. Uyar. A Mixture of Experts Classifier with
    Learning Based on Both Labelled and Unlabelled Data. Advances in Neural
    Information Processing Systems 9 (NIPS 1996), 571-577, 1997.

    Examples
    --------
    Two classes, each the union of two clusters (an XOR layout), one label
    per cluster and 196 unlabeled rows:

    >>> import numpy as np
    >>> from probssl.mixture_of_experts import MixtureOfExperts
    >>> rng = np.random.RandomState(0)
    >>> centers = np.array([[0, 0], [4, 4], [0, 4], [4, 0]])
    >>> X = np.vstack([c + rng.normal(scale=0.5, size=(50, 2))
    ...                for c in centers])
    >>> y_true = np.repeat([0, 0, 1, 1], 50)
    >>> y = np.full(200, -1)
    >>> y[::50] = y_true[::50]
    >>> clf = MixtureOfExperts(n_components=4, init="kmeans",
    ...                        random_state=0).fit(X, y)
    >>> clf.score(X, y_true)
    1.0
    >>> clf.predict([[0, 0], [4, 4], [0, 4], [4, 0]]).tolist()
    [0, 0, 1, 1]
    >>> clf.class_table_.sum(axis=0).round(3).tolist()  # two components each
    [2.0, 2.0]
    >>> clf.n_components_, clf.converged_
    (4, True)
    """

    _parameter_constraints = {
        **EMClassifier._shared_constraints,
        "n_components": [None, Interval(Integral, 1, None, closed="left")],
        "algorithm": [StrOptions({"em1", "em2"})],
        "n_init": [Interval(Integral, 1, None, closed="left")],
        "init": [StrOptions({"labeled", "kmeans", "random"})],
        "n_jobs": [Integral, None],
    }

    def __init__(
        self,
        n_components: int | None = None,
        event_model: str = "auto",
        algorithm: str = "em1",
        alpha: float = 0.01,
        reg_covar: float = 1e-6,
        max_iter: int = 200,
        tol: float | str = 1e-6,
        n_init: int = 1,
        init: str = "labeled",
        random_state: RandomStateLike = None,
        verbose: int = 0,
        covariance_type: str = "diag",
        binarize: float | None = 0.0,
        warm_start: bool = False,
        shrinkage: float | str | None = None,
        n_jobs: int | None = None,
    ) -> None:
        self.n_components = n_components
        self.event_model = event_model
        self.algorithm = algorithm
        self.alpha = alpha
        self.reg_covar = reg_covar
        self.max_iter = max_iter
        self.tol = tol
        self.n_init = n_init
        self.init = init
        self.random_state = random_state
        self.verbose = verbose
        self.covariance_type = covariance_type
        self.binarize = binarize
        self.warm_start = warm_start
        self.shrinkage = shrinkage
        self.n_jobs = n_jobs

    def _mixing(self, n_classes, seed):
        J = n_classes if self.n_components is None else int(self.n_components)
        return Mixing(n_classes, np.arange(J) % n_classes, seed,
                      algorithm=self.algorithm, init=self.init)

    def _set_fitted(self, run):
        self.n_components_ = run.mixing["kept"].size
        self._log_weights = run.mixing["log_weights"]
        self.weights_ = np.exp(self._log_weights)
        self.class_table_ = run.mixing["beta"]

    # -- prediction -----------------------------------------------------------
    def _component_log_joint(self, X):
        """log alpha_l + log f(x | l) for validated X, (n, n_components_)."""
        return self.events_.log_prob(X) + self._log_weights

    def _joint_log_likelihood_checked(self, X):
        """log P(x, c) = log sum_l alpha_l beta(c | l) f(x | l), (n, C),
        in log space (exact where the sum is far below its largest term)."""
        comp = self._component_log_joint(X)
        with np.errstate(divide="ignore"):
            log_beta = np.log(self.class_table_)
        return np.column_stack([logsumexp(comp + lb, axis=1)
                                for lb in log_beta.T])

    def predict_component_proba(self, X: MatrixLike) -> FloatArray:
        """Posterior component probabilities ``P(l | x)``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The rows to assign.

        Returns
        -------
        ndarray of shape (n_samples, n_components_)
            ``P(l | x)``, columns in the order of ``weights_``.
        """
        return softmax(self._component_log_joint(self._validated(X)), axis=1)

    def predict_components(self, X: MatrixLike) -> IntArray:
        """Most probable component ``argmax_l P(l | x)`` of each row.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The rows to assign.

        Returns
        -------
        ndarray of shape (n_samples,)
            An index into ``weights_`` / ``class_table_`` for every row.
        """
        return self._component_log_joint(self._validated(X)).argmax(axis=1)
