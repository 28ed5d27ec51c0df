"""Mixture of experts for labeled + unlabeled rows (Miller & Uyar 1996)."""

import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from scipy.special import logsumexp
from sklearn.base import _fit_context
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import normalize
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions

from ._base import SemiSupervisedClassifier, _is_dask
from ._em import record_iteration
from ._events import COVARIANCE_TYPES, EVENT_MODELS, make_event_model

_EVENT_ATTRIBUTES = ("means_", "variances_", "component_feature_log_prob_")

# A component whose total (weighted) responsibility falls to this fraction
# of the total weight, or below, is dropped.
_DEAD_MASS = 1e-10
_DROPPED_HINT = "a class whose components were all dropped?"
# Below exp(_LOG_TINY) relative to a row's largest term, class sums are
# recomputed in log space (a float64 sum of exponentials would lose digits
# in the subnormal range, then underflow to 0).
_LOG_TINY = -600.0


def _kept_components(mass, kept, owner, n_iter):
    """Mask of the components to keep: those that lost (almost) all their
    mass are dropped, with a warning naming them (``kept``: their ids)."""
    dead = mass <= _DEAD_MASS * mass.sum()
    if dead.any():
        warnings.warn(
            f"{owner}: component(s) {kept[dead].tolist()} lost (almost) all "
            f"their mass at iteration {n_iter} and were dropped; consider "
            "fewer components or another init.",
            UserWarning,
        )
    return ~dead


def _class_table(labeled_mass, beta, class_freq, unlabeled_mass=None):
    """The class tables beta(c | l), (J, C), from the labeled mass (J, C).

    EM-I: labeled rows only. EM-II (``unlabeled_mass`` (J,) given, after
    the first iteration): the unlabeled rows' mass is spread over classes
    by the current tables. A component without class mass keeps its table
    (at the start: the labeled class frequencies ``class_freq``).
    """
    counts = labeled_mass
    if unlabeled_mass is not None and beta is not None:
        counts = counts + unlabeled_mass[:, None] * beta
    totals = counts.sum(axis=1, keepdims=True)
    previous = beta if beta is not None else class_freq[None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, counts / totals, previous)


def _prior_table(log_weights, beta):
    """The E-step's log prior per row kind, (C + 1, J): row 0 (unlabeled)
    ``log alpha_l``; row c + 1 (labeled c) ``log alpha_l + log beta(c | l)``.
    """
    table = np.empty((beta.shape[1] + 1, beta.shape[0]))
    table[0] = log_weights
    with np.errstate(divide="ignore"):
        table[1:] = log_weights + np.log(beta).T
    return table


class _Run:
    """The outcome of one EM run (one of ``n_init``)."""

    def __init__(self, events, log_weights, class_table, kept, n_iter,
                 converged, history):
        self.events = events
        self.log_weights = log_weights
        self.class_table = class_table
        self.kept = kept
        self.n_iter = n_iter
        self.converged = converged
        self.history = history

    @property
    def lower_bound(self):
        return self.history[-1]


class MixtureOfExperts(SemiSupervisedClassifier):
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
    event_model : {"auto", "multinomial", "bernoulli", "gaussian"}, \
default="auto"
        The component density. ``"auto"`` takes multinomial for sparse or
        non-negative integer input and Gaussian for real-valued dense input.
    algorithm : {"em1", "em2"}, default="em1"
        ``"em1"`` (EM-I): the missing data of an unlabeled row is its
        component, and the class tables learn from labeled rows only.
        ``"em2"`` (EM-II): the missing data of an unlabeled row is its
        component and its class, and the class tables also learn from the
        unlabeled rows' expected joint ``P(l, c | x_i)``. See Notes.
    alpha : float, default=1.0
        Additive smoothing of the count models' word probabilities (the
        Dirichlet prior of parameter ``alpha + 1``). Must be positive.
    reg_covar : float, default=1e-6
        Added to every Gaussian variance (the variance floor).
    max_iter : int, default=200
        Maximum number of EM iterations (E-steps) per run.
    tol : float, default=1e-6
        Stop when the gain of the objective in one iteration is at most
        ``tol * |objective|`` (a relative gain).
    n_init : int, default=1
        Number of EM runs from different starts; the run with the highest
        final objective is kept.
    init : {"labeled", "kmeans", "random"}, default="labeled"
        Initial responsibilities, from which the first M-step starts.
        ``"labeled"``: every labeled row on the components of its class
        (spread at random when a class has several), unlabeled rows at
        zero weight, so that the first M-step sees the labeled rows only.
        ``"kmeans"``: :class:`~sklearn.cluster.KMeans` clusters of all rows
        (on L1-normalised rows for count models). ``"random"``: random
        responsibilities for every row. In all three the first class table
        comes from the labeled rows' responsibilities. Since ML updates
        keep zeros at zero, the ``"labeled"`` start keeps every component
        on its one class (EM-I and EM-II then coincide); the other two let
        components be shared by classes. With several components per class
        use ``n_init > 1``: a start may end in a local optimum.
    random_state : int, RandomState instance or None, default=None
        Seeds the random starts (spread, k-means, random responsibilities).
    verbose : int, default=0
        Print the objective at every iteration when positive.
    covariance_type : {"diag", "tied", "spherical"}, default="diag"
        Covariance family of the Gaussian event model.
    binarize : float or None, default=0.0
        Threshold of the Bernoulli event model (``x > binarize`` is 1);
        ``None`` expects binary input.

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
        ``"diag"``, (n_features,) for ``"tied"``, (n_components_,) for
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
        "n_components": [None, Interval(Integral, 1, None, closed="left")],
        "event_model": [StrOptions({"auto", *EVENT_MODELS})],
        "algorithm": [StrOptions({"em1", "em2"})],
        "alpha": [Interval(Real, 0, None, closed="neither")],
        "reg_covar": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "n_init": [Interval(Integral, 1, None, closed="left")],
        "init": [StrOptions({"labeled", "kmeans", "random"})],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "covariance_type": [StrOptions(set(COVARIANCE_TYPES))],
        "binarize": [None, Interval(Real, 0, None, closed="left")],
    }

    def __init__(
        self,
        n_components=None,
        event_model="auto",
        algorithm="em1",
        alpha=1.0,
        reg_covar=1e-6,
        max_iter=200,
        tol=1e-6,
        n_init=1,
        init="labeled",
        random_state=None,
        verbose=0,
        covariance_type="diag",
        binarize=0.0,
    ):
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

    # -- fitting --------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit by EM on labeled rows and unlabeled rows (``y == -1``).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Non-negative counts for the count models, dense reals for the
            Gaussian model.
            A Dask array (rows chunked; the multinomial model) is fitted on
            its cluster, one map and one tree sum per iteration (see
            :mod:`probssl.distributed`).
        y : array-like of shape (n_samples,)
            Class labels; ``-1`` marks an unlabeled row. At least one row
            must be labeled.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative row weights (rows of weight 0 are left out).

        Returns
        -------
        self : MixtureOfExperts
        """
        if _is_dask(X) or _is_dask(y) or _is_dask(sample_weight):
            from .distributed import fit_dask

            return fit_dask(self, X, y, sample_weight)
        for name in _EVENT_ATTRIBUTES:  # a refit may change the model
            self.__dict__.pop(name, None)
        X, y_index, sample_weight = self._validate_fit(X, y, sample_weight)
        n_samples = X.shape[0]
        labeled = y_index >= 0
        n_classes = len(self.classes_)
        n_components = (
            n_classes if self.n_components is None else int(self.n_components)
        )

        active = sample_weight > 0
        X_active = X if active.all() else X[active]
        row_class = np.ascontiguousarray(y_index[active])
        weights = np.ascontiguousarray(sample_weight[active])
        if self.init == "kmeans" and X_active.shape[0] < n_components:
            raise ValueError(
                f"init='kmeans' needs at least n_components={n_components} "
                f"rows of positive weight, got {X_active.shape[0]}; use "
                "init='labeled' or fewer components."
            )

        def new_events():
            return make_event_model(
                self.event_model_,
                alpha=self.alpha,
                binarize=self.binarize,
                covariance_type=self.covariance_type,
                reg_covar=self.reg_covar,
            )

        events = new_events()
        data = events.prepare(X_active)
        lab_rows = np.flatnonzero(row_class >= 0)
        # One-hot labels (n, C), zero rows for unlabeled rows: the class
        # table's labeled statistics are one sparse product.
        onehot = sp.csr_matrix(
            (np.ones(lab_rows.size), (lab_rows, row_class[lab_rows])),
            shape=(row_class.size, n_classes),
        )
        class_freq = onehot.T @ weights
        class_freq /= class_freq.sum()

        rng = check_random_state(self.random_state)
        # The labeled start has no randomness with one component per class.
        deterministic = self.init == "labeled" and n_components <= n_classes
        best = None
        for run in range(1 if deterministic else self.n_init):
            if run > 0:
                events = new_events()
            resp = self._initial_resp(
                X_active, row_class, weights, n_classes, n_components, rng
            )
            result = self._run_em(
                events, data, resp, row_class, weights, onehot, class_freq
            )
            if best is None or result.lower_bound > best.lower_bound:
                best = result
        if not best.converged:
            warnings.warn(
                f"{type(self).__name__} did not converge in "
                f"max_iter={self.max_iter} iterations; raise max_iter or tol.",
                ConvergenceWarning,
            )

        self.events_ = best.events.finalize(data)
        self.n_components_ = best.kept.size
        self.weights_ = np.exp(best.log_weights)
        self._log_weights = best.log_weights
        self.class_table_ = best.class_table
        self.n_iter_ = best.n_iter
        self.converged_ = best.converged
        self.lower_bound_ = best.lower_bound
        self.lower_bounds_ = best.history
        if self.event_model_ == "gaussian":
            self.means_ = self.events_.means
            self.variances_ = self.events_.variances
        else:
            self.component_feature_log_prob_ = self.events_.feature_log_prob

        transduction = np.empty(n_samples, dtype=np.intp)
        transduction[labeled] = y_index[labeled]
        if not labeled.all():
            jll = self._joint_log_likelihood_checked(X[~labeled])
            transduction[~labeled] = jll.argmax(axis=1)
        self.transduction_ = self.classes_[transduction]
        return self

    def fit_chunks(self, chunks, classes=None):
        """Fit by EM over chunks of rows read one at a time (out of core).

        The multinomial model with ``init="labeled"`` only. Memory is
        bounded by one chunk plus a few (n_features, n_components) arrays;
        the result equals ``fit`` on the concatenated chunks up to rounding
        (same iterations, same dropped components, same random spread when
        there are more components than classes), but ``transduction_`` is
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
        self : MixtureOfExperts
        """
        from ._chunked_moe import fit_chunked_moe

        return fit_chunked_moe(self, chunks, classes=classes)

    def _initial_resp(self, X, row_class, weights, n_classes, n_components,
                      rng):
        """Initial weighted responsibilities (n, J) for the first M-step."""
        n = row_class.shape[0]
        J = n_components
        resp = np.zeros((n, J))
        if self.init == "labeled":
            labeled = np.flatnonzero(row_class >= 0)
            owner = np.arange(J) % n_classes
            for c in range(n_classes):
                rows = labeled[row_class[labeled] == c]
                comps = (
                    np.flatnonzero(owner == c) if J >= n_classes
                    else np.array([c % J])
                )
                if comps.size == 1:
                    resp[rows, comps[0]] = 1.0
                elif rows.size:
                    spread = rng.random_sample((rows.size, comps.size))
                    spread /= spread.sum(axis=1, keepdims=True)
                    resp[rows[:, None], comps] = spread
        elif self.init == "random":
            # Flat Dirichlet draws, one per row.
            resp = rng.standard_exponential((n, J))
            resp /= resp.sum(axis=1, keepdims=True)
        else:  # kmeans
            if self.event_model_ == "gaussian":
                Z = X
            else:
                # Documents are clustered as unit-length TF-IDF vectors
                # (k-means on them is spherical k-means, the standard for
                # text): raw proportions let frequent words dominate.
                from sklearn.feature_extraction.text import TfidfTransformer

                Z = normalize(TfidfTransformer(sublinear_tf=True)
                              .fit_transform(X))
            km = KMeans(
                n_clusters=J,
                n_init=1,
                random_state=rng.randint(np.iinfo(np.int32).max),
            ).fit(Z, sample_weight=weights)
            resp[np.arange(n), km.labels_] = 1.0
        resp *= weights[:, None]
        return resp

    def _run_em(self, events, data, resp, row_class, weights, onehot,
                class_freq):
        """One EM run from the initial weighted responsibilities ``resp``.

        Each iteration: M-step from ``resp`` (weights, event model, class
        table), then E-step with the new parameters, which also gives their
        objective; so ``history[-1]`` is exactly the objective of the
        returned parameters. The E-step writes into ``resp``, so that an
        event model with incremental passes (``begin_em``: the multinomial)
        can skip the rows whose posterior cannot move.
        """
        begin_em = getattr(events, "begin_em", None)
        if begin_em is not None:
            begin_em(data, resp.shape[1])
        try:
            return self._iterate(events, data, resp, row_class, weights,
                                 onehot, class_freq, begin_em)
        finally:
            if begin_em is not None:
                events.end_em()

    def _iterate(self, events, data, resp, row_class, weights, onehot,
                 class_freq, begin_em):
        owner = type(self).__name__
        em2 = self.algorithm == "em2"
        unlabeled = (row_class < 0)[:, None]
        has_unlabeled = bool(unlabeled.any())
        kept = np.arange(resp.shape[1])
        row_loglik = np.empty(resp.shape[0])
        beta = None
        history = []
        converged = False
        n_iter = 0
        for n_iter in range(1, self.max_iter + 1):
            # -- M-step -------------------------------------------------------
            mass = resp.sum(axis=0)
            keep = _kept_components(mass, kept, owner, n_iter)
            if not keep.all():
                kept = kept[keep]
                resp = np.ascontiguousarray(resp[:, keep])
                mass = mass[keep]
                if beta is not None:
                    beta = beta[keep]
                if begin_em is not None:  # new components: restart the state
                    events.end_em()
                    begin_em(data, resp.shape[1])
            log_weights = np.log(mass) - np.log(mass.sum())
            events.fit(data, resp)
            unl_mass = (resp.sum(axis=0, where=unlabeled)
                        if em2 and beta is not None and has_unlabeled
                        else None)
            beta = _class_table(np.asarray(onehot.T @ resp).T, beta,
                                class_freq, unl_mass)

            # -- E-step -------------------------------------------------------
            events.e_step_table(data, _prior_table(log_weights, beta),
                                row_class, weights, resp, row_loglik)
            objective = float(row_loglik.sum()) + events.log_prior()
            if record_iteration(history, objective, n_iter, owner=owner,
                                verbose=self.verbose, tol=self.tol,
                                hint=_DROPPED_HINT):
                converged = True
                break
        return _Run(events, log_weights, beta, kept, n_iter, converged,
                    history)

    # -- prediction -----------------------------------------------------------
    def _component_log_joint(self, X):
        """log alpha_l + log f(x | l) for validated X, (n, n_components_)."""
        jll = self.events_.log_prob(X)
        jll += self._log_weights
        return jll

    def _joint_log_likelihood_checked(self, X):
        """log P(x, c) = log sum_l alpha_l beta(c | l) f(x | l), (n, C)."""
        comp = self._component_log_joint(X)
        beta = self.class_table_
        # One matrix product of the shifted exponentials with beta ...
        row_max = comp.max(axis=1, keepdims=True)
        with np.errstate(divide="ignore"):
            out = np.log(np.exp(comp - row_max) @ beta)
        # ... exact in log space wherever that sum is tiny (or underflows).
        rows, cols = np.nonzero(out < _LOG_TINY)
        out += row_max
        if rows.size:
            with np.errstate(divide="ignore"):
                log_beta = np.log(beta)
            out[rows, cols] = logsumexp(comp[rows] + log_beta[:, cols].T,
                                        axis=1)
        return out

    def predict_component_proba(self, X):
        """Posterior component probabilities ``P(l | x)``, shape
        (n_samples, n_components_)."""
        comp = self._component_log_joint(self._validated(X))
        return np.exp(comp - logsumexp(comp, axis=1, keepdims=True))

    def predict_components(self, X):
        """Most probable component ``argmax_l P(l | x)`` of each row, shape
        (n_samples,): an index into ``weights_`` / ``class_table_``."""
        return self._component_log_joint(self._validated(X)).argmax(axis=1)
