"""Co-training (Blum & Mitchell 1998) and co-EM (Nigam & Ghani 2000).

Two classifiers, one per *view* of the rows (two column blocks of X, a
random split of X's columns, or two separate matrices), teach each other
through the unlabeled rows (``y == -1``). Both meta-estimators predict with
the product of the two views' class probabilities, renormalised (the
combined classifier of Blum & Mitchell), optionally tempered per view.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from scipy.special import logsumexp
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.metrics import accuracy_score
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, has_fit_parameter

from ._em import record_iteration, warn_not_converged
from ._validation import (check_not_dask, check_semi_supervised_y,
                          scored_rows)
from ._typing import (ArrayLike, FloatArray, NDArray, ProbabilisticClassifier,
                      RandomStateLike, _fit_context)
# MultiView lives in multiview.py; imported here (and in __all__) so that
# probssl.co_training.MultiView keeps working.
from .multiview import MultiView, TwoViewInput, TwoViewLike, is_pair

__all__ = ["CoEM", "CoTraining", "MultiView", "VIEW_WEIGHT_GRID"]

#: Per-view weights tried by ``view_weights="auto"`` (all pairs (a, b)).
VIEW_WEIGHT_GRID = (0.05, 0.1, 0.25, 0.5, 1.0)

_LOG_TINY = np.log(np.finfo(np.float64).tiny)


def _looks_like_counts(X):
    """Non-negative and (sparse or integer-valued): multinomial NB's input."""
    data = X.data if sp.issparse(X) else np.asarray(X)
    if data.size == 0:
        return sp.issparse(X)
    if not np.issubdtype(data.dtype, np.number) or data.min() < 0:
        return False
    return sp.issparse(X) or bool(np.all(data == np.floor(data)))


def default_estimator(X: object) -> BaseEstimator:
    """The default classifier of a view: ``MultinomialNB()`` for counts
    (non-negative and sparse or integer-valued), else
    ``LogisticRegression(max_iter=1000)``."""
    # (imported here: sklearn.linear_model is a tenth of import probssl)
    from sklearn.linear_model import LogisticRegression
    from sklearn.naive_bayes import MultinomialNB

    if _looks_like_counts(X):
        return MultinomialNB()
    return LogisticRegression(max_iter=1000)


class _BaseCoTraining(TwoViewInput, ClassifierMixin, BaseEstimator):
    """Views, estimators, the combined prediction rule and scoring."""

    _common_constraints = {
        "estimator": [None, HasMethods(["fit", "predict_proba"])],
        "second_estimator": [None, HasMethods(["fit", "predict_proba"])],
        "views": [None, StrOptions({"random"}), "array-like"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "view_weights": [None, StrOptions({"auto"}), "array-like"],
    }

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    def _start_fit(self, X, y):
        """What every fit starts with: checked view weights, the random
        generator, the views of X and the encoded labels (``classes_``)."""
        self._check_view_weights()
        check_not_dask(self, y, *(X.views if isinstance(X, MultiView) else
                                  X if is_pair(X) else (X,)))
        rng = check_random_state(self.random_state)
        Xs = self._fit_views(X, rng)
        self.classes_, y_index = check_semi_supervised_y(y, Xs[0].shape[0])
        return rng, Xs, y_index

    def _make_estimators(self, Xs):
        ests = []
        for i, (est, Xv) in enumerate(zip(self._base_estimators(), Xs)):
            ests.append(clone(est) if est is not None else default_estimator(Xv))
        return ests

    def _base_estimators(self):
        """``second_estimator=None`` reuses ``estimator`` (when given)."""
        second = self.second_estimator
        if second is None:
            second = self.estimator
        return self.estimator, second

    def _check_view_weights(self):
        vw = self.view_weights
        if vw is None or isinstance(vw, str):
            return vw
        vw = np.asarray(vw, dtype=np.float64)
        if vw.shape != (2,) or np.any(~np.isfinite(vw)) or np.any(vw < 0) or not vw.any():
            raise ValueError(
                "view_weights must be None, 'auto' or a pair (a, b) of "
                f"finite non-negative weights, not both 0; got {self.view_weights!r}."
            )
        return (float(vw[0]), float(vw[1]))

    # -- fitting helpers -------------------------------------------------
    def _fit_one(self, est, Xv, labels, rows, sample_weight=None):
        X_fit = Xv[rows] if rows is not None else Xv
        if sample_weight is None:
            est.fit(X_fit, labels)
        else:
            est.fit(X_fit, labels, sample_weight=sample_weight)
        if not np.array_equal(np.asarray(est.classes_), np.arange(len(self.classes_))):
            raise ValueError(
                f"{type(est).__name__} saw classes {est.classes_!r} instead "
                "of all classes of the labeled rows."
            )
        return est

    def _choose_view_weights(self, Xs, y_index, ests, rng):
        """Grid search of (a, b) by out-of-fold log-likelihood on the
        originally labeled rows (accuracy breaks ties)."""
        vw = self._check_view_weights()
        if vw != "auto":
            return (1.0, 1.0) if vw is None else vw
        rows = np.flatnonzero(y_index >= 0)
        yl = y_index[rows]
        min_count = np.bincount(yl, minlength=len(self.classes_)).min()
        if min_count < 2:
            warnings.warn(
                "view_weights='auto' needs at least 2 labeled rows per class "
                "for cross-validation; using (1, 1).",
                UserWarning,
            )
            return (1.0, 1.0)
        from sklearn.model_selection import StratifiedKFold, cross_val_predict

        cv = StratifiedKFold(
            n_splits=min(5, int(min_count)), shuffle=True,
            random_state=rng.randint(np.iinfo(np.int32).max),
        )
        logs = []
        for est, Xv in zip(ests, Xs):
            proba = cross_val_predict(
                clone(est), Xv[rows], yl, cv=cv, method="predict_proba"
            )
            with np.errstate(divide="ignore"):
                logs.append(np.maximum(np.log(proba), _LOG_TINY))
        best, best_key = (1.0, 1.0), None
        for a in VIEW_WEIGHT_GRID:
            for b in VIEW_WEIGHT_GRID:
                jl = a * logs[0] + b * logs[1]
                lp = jl - logsumexp(jl, axis=1, keepdims=True)
                ll = lp[np.arange(yl.size), yl].mean()
                acc = np.mean(lp.argmax(axis=1) == yl)
                key = (ll, acc)
                if best_key is None or key > best_key:
                    best, best_key = (a, b), key
        self.view_weights_cv_score_ = float(best_key[0])
        return best

    # -- prediction ------------------------------------------------------
    @staticmethod
    def _view_log_proba(est, Xv):
        if hasattr(est, "predict_log_proba"):
            lp = est.predict_log_proba(Xv)
        else:
            with np.errstate(divide="ignore"):
                lp = np.log(est.predict_proba(Xv))
        return np.maximum(np.asarray(lp, dtype=np.float64), _LOG_TINY)

    def _log_proba_views(self, Xs):
        a, b = self.view_weights_
        jl = a * self._view_log_proba(self.estimators_[0], Xs[0])
        jl = jl + b * self._view_log_proba(self.estimators_[1], Xs[1])
        return jl - logsumexp(jl, axis=1, keepdims=True)

    def predict_log_proba(self, X: TwoViewLike) -> FloatArray:
        """Log of the combined class probabilities.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features), \
                or a pair of them / a MultiView
            As given to ``fit``.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            ``log P(c | x)``, ``P(c | x) ∝ P1(c | x1)^a P2(c | x2)^b``.
        """
        return self._log_proba_views(self._transform_views(X))

    def predict_proba(self, X: TwoViewLike) -> FloatArray:
        """Combined class probabilities.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features), \
                or a pair of them / a MultiView
            As given to ``fit``.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            ``P(c | x)``, columns in the order of ``classes_``.
        """
        return np.exp(self.predict_log_proba(X))

    def predict(self, X: TwoViewLike) -> NDArray:
        """Most probable class under the combined classifier.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features), \
                or a pair of them / a MultiView
            As given to ``fit``.

        Returns
        -------
        ndarray of shape (n_samples,)
            A label of ``classes_`` for every row.
        """
        lp = self.predict_log_proba(X)
        return self.classes_[lp.argmax(axis=1)]

    def score(self, X: TwoViewLike, y: ArrayLike,
              sample_weight: ArrayLike | None = None) -> float:
        """Accuracy on the labeled rows of (X, y).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features), \
                or a pair of them / a MultiView
            As given to ``fit``.
        y : array-like of shape (n_samples,)
            True labels; rows with ``y == -1`` are ignored.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights of the accuracy.

        Returns
        -------
        float
            The (weighted) fraction of labeled rows classified correctly.
        """
        check_is_fitted(self)
        Xs = self._transform_views(X)
        y_index, rows, sample_weight = scored_rows(
            self.classes_, y, Xs[0].shape[0], sample_weight)
        pred = self._log_proba_views(tuple(v[rows] for v in Xs)).argmax(axis=1)
        return accuracy_score(y_index, pred, sample_weight=sample_weight)

    def _transduction(self, y, y_index):
        out = np.array(y, copy=True).ravel()
        if out.dtype.kind in "iuf" or out.dtype == object:
            lab = y_index >= 0
            out[lab] = self.classes_[y_index[lab]]
            out[~lab] = -1
        else:
            out = self.classes_[y_index]
        return out


class CoTraining(_BaseCoTraining):
    """Co-training of two classifiers on two views (Blum & Mitchell 1998).

    Each round, the classifier of each view (fitted on the current labeled
    set, its own view) predicts a pool of unlabeled rows and labels the ones
    it is most confident about; those rows join the labeled set of both
    views. The final classifiers are refit on the final labeled set and
    predict together by the product of their class probabilities.
    Rows with ``y == -1`` are unlabeled.

    Parameters
    ----------
    estimator : classifier with ``predict_proba``, default=None
        Classifier of the first view (cloned). ``None``: ``MultinomialNB()``
        for a counts view (non-negative and sparse or integer-valued), else
        ``LogisticRegression(max_iter=1000)``. Base estimators only ever see
        labeled rows, so probssl's own estimators (``EMNaiveBayes``) work too.
    second_estimator : classifier with ``predict_proba``, default=None
        Classifier of the second view; ``None`` reuses ``estimator`` (a
        clone) when given, else the per-view default.
    views : None, 'random' or pair of index arrays / slices, default=None
        How to split one matrix X into two column blocks: two index arrays
        (or slices, or boolean masks), or ``'random'`` (a random half of the
        columns each, drawn from ``random_state``; Nigam & Ghani 2000).
        ``None`` when X is itself a pair of matrices (a tuple, a list of two
        matrices, or a :class:`MultiView`).
    n_per_class : int, default=1
        Rows each view labels per class per round for the rarest class. Class
        ``c`` gets ``k_c = floor(n_per_class * count_c / min_count + 0.5)``
        rows (round half up), ``count_c`` the number of *originally* labeled
        rows of class c: the paper's p=1, n=3 is ``n_per_class=1`` with a
        1:3 prior.
    pool_size : int, default=75
        Size ``u`` of the pool of unlabeled rows the views choose from.
    max_iter : int, default=30
        Maximum number of rounds ``k``; ``0`` is the supervised pair.
    threshold : float in [0, 1] or None, default=None
        If set, a view labels only rows whose probability of the class it
        gives is at least ``threshold`` (so possibly fewer than ``k_c``).
    random_state : int, RandomState instance or None, default=None
        Seeds the random view split, the order in which unlabeled rows enter
        the pool, and the folds of ``view_weights='auto'``.
    verbose : int, default=0
        Print the rows labeled each round when positive.
    view_weights : None, 'auto' or pair (a, b), default=None
        Tempering of the combined classifier, ``P ∝ P1^a P2^b``. ``None`` is
        ``(1, 1)``, the plain product. ``'auto'`` picks (a, b) from
        ``VIEW_WEIGHT_GRID`` x ``VIEW_WEIGHT_GRID`` by the cross-validated
        log-likelihood (ties: accuracy) of the originally labeled rows, with
        out-of-fold probabilities of each view's base estimator.

    Attributes
    ----------
    estimators_ : list of two classifiers
        The two view classifiers, refit on the final labeled set. They are
        fitted on class *indices* ``0 .. n_classes - 1`` (into ``classes_``),
        whatever the labels.
    classes_ : ndarray of shape (n_classes,)
    views_ : tuple of two ndarrays or None
        Column indices of each view (``None`` for pair input).
    labeled_iter_ : ndarray of shape (n_samples,)
        As scikit-learn's ``SelfTrainingClassifier``: ``0`` for originally
        labeled rows, ``r >= 1`` for rows labeled in round ``r``, ``-1`` for
        rows never labeled.
    labeled_by_view_ : ndarray of shape (n_samples,)
        ``0``/``1``: the view that labeled the row; ``-1`` otherwise.
    pools_ : list of ndarray
        Row indices of the pool at the start of each round.
    transduction_ : ndarray of shape (n_samples,)
        Label of every training row (given or co-trained); ``-1`` for rows
        never labeled.
    n_iter_ : int
        Rounds run.
    termination_condition_ : {'max_iter', 'no_change', 'all_labeled'}
        As in ``SelfTrainingClassifier``: ``'all_labeled'`` when no
        unlabeled row is left (takes precedence), ``'no_change'`` when no
        view could label a row in a round.
    view_weights_ : tuple of two floats
        The (a, b) used to predict.
    n_per_class_ : ndarray of shape (n_classes,)
        Rows of each class labeled per view and round (``n_per_class``
        scaled by the class's share of the labeled rows).
    n_features_in_ : int
        Columns of X (single-matrix input only).

    References
    ----------
    A. Blum and T. Mitchell. Combining Labeled and Unlabeled Data with
    Co-Training. COLT 1998.

    Examples
    --------
    >>> import numpy as np
    >>> from probssl.co_training import CoTraining
    >>> rng = np.random.RandomState(0)
    >>> y_true = np.repeat([0, 1], 50)
    >>> X = rng.normal(size=(100, 4)) + 2 * y_true[:, None]
    >>> y = np.full(100, -1); y[[0, 1, 50, 51]] = y_true[[0, 1, 50, 51]]
    >>> clf = CoTraining(views=([0, 1], [2, 3]), max_iter=10,
    ...                  random_state=0).fit(X, y)
    >>> clf.n_iter_, int((clf.labeled_iter_ > 0).sum())
    (10, 40)
    >>> bool(clf.score(X, y_true) > 0.9)
    True
    """

    _parameter_constraints = {
        **_BaseCoTraining._common_constraints,
        "n_per_class": [Interval(Integral, 1, None, closed="left")],
        "pool_size": [Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "threshold": [None, Interval(Real, 0, 1, closed="both")],
    }

    def __init__(
        self,
        estimator: ProbabilisticClassifier | None = None,
        second_estimator: ProbabilisticClassifier | None = None,
        views: str | Sequence[ArrayLike | slice] | None = None,
        n_per_class: int = 1,
        pool_size: int = 75,
        max_iter: int = 30,
        threshold: float | None = None,
        random_state: RandomStateLike = None,
        verbose: int = 0,
        view_weights: str | tuple[float, float] | None = None,
    ) -> None:
        self.estimator = estimator
        self.second_estimator = second_estimator
        self.views = views
        self.n_per_class = n_per_class
        self.pool_size = pool_size
        self.max_iter = max_iter
        self.threshold = threshold
        self.random_state = random_state
        self.verbose = verbose
        self.view_weights = view_weights

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X: TwoViewLike, y: ArrayLike) -> CoTraining:
        """Co-train on labeled rows and unlabeled rows (``y == -1``).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features), \
                or a pair of them / a MultiView
        y : array-like of shape (n_samples,)
            ``-1`` marks an unlabeled row.

        Returns
        -------
        self
        """
        rng, Xs, y_index = self._start_fit(X, y)
        n_classes = len(self.classes_)
        ests = self._make_estimators(Xs)
        self.view_weights_ = self._choose_view_weights(Xs, y_index, ests, rng)

        counts = np.bincount(y_index[y_index >= 0], minlength=n_classes)
        k = np.maximum(
            1, np.floor(self.n_per_class * counts / counts.min() + 0.5)
        ).astype(np.int64)
        self.n_per_class_ = k

        labels = y_index.copy()
        n = labels.shape[0]
        labeled_iter = np.full(n, -1, dtype=np.int64)
        labeled_iter[labels >= 0] = 0
        by_view = np.full(n, -1, dtype=np.int64)
        queue = np.flatnonzero(labels < 0)
        rng.shuffle(queue)
        pool, queue = queue[: self.pool_size], queue[self.pool_size:]
        self.pools_ = []
        self.n_iter_ = 0
        self.termination_condition_ = "max_iter"
        while self.n_iter_ < self.max_iter and pool.size:
            self.n_iter_ += 1
            self.pools_.append(pool.copy())
            rows = np.flatnonzero(labels >= 0)
            probas = [
                self._fit_one(est, Xv, labels[rows], rows).predict_proba(Xv[pool])
                for est, Xv in zip(ests, Xs)
            ]
            avail = np.ones(pool.size, dtype=bool)
            for v, P in enumerate(probas):
                P = np.asarray(P)
                pred = P.argmax(axis=1)
                for c in range(n_classes):
                    ok = avail & (pred == c)
                    if self.threshold is not None:
                        ok &= P[:, c] >= self.threshold
                    cand = np.flatnonzero(ok)
                    top = cand[np.argsort(-P[cand, c], kind="stable")][: k[c]]
                    avail[top] = False
                    labels[pool[top]] = c
                    labeled_iter[pool[top]] = self.n_iter_
                    by_view[pool[top]] = v
            n_new = int((~avail).sum())
            if self.verbose:
                print(
                    f"CoTraining round {self.n_iter_}: labeled {n_new} rows "
                    f"(pool {pool.size}, unlabeled left "
                    f"{pool.size - n_new + queue.size})"
                )
            if n_new == 0:
                self.termination_condition_ = "no_change"
                break
            pool = pool[avail]
            fill = self.pool_size - pool.size
            pool, queue = np.concatenate([pool, queue[:fill]]), queue[fill:]
        if not pool.size:
            self.termination_condition_ = "all_labeled"

        rows = np.flatnonzero(labels >= 0)
        self.estimators_ = [
            self._fit_one(est, Xv, labels[rows], rows) for est, Xv in zip(ests, Xs)
        ]
        self.labeled_iter_ = labeled_iter
        self.labeled_by_view_ = by_view
        self.transduction_ = self._transduction(y, labels)
        return self


class CoEM(_BaseCoTraining):
    """Co-EM: EM across two views (Nigam & Ghani 2000).

    ``h1`` is trained on the labeled rows of view 1. Then, alternately,
    ``h2`` is trained on the labeled rows plus every unlabeled row with
    ``h1``'s probabilistic labels (view 2), and ``h1`` on the labeled rows
    plus the unlabeled rows with ``h2``'s labels (view 1). Soft labels are
    passed as sample weights: each unlabeled row is replicated once per
    class with weight = its probability of that class (rows of weight 0 are
    dropped), so any estimator whose ``fit`` takes ``sample_weight`` works.
    Prediction is the (tempered) product of the two views, as in
    :class:`CoTraining`. Naive Bayes suits co-EM; a strongly regularised
    discriminative model (e.g. ``LogisticRegression`` on very few labels)
    can give near-uniform soft labels that stay uninformative.

    Parameters
    ----------
    estimator, second_estimator, views, random_state, verbose, view_weights
        As in :class:`CoTraining`; the estimators must accept
        ``sample_weight``.
    max_iter : int, default=10
        Maximum number of co-EM iterations (each refits h2 then h1).
    tol : float, default=1e-4
        Stop when the largest absolute change of h1's soft labels of the
        unlabeled rows in one iteration is at most ``tol`` (the rule of
        every probssl loop: ``tol=0`` runs all ``max_iter`` iterations; a
        ``ConvergenceWarning`` when it is not met).

    Attributes
    ----------
    estimators_ : list of two classifiers
        The final h1 and h2.
    classes_, views_, view_weights_, n_features_in_
        As in :class:`CoTraining`.
    n_iter_ : int
        Iterations run.
    converged_ : bool
        Whether the change fell under ``tol`` before ``max_iter``.
    label_changes_ : list of float
        The largest absolute soft-label change at each iteration.
    transduction_ : ndarray of shape (n_samples,)
        Given labels, and the combined classifier's label of unlabeled rows.

    References
    ----------
    K. Nigam and R. Ghani. Analyzing the Effectiveness and Applicability of
    Co-training. CIKM 2000.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.naive_bayes import GaussianNB
    >>> from probssl.co_training import CoEM
    >>> rng = np.random.RandomState(0)
    >>> y_true = np.repeat([0, 1], 50)
    >>> X = rng.normal(size=(100, 4)) + 2 * y_true[:, None]
    >>> y = np.full(100, -1); y[[0, 50]] = [0, 1]
    >>> clf = CoEM(GaussianNB(), views="random", random_state=0).fit(X, y)
    >>> bool(clf.score(X, y_true) > 0.9)
    True
    """

    _parameter_constraints = {
        **_BaseCoTraining._common_constraints,
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(
        self,
        estimator: ProbabilisticClassifier | None = None,
        second_estimator: ProbabilisticClassifier | None = None,
        views: str | Sequence[ArrayLike | slice] | None = None,
        max_iter: int = 10,
        tol: float = 1e-4,
        random_state: RandomStateLike = None,
        verbose: int = 0,
        view_weights: str | tuple[float, float] | None = None,
    ) -> None:
        self.estimator = estimator
        self.second_estimator = second_estimator
        self.views = views
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.verbose = verbose
        self.view_weights = view_weights

    def _fit_soft(self, est, Xv, lab_rows, lab_y, unl_rows, Q):
        n_classes = Q.shape[1]
        rep_rows = np.repeat(unl_rows, n_classes)
        rep_y = np.tile(np.arange(n_classes), unl_rows.size)
        rep_w = Q.ravel()
        keep = rep_w > 0
        rows = np.concatenate([lab_rows, rep_rows[keep]])
        yy = np.concatenate([lab_y, rep_y[keep]])
        w = np.concatenate([np.ones(lab_rows.size), rep_w[keep]])
        return self._fit_one(est, Xv, yy, rows, sample_weight=w)

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X: TwoViewLike, y: ArrayLike) -> CoEM:
        """Fit by co-EM on labeled rows and unlabeled rows (``y == -1``).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features), \
                or a pair of them / a MultiView
        y : array-like of shape (n_samples,)
            ``-1`` marks an unlabeled row.

        Returns
        -------
        self
        """
        rng, Xs, y_index = self._start_fit(X, y)
        ests = self._make_estimators(Xs)
        for est in ests:
            if not has_fit_parameter(est, "sample_weight"):
                raise TypeError(
                    f"CoEM passes soft labels as sample weights, but "
                    f"{type(est).__name__}.fit does not accept sample_weight."
                )
        self.view_weights_ = self._choose_view_weights(Xs, y_index, ests, rng)
        lab = np.flatnonzero(y_index >= 0)
        unl = np.flatnonzero(y_index < 0)
        h1, h2 = ests
        self._fit_one(h1, Xs[0], y_index[lab], lab)
        self.n_iter_ = 0
        self.converged_ = False
        self.label_changes_ = []
        if unl.size:
            Q1 = np.asarray(h1.predict_proba(Xs[0][unl]))
            self._fit_soft(h2, Xs[1], lab, y_index[lab], unl, Q1)
            for _ in range(self.max_iter):
                self.n_iter_ += 1
                Q2 = np.asarray(h2.predict_proba(Xs[1][unl]))
                self._fit_soft(h1, Xs[0], lab, y_index[lab], unl, Q2)
                Q1_new = np.asarray(h1.predict_proba(Xs[0][unl]))
                change = float(np.abs(Q1_new - Q1).max())
                Q1 = Q1_new
                self._fit_soft(h2, Xs[1], lab, y_index[lab], unl, Q1)
                # the rule of every loop (probssl._em.has_converged)
                if record_iteration(
                        self.label_changes_, change, self.n_iter_,
                        owner="CoEM", verbose=self.verbose, tol=self.tol,
                        name="largest label change", kind="change"):
                    self.converged_ = True
                    break
            if not self.converged_ and self.max_iter > 0:
                warn_not_converged("CoEM", self.max_iter)
        else:
            self._fit_one(h2, Xs[1], y_index[lab], lab)
            self.converged_ = True
        self.estimators_ = [h1, h2]
        labels = y_index.copy()
        if unl.size:
            labels[unl] = self._log_proba_views(
                tuple(v[unl] for v in Xs)
            ).argmax(axis=1)
        self.transduction_ = self._transduction(y, labels)
        return self
