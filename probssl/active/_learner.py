"""The pool-based active learner (see :mod:`probssl.active`); the
simulated oracle of experiments is in ``_oracle``."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import (BaseEstimator, ClassifierMixin, MetaEstimatorMixin,
                          clone)
from sklearn.metrics import accuracy_score
from sklearn.utils import check_random_state, get_tags
from sklearn.utils.validation import (check_is_fitted, column_or_1d,
                                      validate_data)

from .._typing import (ArrayLike, FloatArray, IntArray, MatrixLike, NDArray,
                       ProbabilisticClassifier, RandomStateLike)
from .._validation import (NO_LABELS, check_n_rows, check_sparse_structure,
                           labels_of, scored_rows, unlabeled_mask)
from ._committees import posterior_committee
from ._scores import (DENSITIES, UNCERTAINTIES, committee_disagreement,
                      pool_density, uncertainty_scores)

STRATEGIES = ("random", "uncertainty", "qbc")


def _check_indices(indices, n_rows):
    """Row indices as intp; floats only when integer-valued (no 0.7 -> 0)."""
    arr = np.asarray(indices).ravel()
    if arr.size and arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr) & (arr == np.floor(arr))):
            bad = arr[~(np.isfinite(arr) & (arr == np.floor(arr)))][0]
            raise ValueError(f"indices must be integers, got {bad!r}.")
    elif arr.size and arr.dtype.kind not in "iu":
        raise TypeError(f"indices must be integers, got dtype {arr.dtype}.")
    arr = arr.astype(np.intp)
    if arr.size and (arr.min() < 0 or arr.max() >= n_rows):
        raise ValueError(f"indices out of range of the {n_rows} training "
                         "rows")
    if np.unique(arr).size != arr.size:
        raise ValueError("indices must be distinct")
    return arr


def _as_labels_of(y, labels, name="labels"):
    """``labels`` in the dtype of ``y`` (widened for longer text labels);
    refuses a cast that changes a value (1.7 into integer labels) and text
    among numbers or numbers among text."""
    labels = column_or_1d(np.asarray(labels), warn=True)
    if unlabeled_mask(labels).any():
        raise ValueError(f"{name} must not be -1 (that marks the pool)")
    text_y, text_new = y.dtype.kind in "USO", labels.dtype.kind in "USO"
    if y.dtype.kind == "O" or labels.size == 0:
        return y, labels.astype(y.dtype)
    if text_y != text_new:
        raise TypeError(f"{name} are {'text' if text_new else 'numbers'} but "
                        f"the learner's labels are "
                        f"{'text' if text_y else 'numbers'} ({y.dtype}).")
    if text_y:
        dtype = np.result_type(y.dtype, labels.dtype)
        return y.astype(dtype), labels.astype(dtype)
    cast = labels.astype(y.dtype)
    if not np.array_equal(cast, labels):
        bad = labels[cast != labels][0]
        raise ValueError(f"{name} must be of the learner's label type "
                         f"{y.dtype}: {bad!r} is not.")
    return y, cast


# -- the learner -------------------------------------------------------------
def _is_semi_supervised(est):
    from .._base import SemiSupervisedClassifier

    return isinstance(est, SemiSupervisedClassifier) or \
        type(est).__module__.startswith("sklearn.semi_supervised")


class ActiveLearner(ClassifierMixin, MetaEstimatorMixin, BaseEstimator):
    """Pool-based active learning around any probabilistic classifier.

    Fit on labeled rows and an unlabeled pool (``y == -1``); ``query``
    ranks the pool and returns the rows to label next; ``label`` (rows of
    the pool) or ``teach`` (new rows) adds the answers and refits. A
    semi-supervised estimator (every probssl model) refits with the
    still-unlabeled pool as unlabeled rows: EM uses what is not labeled.

    Parameters
    ----------
    estimator : classifier
        Anything with ``fit`` and ``predict_proba``: :class:`probssl.EMNaiveBayes`,
        :class:`probssl.MixtureOfExperts`, or any scikit-learn classifier.
        It is cloned.
    strategy : {"qbc", "uncertainty", "random"}, default="qbc"
        How to rank the pool (see the module docstring).
    batch_size : int, default=1
        Rows returned by each ``query``.
    committee_size : int, default=3
        Members of the QBC committee (at least 2).
    density_weighting : bool, default=True
        Multiply the disagreement (or uncertainty) by the row's density in
        the pool (:func:`pool_density`); ignored by ``"random"``.
    uncertainty : {"entropy", "margin", "least_confidence"}, default="entropy"
        The measure of ``strategy="uncertainty"``.
    density : {"auto", "kl", "cosine"}, default="auto"
        The similarity of :func:`pool_density`.
    density_beta : float, default=3.0
        Sharpness of the density (McCallum & Nigam's beta).
    density_smoothing : float, default=0.5
        Weight of a row's own word distribution in the ``"kl"`` density.
    committee : {"auto", "posterior", "bootstrap"}, default="auto"
        Where QBC members come from. ``"posterior"``: drawn from the
        parameter posterior (multinomial naive Bayes: Dirichlet over word
        distributions; Gaussian: the means); ``"bootstrap"``: refits on
        class-stratified bootstrap resamples of the labeled rows (the pool
        stays unlabeled for a semi-supervised model). ``"auto"`` takes the
        posterior where the model has one, else bootstraps.
    semi_supervised : {"auto", True, False}, default="auto"
        Whether the estimator is fitted with the unlabeled pool (rows
        ``-1``) or on the labeled rows only. ``"auto"``: True for probssl
        models and ``sklearn.semi_supervised`` ones.
    warm_start : bool, default=False
        Refit with the estimator's ``warm_start=True`` (EM starts from the
        previous parameters) when it has that hyper-parameter; otherwise,
        or when False, every refit is a cold fit (EM from the labeled rows).
        Off by default: see Notes.
    random_state : int, RandomState instance or None, default=None
        Seeds random queries and committees.
    verbose : int, default=0
        A progress bar over rounds in :meth:`simulate` (tqdm when
        installed, else a line per round).

    Attributes
    ----------
    estimator_ : classifier
        The fitted clone of ``estimator``.
    classes_ : ndarray
        The classes of ``estimator_``.
    X_ : sparse matrix or ndarray
        The training rows: labeled ones and the pool.
    y_ : ndarray
        Their labels, ``-1`` for the pool.
    scores_ : ndarray
        Scores of the pool rows at the last ``query`` (larger is chosen).
    density_ : ndarray or None
        Densities of the pool rows at the last ``query``.
    history_ : list of dict
        One row per round of :meth:`simulate`.
    warm_started_ : bool
        Whether refits use the estimator's warm start.
    semi_ : bool
        Whether the estimator is fitted with the pool as unlabeled rows
        (``semi_supervised`` with "auto" resolved).
    random_state_ : RandomState
        The generator of random queries, committees and tie-breaks.
    n_features_in_ : int
        Number of features seen during fit.

    Notes
    -----
    The Dirichlet posterior of a class's (component's) word distribution
    is ``Dirichlet(alpha + N)`` with ``N`` the expected word counts: the
    labeled rows of the class and, weighted by the model's posterior (and
    ``unlabeled_weight``), the unlabeled rows, computed as ``X.T @ R``. Its
    mean ``(alpha + N) / sum`` is the fitted model's word distribution
    (exactly for ``MultinomialNB``, at convergence for EM). Class priors are
    kept at their fitted values. For the Gaussian model the means are drawn
    from ``N(mean, variance / n_eff)`` with the variances as fitted.

    Warm starts converge in fewer iterations, and reach the cold fit's
    parameters when EM has one optimum (tested), but EM is a local method:
    started from the previous round's optimum, a few new labels rarely
    move it to another basin. On 20 Newsgroups (1 label per group, 10
    rounds of 20 random queries, a 10,000-post pool, seed 0), warm-started
    EM stayed at 35.2 % test accuracy after 220 labels where cold refits
    reached 57.3 % (3 to 11 iterations per refit instead of 15 to 32).
    Hence the default ``warm_start=False``.

    References
    ----------
    A. McCallum and K. Nigam. Employing EM and pool-based active learning
    for text classification. ICML 1998, 350-358.

    Examples
    --------
    >>> import numpy as np
    >>> from probssl import EMNaiveBayes
    >>> from probssl.active import ActiveLearner, SimulatedOracle
    >>> from probssl.datasets import make_multinomial_mixture, mask_labels
    >>> X, y_true = make_multinomial_mixture(n_samples=300, n_features=50,
    ...                                      random_state=0)
    >>> y = mask_labels(y_true, 2, random_state=0)      # 2 per class
    >>> learner = ActiveLearner(EMNaiveBayes(alpha=0.1), batch_size=5,
    ...                         random_state=0).fit(X, y)
    >>> rows = learner.query()               # rows of X to label next
    >>> _ = learner.label(rows, y_true[rows])    # refit with the answers
    >>> len(learner.simulate(SimulatedOracle(y_true), n_rounds=2))
    3
    >>> int((learner.y_ != -1).sum())
    25
    """

    def __init__(self, estimator: ProbabilisticClassifier, strategy: str = "qbc",
                 batch_size: int = 1, committee_size: int = 3,
                 density_weighting: bool = True, uncertainty: str = "entropy",
                 density: str = "auto", density_beta: float = 3.0,
                 density_smoothing: float = 0.5, committee: str = "auto",
                 semi_supervised: bool | str = "auto", warm_start: bool = False,
                 random_state: RandomStateLike = None,
                 verbose: int = 0) -> None:
        self.estimator = estimator
        self.strategy = strategy
        self.batch_size = batch_size
        self.committee_size = committee_size
        self.density_weighting = density_weighting
        self.uncertainty = uncertainty
        self.density = density
        self.density_beta = density_beta
        self.density_smoothing = density_smoothing
        self.committee = committee
        self.semi_supervised = semi_supervised
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose

    # -- checks -------------------------------------------------------------
    def _check_params(self):
        if self.strategy not in STRATEGIES:
            raise ValueError(f"strategy must be one of {STRATEGIES}, got "
                             f"{self.strategy!r}")
        if self.uncertainty not in UNCERTAINTIES:
            raise ValueError(f"uncertainty must be one of {UNCERTAINTIES}, "
                             f"got {self.uncertainty!r}")
        if self.density not in DENSITIES:
            raise ValueError(f"density must be one of {DENSITIES}, got "
                             f"{self.density!r}")
        if self.committee not in ("auto", "posterior", "bootstrap"):
            raise ValueError("committee must be 'auto', 'posterior' or "
                             f"'bootstrap', got {self.committee!r}")
        for name, low in (("batch_size", 1), ("committee_size", 2)):
            value = getattr(self, name)
            if not isinstance(value, Integral) or isinstance(value, bool) \
                    or value < low:
                raise ValueError(f"{name} must be an integer >= {low}, got "
                                 f"{value!r}")
        if not isinstance(self.density_beta, Real) or self.density_beta < 0:
            raise ValueError("density_beta must be a non-negative number, "
                             f"got {self.density_beta!r}")
        if self.semi_supervised not in ("auto", True, False):
            raise ValueError("semi_supervised must be 'auto', True or False, "
                             f"got {self.semi_supervised!r}")
        if not hasattr(self.estimator, "fit"):
            raise TypeError(f"estimator {self.estimator!r} has no fit method")
        if self.strategy != "random" and \
                not hasattr(self.estimator, "predict_proba"):
            raise TypeError(
                f"strategy={self.strategy!r} needs class probabilities, but "
                f"{type(self.estimator).__name__} has no predict_proba "
                "(e.g. SVC(probability=True), or strategy='random')")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        try:
            inner = get_tags(self.estimator).input_tags
        except AttributeError:  # not a scikit-learn estimator: no tags
            inner = None
        if inner is not None:
            tags.input_tags.sparse = inner.sparse
            tags.input_tags.positive_only = inner.positive_only
        tags.classifier_tags.poor_score = True
        return tags

    def _validated(self, X, reset=False):
        check_sparse_structure(X)
        X = validate_data(self, X, accept_sparse="csr", dtype=np.float64,
                          reset=reset)
        return sp.csr_matrix(X) if sp.issparse(X) else X

    # -- fitting ------------------------------------------------------------
    def fit(self, X: MatrixLike, y: ArrayLike) -> ActiveLearner:
        """Fit the estimator on labeled rows and the pool (``y == -1``).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Labeled rows and the unlabeled pool.
        y : array-like of shape (n_samples,)
            Labels (numbers or text, as the estimators take them); ``-1``
            (or ``"-1"`` among text labels) marks a row of the pool. At
            least one row must be labeled.

        Returns
        -------
        self : ActiveLearner
        """
        self._check_params()
        X = self._validated(X, reset=True)
        y = column_or_1d(np.asarray(y), warn=True).copy()
        check_n_rows(X.shape[0], "y", y.shape[0])
        if not labels_of(y).size:
            raise ValueError(NO_LABELS)
        self.X_, self.y_ = X, y
        self.random_state_ = check_random_state(self.random_state)
        self.estimator_ = clone(self.estimator)
        self.semi_ = (_is_semi_supervised(self.estimator)
                      if self.semi_supervised == "auto"
                      else bool(self.semi_supervised))
        self.warm_started_ = False
        self.history_ = []
        self.scores_ = None
        self.density_ = None
        self._refit()
        return self

    def _pool(self):
        """Mask of the rows of ``X_`` still in the pool."""
        return unlabeled_mask(self.y_)

    def _refit(self):
        est = self.estimator_
        pool = self._pool()
        if self.semi_:
            est.fit(self.X_, self.y_)
        else:
            est.fit(self.X_[~pool], self.y_[~pool])
        if unlabeled_mask(np.asarray(est.classes_)).any():
            raise ValueError(
                f"{type(est).__name__} learned the pool's marker -1 as a "
                "class: it does not take unlabeled rows. Use "
                "semi_supervised=False (or 'auto').")
        self.classes_ = est.classes_
        # Later refits continue EM from these parameters, when the
        # estimator can (a few iterations per round instead of a full fit).
        if (self.warm_start and not self.warm_started_
                and "warm_start" in est.get_params()):
            est.set_params(warm_start=True)
            self.warm_started_ = True
        return self

    def label(self, indices: ArrayLike, labels: ArrayLike) -> ActiveLearner:
        """Label rows of the pool and refit.

        Parameters
        ----------
        indices : array-like of int
            Rows of ``X_`` (as returned by ``query()``), all in the pool.
        labels : array-like
            Their labels, of the type of the training labels (a float
            answer into integer labels must be integer-valued).

        Returns
        -------
        self : ActiveLearner
        """
        check_is_fitted(self, "estimator_")
        indices = _check_indices(indices, self.y_.size)
        labels = column_or_1d(np.asarray(labels), warn=True)
        if indices.shape != labels.shape:
            raise ValueError(f"{indices.size} indices but {labels.size} "
                             "labels")
        if not np.all(self._pool()[indices]):
            raise ValueError("some rows are already labeled")
        self.y_, labels = _as_labels_of(self.y_, labels)
        self.y_[indices] = labels
        return self._refit()

    def teach(self, X: MatrixLike, y: ArrayLike) -> ActiveLearner:
        """Add new labeled rows (not from the pool) and refit.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_new, n_features)
            The new rows.
        y : array-like of shape (n_new,)
            Their labels.

        Returns
        -------
        self : ActiveLearner
        """
        check_is_fitted(self, "estimator_")
        X = self._validated(X)
        y = column_or_1d(np.asarray(y), warn=True)
        check_n_rows(X.shape[0], "y", y.shape[0])
        self.y_, y = _as_labels_of(self.y_, y, "teach's labels")
        if sp.issparse(self.X_):
            self.X_ = sp.vstack([self.X_, sp.csr_matrix(X)], format="csr")
        else:
            self.X_ = np.vstack([self.X_, np.asarray(
                X.toarray() if sp.issparse(X) else X)])
        self.y_ = np.concatenate([self.y_, y])
        return self._refit()

    # -- querying -----------------------------------------------------------
    def query(self, X_pool: MatrixLike | None = None,
              n_instances: int | None = None) -> IntArray:
        """The rows to label next, best first.

        Parameters
        ----------
        X_pool : {array-like, sparse matrix}, default=None
            Candidate rows; ``None`` is the learner's own pool (rows of
            ``X_`` with ``y_ == -1``).
        n_instances : int, default=None
            How many rows; ``None`` is ``batch_size``.

        Returns
        -------
        indices : ndarray of int
            Rows of ``X_pool``, or of ``X_`` when ``X_pool`` is None. Rows
            of equal score are taken in a random order (``random_state``).
        """
        check_is_fitted(self, "estimator_")
        if X_pool is None:
            rows = np.flatnonzero(self._pool())
            pool = self.X_[rows]
        else:
            pool = self._validated(X_pool)
            rows = np.arange(pool.shape[0])
        n = self.batch_size if n_instances is None else n_instances
        if not isinstance(n, Integral) or isinstance(n, bool) or n < 1:
            raise ValueError(f"n_instances must be a positive integer, got {n!r}")
        if rows.size == 0:
            raise ValueError("the pool is empty: nothing left to query")
        if n > rows.size:
            raise ValueError(f"cannot query {n} rows from a pool of "
                             f"{rows.size}")
        scores = self.score_pool(pool)
        order = np.argsort(-scores, kind="stable")
        # Rows of equal score (duplicate documents, empty ones) across the
        # cut are taken at random, not in pool order; drawn only then, so
        # that a query whose choice no tie decides uses the random stream
        # as before.
        if n < scores.size and scores[order[n - 1]] == scores[order[n]]:
            key = self.random_state_.random_sample(scores.size)
            order = np.lexsort((key, -scores))
        return rows[order[:n]]

    def score_pool(self, X_pool: MatrixLike) -> FloatArray:
        """The ranking score of every row of ``X_pool`` (larger first).

        Parameters
        ----------
        X_pool : {array-like, sparse matrix} of shape (n_pool, n_features)
            The candidate rows.

        Returns
        -------
        ndarray of shape (n_pool,)
            Disagreement or uncertainty, times the density when
            ``density_weighting``; random for ``"random"``. Also kept in
            ``scores_`` (and the density in ``density_``).
        """
        check_is_fitted(self, "estimator_")
        X_pool = self._validated(X_pool)
        rng = self.random_state_
        n = X_pool.shape[0]
        self.density_ = None
        if self.strategy == "random":
            scores = rng.random_sample(n)
        else:
            if self.strategy == "uncertainty":
                scores = uncertainty_scores(
                    self.estimator_.predict_proba(X_pool), self.uncertainty)
                if self.uncertainty == "margin":
                    scores = scores + 1.0     # in [0, 1] so density can weight
            else:
                scores = committee_disagreement(
                    self.committee_log_proba(X_pool))
            if self.density_weighting:
                self.density_ = pool_density(X_pool, self.density,
                                             self.density_beta,
                                             self.density_smoothing)
                scores = scores * self.density_
        self.scores_ = scores
        return scores

    def posterior_committee(self) -> Any:
        """The model's parameter posterior, or None (then QBC bootstraps).

        Returns
        -------
        object or None
            An object with ``sample(rng, size)``, ``posterior_mean`` and
            ``member_log_proba(X, draws)``, from the fitted estimator's own
            statistics (see :mod:`probssl.active._committees`).
        """
        check_is_fitted(self, "estimator_")
        return posterior_committee(self.estimator_)

    def committee_log_proba(self, X_pool: MatrixLike) -> FloatArray:
        """The QBC committee members' log posteriors of every row.

        Parameters
        ----------
        X_pool : {array-like, sparse matrix} of shape (n_pool, n_features)
            The candidate rows.

        Returns
        -------
        ndarray of shape (committee_size, n_pool, n_classes)
            Members drawn from the parameter posterior, else bootstrap
            refits (``committee``).
        """
        posterior = None if self.committee == "bootstrap" else \
            self.posterior_committee()
        if posterior is None:
            if self.committee == "posterior":
                raise ValueError(
                    f"{type(self.estimator_).__name__} has no parameter "
                    "posterior here (multinomial or Gaussian naive Bayes "
                    "models only); use committee='bootstrap' or 'auto'")
            return self._bootstrap_log_proba(X_pool)
        draws = posterior.sample(self.random_state_, self.committee_size)
        return posterior.member_log_proba(X_pool, draws)

    def _bootstrap_log_proba(self, X_pool):
        rng = self.random_state_
        labeled = np.flatnonzero(~self._pool())
        pool_rows = np.flatnonzero(self._pool())
        out = np.empty((self.committee_size, X_pool.shape[0],
                        len(self.classes_)))
        for m in range(self.committee_size):
            # Resample within each class, so that every member sees every
            # class and its probabilities have the same columns.
            sample = np.concatenate([
                rng.choice(idx, idx.size, replace=True)
                for idx in (labeled[self.y_[labeled] == c]
                            for c in self.classes_)])
            member = clone(self.estimator)
            if self.semi_:
                rows = np.concatenate([sample, pool_rows])
                member.fit(self.X_[rows], self.y_[rows])
            else:
                member.fit(self.X_[sample], self.y_[sample])
            proba = np.zeros_like(out[0])
            cols = np.searchsorted(self.classes_, member.classes_)
            proba[:, cols] = member.predict_proba(X_pool)
            with np.errstate(divide="ignore"):
                out[m] = np.log(proba)
        return out

    # -- the loop -----------------------------------------------------------
    def simulate(self, oracle: Callable[[IntArray], ArrayLike], n_rounds: int,
                 X_test: MatrixLike | None = None,
                 y_test: ArrayLike | None = None) -> list[dict[str, Any]]:
        """Query, ask ``oracle``, label and refit, ``n_rounds`` times.

        Parameters
        ----------
        oracle : callable
            ``oracle(indices) -> labels`` for rows of ``X_``, e.g.
            :class:`SimulatedOracle`.
        n_rounds : int
            Number of batches of ``batch_size`` queries.
        X_test, y_test : optional
            Scored (accuracy) after the fit and after every round.

        Returns
        -------
        history : list of dict
            ``round``, ``n_labeled``, ``accuracy`` (with a test set),
            ``query_time_s``, ``fit_time_s`` and ``n_iter`` (EM iterations,
            when the estimator reports them); also kept in ``history_``.
        """
        check_is_fitted(self, "estimator_")
        if not isinstance(n_rounds, Integral) or n_rounds < 0:
            raise ValueError(f"n_rounds must be a non-negative integer, got "
                             f"{n_rounds!r}")

        def record(round_, query_time, fit_time):
            row = {"round": round_,
                   "n_labeled": int((~self._pool()).sum()),
                   "query_time_s": query_time, "fit_time_s": fit_time,
                   "n_iter": getattr(self.estimator_, "n_iter_", None)}
            if X_test is not None:
                row["accuracy"] = float(
                    np.mean(self.estimator_.predict(X_test)
                            == np.asarray(y_test)))
            self.history_.append(row)
            return row

        if not self.history_:
            record(0, 0.0, 0.0)
        rounds = range(1, n_rounds + 1)
        bar = None
        if self.verbose:
            try:
                from tqdm.auto import tqdm

                bar = tqdm(rounds, desc=f"{self.strategy} rounds",
                           leave=False)
                rounds = bar
            except ImportError:
                pass
        start_round = self.history_[-1]["round"]
        for r in rounds:
            t0 = time.perf_counter()
            idx = self.query()
            t1 = time.perf_counter()
            self.label(idx, oracle(idx))
            row = record(start_round + r, t1 - t0, time.perf_counter() - t1)
            if self.verbose and bar is None:
                print(f"round {row['round']}: {row['n_labeled']} labeled"
                      + (f", accuracy {row['accuracy']:.4f}"
                         if "accuracy" in row else ""), flush=True)
            elif bar is not None and "accuracy" in row:
                bar.set_postfix(accuracy=f"{row['accuracy']:.3f}")
        return self.history_

    # -- delegation ---------------------------------------------------------
    def predict(self, X: MatrixLike) -> NDArray:
        """The fitted estimator's predictions.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The rows to classify.

        Returns
        -------
        ndarray of shape (n_samples,)
            A label of ``classes_`` for every row.
        """
        check_is_fitted(self, "estimator_")
        return self.estimator_.predict(self._validated(X))

    def predict_proba(self, X: MatrixLike) -> FloatArray:
        """The fitted estimator's class probabilities.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The rows to classify.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes_``.
        """
        check_is_fitted(self, "estimator_")
        return self.estimator_.predict_proba(self._validated(X))

    def score(self, X: MatrixLike, y: ArrayLike,
              sample_weight: ArrayLike | None = None) -> float:
        """Accuracy of the fitted estimator on the labeled rows of (X, y).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The rows to classify.
        y : array-like of shape (n_samples,)
            True labels; rows with ``y == -1`` are ignored, as the
            estimators' ``score`` does.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights of the accuracy.

        Returns
        -------
        float
            The (weighted) fraction of labeled rows classified correctly.
        """
        check_is_fitted(self, "estimator_")
        X = self._validated(X)
        y_index, rows, sample_weight = scored_rows(
            np.asarray(self.classes_), y, X.shape[0], sample_weight)
        pred = self.estimator_.predict(X[rows])
        return float(accuracy_score(np.asarray(self.classes_)[y_index], pred,
                                    sample_weight=sample_weight))
