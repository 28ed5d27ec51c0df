"""EM naive Bayes for labeled + unlabeled documents (Nigam et al. 2000)."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from scipy.special import logsumexp
from sklearn.utils._param_validation import Interval

from ._base import EMClassifier
from ._typing import ArrayLike, MatrixLike, RandomStateLike
from ._mixing import Mixing


class EMNaiveBayes(EMClassifier):
    """Naive Bayes trained by EM on labeled and unlabeled rows.

    The class-conditional density is the ``event_model``'s: multinomial
    (word counts, the paper's), Bernoulli, Poisson, Gaussian (dense
    embeddings) or von Mises–Fisher (unit-norm rows).

    The semi-supervised naive Bayes of Nigam, McCallum, Thrun & Mitchell
    (2000): train naive Bayes on the labeled rows, then alternate an E-step
    (posterior class probabilities of the unlabeled rows) and an M-step (MAP
    parameters from all rows, unlabeled ones weighted by ``unlabeled_weight``)
    until the MAP objective stops improving. Rows with ``y == -1`` are
    unlabeled, as in :mod:`sklearn.semi_supervised`.

    Parameters
    ----------
    alpha : float, default=0.01
        Additive (Lidstone) smoothing of the word probabilities: the
        Dirichlet prior of parameter ``alpha + 1``. Must be positive. The
        paper's Laplace prior, ``alpha=1``, drowns the few labeled
        documents' counts in a 50,000-word vocabulary: 0.01 is the default
        (on 20 Newsgroups with 10,000 unlabeled posts, 20 / 100 / 300 / 1,000
        labeled, ``alpha=0.01`` is within 1.5 points of the best of
        {1, 0.1, 0.01, 0.001} at every size, where ``alpha=1`` loses 20-45
        points; ``scripts/defaults_table.py``).
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
    tol : float or "auto", default="auto"
        Stop when the gain of the MAP objective in one iteration is at most
        ``tol * |objective|`` (a relative gain, so that it does not depend
        on the size of the corpus); ``tol=0`` runs all ``max_iter``
        iterations. ``"auto"``: 1e-4 for the count models, which stops
        where Nigam et al. (2000) saw EM settle, after 5-11 iterations on
        20 Newsgroups (40-1,000 labeled and 10,000 unlabeled posts; test
        accuracy within 0.2 points of 30 iterations'); 1e-6 for the dense
        models, whose components separate more slowly.
    random_state : int, RandomState instance or None, default=None
        Seeds the random spread of labeled rows over their class's
        components when ``n_components_per_class > 1`` (the only randomness;
        each row's share is drawn from its position in the input, so that
        in-memory, chunked and Dask fits start alike).
    verbose : int, default=0
        Report the objective at every iteration when positive (one INFO
        line on the ``"probssl"`` logger, printed to stdout by default).
    prior_smoothing : float, default=0.0
        Additive smoothing of the component (class) prior. ``0`` is the
        maximum-likelihood prior of scikit-learn's ``MultinomialNB``; ``1``
        is the Laplace-smoothed prior of the paper's eq. for theta_c.

    event_model : {"auto", "multinomial", "bernoulli", "poisson", \
"gaussian", "vmf"}, default="auto"
        The component density: multinomial (counts), Bernoulli (word
        presence, ``x > binarize``), Poisson (every count independent),
        Gaussian (dense embeddings) or von Mises–Fisher (unit-norm rows;
        :mod:`probssl._vmf`).
        ``"auto"`` takes multinomial for sparse or non-negative integer
        input and Gaussian for other dense input (over all chunks alike).
    covariance_type : {"full", "tied", "diag", "spherical", "tied_diag"}, \
default="diag"
        Covariance family of the Gaussian model, scikit-learn's meanings:
        ``"tied"`` is one shared *full* covariance (the shared diagonal is
        ``"tied_diag"``). With ``event_model="vmf"``, a tied type shares one
        concentration over the components.
    reg_covar : float, default=1e-6
        Added to every Gaussian variance.
    shrinkage : None, float in [0, 1] or "auto", default=None
        Shrinkage of the "full" / "tied" covariances (``"auto"``:
        Ledoit–Wolf, as ``LinearDiscriminantAnalysis``): a float ``a``
        gives ``(1 - a) C + a (tr C / d) I`` per component, as
        ``sklearn.covariance.shrunk_covariance``.
    binarize : float or None, default=0.0
        Threshold of the Bernoulli model; ``None`` expects binary input.
    warm_start : bool, default=False
        When True and the estimator is fitted (same classes, features and
        event model), ``fit`` starts EM from the fitted parameters (an
        E-step first) instead of naive Bayes on the labeled rows: a refit
        after a few more labels costs a few iterations (active learning).
    n_jobs : int or None, default=None
        Threads of the kernels and BLAS products during ``fit`` and
        prediction (``-1``: every CPU, ``-2``: all but one); None: every
        CPU that ``threadpoolctl``'s limits allow.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Labels seen on labeled rows.
    class_log_prior_ : ndarray of shape (n_classes,)
        Log prior of each class (sum over its components).
    feature_log_prob_ : ndarray of shape (n_classes, n_features)
        Count models: log word probabilities of each class. With several components per
        class, the class's word distribution is the mixture of its
        components' (the model itself predicts with the components).
    component_log_prior_ : ndarray of shape (n_classes * M,)
        Log mixing weight of every component; components
        ``c * M, ..., c * M + M - 1`` belong to class ``classes_[c]``.
    component_feature_log_prob_ : ndarray of shape (n_classes * M, n_features)
        Count models: log word probabilities of every component.
    event_model_ : str
        The event model fitted (``event_model`` with ``"auto"`` resolved).
    events_ : event model
        The fitted event model (e.g. ``MultinomialEvents``: word
        probabilities in the layout the kernels read).
    means_ : ndarray of shape (n_classes * M, n_features)
        Component means (Gaussian models) or mean directions (vMF).
    variances_ : ndarray
        Gaussian variances: (n_classes * M, n_features) for "diag" and
        "full" (the diagonal of the covariances), (n_features,) for
        "tied_diag" and "tied", (n_classes * M,) for "spherical".
    covariances_ : ndarray
        Full covariances (``covariance_type`` "full": one (n_features,
        n_features) matrix per component; "tied": one shared).
    concentrations_ : ndarray of shape (n_classes * M,)
        vMF concentrations (equal when tied).
    theta_ : ndarray of shape (n_classes, n_features)
        Gaussian models with one component per class: the means under
        ``GaussianNB``'s name.
    var_ : ndarray of shape (n_classes, n_features)
        Gaussian models with one component per class: the variances per
        class and feature, as ``GaussianNB.var_``.
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
    the MAP estimates of word probabilities and class priors (M-step,
    eqs. 5-6, ``alpha`` and ``prior_smoothing``), the classification rule
    that is also the E-step (eq. 7), and EM on the log posterior of labeled
    and unlabeled documents (eqs. 8-9),
    with the lambda-weighted variant (Sec. 5.1) and multiple mixture
    components per class (Sec. 5.2).

    Each EM iteration costs two parallel passes over the rows' non-zeros
    (Numba): the E-step, and the M-step's scatter into the column statistics
    (then a logarithm of those that changed). In memory both skip the rows
    whose posterior can no longer move (:mod:`probssl._incremental`).
    Neither builds a dense (n_samples, n_features) array.

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
        **EMClassifier._shared_constraints,
        "unlabeled_weight": [Interval(Real, 0, None, closed="left")],
        "n_components_per_class": [Interval(Integral, 1, None, closed="left")],
        "prior_smoothing": [Interval(Real, 0, None, closed="left")],
        "n_jobs": [Integral, None],
    }

    def __init__(
        self,
        alpha: float = 0.01,
        unlabeled_weight: float = 1.0,
        n_components_per_class: int = 1,
        max_iter: int = 100,
        tol: float | str = "auto",
        random_state: RandomStateLike = None,
        verbose: int = 0,
        prior_smoothing: float = 0.0,
        event_model: str = "auto",
        covariance_type: str = "diag",
        reg_covar: float = 1e-6,
        binarize: float | None = 0.0,
        warm_start: bool = False,
        shrinkage: float | str | None = None,
        n_jobs: int | None = None,
    ) -> None:
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
        self.warm_start = warm_start
        self.shrinkage = shrinkage
        self.n_jobs = n_jobs

    def _mixing(self, n_classes, seed):
        owner = np.repeat(np.arange(n_classes), self.n_components_per_class)
        return Mixing(n_classes, owner, seed, fixed=True,
                      prior_alpha=self.prior_smoothing)

    def _set_fitted(self, run):
        n_classes, M = len(self.classes_), self.n_components_per_class
        log_pi = self.component_log_prior_ = run.mixing["log_weights"]
        self.class_log_prior_ = logsumexp(log_pi.reshape(n_classes, M),
                                          axis=1)
        counts = hasattr(self, "component_feature_log_prob_")
        if M == 1:  # scikit-learn's names, for drop-in use
            for name, value in self.events_.naive_bayes_attributes().items():
                setattr(self, name + "_", value)
        elif counts:  # a class's word distribution: its components' mixture
            within = (log_pi.reshape(n_classes, M)
                      - self.class_log_prior_[:, None])
            comp = self.component_feature_log_prob_.reshape(n_classes, M, -1)
            self.feature_log_prob_ = logsumexp(comp + within[..., None],
                                               axis=1)

    def _guess(self, source):
        # The last E-step's posteriors are those of the final parameters
        # (run_em ends on an E-step): no second pass over X.
        if source.passes is None or source.block.rows.size != source.X.shape[0]:
            return super()._guess(source)  # not kept, or weightless rows
        resp = source.passes.resp
        n, M = resp.shape[0], self.n_components_per_class
        return resp.reshape(n, -1, M).sum(axis=2).argmax(axis=1)

    def leave_one_out_score(self, X: MatrixLike, y: ArrayLike,
                            sample_weight: ArrayLike | None = None) -> float:
        """Leave-one-out accuracy on the labeled rows of the training data.

        Nigam et al.'s (2000, sec. 5.1) shortcut to choose ``unlabeled_weight``
        without held-out labels: EM runs once on all the rows; each labeled
        row is then classified by the model refitted from the final
        statistics minus its own contribution (its counts and its weight in
        the class prior; closed form for the count models, see the event
        model's ``leave_one_out``). The statistics are those of the final
        parameters on ``(X, y)``: labeled rows on their class, unlabeled rows
        (``y == -1``) by their posterior times ``unlabeled_weight``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The training rows (``fit``'s input).
        y : array-like of shape (n_samples,)
            Their labels, ``-1`` for unlabeled rows.
        sample_weight : array-like of shape (n_samples,), default=None
            ``fit``'s row weights.

        Returns
        -------
        float
            The leave-one-out accuracy (weighted by ``sample_weight``).
        """
        from sklearn.metrics import accuracy_score
        from sklearn.utils.validation import check_is_fitted

        from ._validation import (check_n_rows, check_sample_weight,
                                  encode_known_labels)

        check_is_fitted(self)
        if self.n_components_per_class != 1:
            raise ValueError("leave_one_out_score needs "
                             "n_components_per_class=1.")
        X = self._validated(X)
        y_index = encode_known_labels(self.classes_, y)
        check_n_rows(X.shape[0], "y", y_index.shape[0])
        sw = check_sample_weight(sample_weight, X)
        lab = np.flatnonzero((y_index >= 0) & (sw > 0))
        unl = np.flatnonzero((y_index < 0) & (sw > 0))
        if not lab.size:
            raise ValueError("leave_one_out_score needs labeled rows.")
        C = len(self.classes_)
        resp = np.zeros((0, C))
        if unl.size and self.unlabeled_weight > 0:
            resp = np.exp(self.predict_log_proba(X[unl])) * (
                self.unlabeled_weight * sw[unl])[:, None]
        y_lab, w_lab = y_index[lab], sw[lab]
        loo = self.events_.leave_one_out(X[lab], y_lab, w_lab, C,
                                         X[unl] if len(resp) else None, resp)
        counts = (np.bincount(y_lab, weights=w_lab, minlength=C)
                  + resp.sum(axis=0) + self.prior_smoothing)
        own = np.zeros((lab.size, C))
        own[np.arange(lab.size), y_lab] = w_lab
        prior = np.log(np.maximum(counts - own, 1e-300))
        pred = (loo + prior).argmax(axis=1)
        return float(accuracy_score(y_lab, pred, sample_weight=w_lab))

    # -- prediction -----------------------------------------------------------
    def _joint_log_likelihood_checked(self, X):
        """log P(x, c) for validated X, summed over each class's components."""
        jll = self.events_.log_prob(X) + self.component_log_prior_
        M = self.n_components_per_class
        if M > 1:
            jll = logsumexp(jll.reshape(X.shape[0], -1, M), axis=2)
        return jll
