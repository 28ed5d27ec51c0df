"""What every probabilistic semi-supervised classifier here shares.

A subclass implements ``_joint_log_likelihood_checked(X)`` (log P(x, c),
shape (n, n_classes), for X already validated) and fits ``classes_`` and
``event_model_``; prediction, scoring on labeled rows and the
scikit-learn tags follow from it.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterable
from numbers import Integral, Real
from typing import TypeVar

import numpy as np
from scipy.special import log_softmax
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.metrics import accuracy_score
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from . import _threads
from ._em import run_em
from ._events import event_class
from ._events import COVARIANCE_TYPES, EVENT_MODELS, make_event_model
from ._sources import Chunks, Fitted, InMemory
from ._typing import (ArrayLike, FloatArray, MatrixLike, MethodT, NDArray,
                      _fit_context)
from ._validation import (check_input, check_not_dask, check_sample_weight,
                          check_semi_supervised_y, scored_rows)

# shrinkage of the full / tied Gaussian covariances (probssl._gaussian)
SHRINKAGE_CONSTRAINT = [None, Interval(Real, 0, 1, closed="both"),
                        StrOptions({"auto"})]


def is_dask(obj: object) -> bool:
    """Whether ``obj`` is a Dask array (without importing Dask)."""
    da = sys.modules.get("dask.array")
    return da is not None and isinstance(obj, da.Array)


def _lazy_on_dask(method: MethodT) -> MethodT:
    """``method`` mapped lazily over the row chunks of a Dask array X."""

    @functools.wraps(method)
    def wrapper(self, X):
        if is_dask(X):
            from ._dask import predict_dask

            return predict_dask(self, X, method.__name__)
        return method(self, X)

    return wrapper


class SemiSupervisedClassifier(ClassifierMixin, BaseEstimator):
    """Base class: predict from a joint log-likelihood; score labeled rows."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # "auto" takes sparse counts (multinomial) and real-valued dense
        # input (Gaussian) alike.
        auto = self.event_model == "auto"
        model = None if auto else event_class(self.event_model)
        tags.input_tags.sparse = auto or model.sparse_input
        tags.input_tags.positive_only = not auto and model.non_negative
        # As MultinomialNB, which these models equal on fully labeled
        # counts with one component per class.
        tags.classifier_tags.poor_score = True
        return tags

    def _check_fit_input(self, X, y, sample_weight):
        """Validate fit's input: ``(X, y_index, sample_weight, fitted)``
        with ``y_index`` -1 on unlabeled rows and ``fitted`` the
        :class:`probssl._sources.Fitted` (classes, event model, features)
        to set."""
        check_not_dask(self, X, y, sample_weight)
        X, event_model = check_input(self, X, self.event_model, reset=True)
        classes, y_index = check_semi_supervised_y(y, X.shape[0])
        sample_weight = check_sample_weight(sample_weight, X)
        if not np.any(sample_weight[y_index >= 0] > 0):
            raise ValueError("Every labeled row has sample_weight 0: "
                             "nothing to learn from.")
        return X, y_index, sample_weight, Fitted(classes, event_model,
                                                 X.shape[1], X.shape[0])

    def _set_input_attributes(self, fitted):
        self.classes_ = fitted.classes
        self.event_model_ = fitted.event_model
        self.n_features_in_ = fitted.n_features

    def _validate_fit(self, X, y, sample_weight):
        """Validate fit's input; set ``event_model_``, ``classes_`` and
        ``n_features_in_``. Returns ``(X, y_index, sample_weight)`` with
        ``y_index`` -1 on unlabeled rows."""
        X, y_index, sample_weight, fitted = self._check_fit_input(
            X, y, sample_weight)
        self._set_input_attributes(fitted)
        return X, y_index, sample_weight

    def _validated(self, X):
        check_is_fitted(self)
        X, _ = check_input(self, X, self.event_model_, reset=False)
        return X

    @_lazy_on_dask
    @_threads.uses_n_jobs
    def predict_joint_log_proba(self, X: MatrixLike) -> FloatArray:
        """Joint log-probability log P(x, c) of each row and class.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Up to a per-row constant for the multinomial model (the
            multinomial coefficient), which cancels in the posterior.
            A Dask array X gives a lazy Dask array (one task per chunk).
        """
        return self._joint_log_likelihood_checked(self._validated(X))

    @_lazy_on_dask
    def predict_log_proba(self, X: MatrixLike) -> FloatArray:
        """Log posterior class probabilities.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The rows to classify (a Dask array gives a lazy Dask array).

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            ``log P(c | x)``, columns in the order of ``classes_``.
        """
        return log_softmax(self.predict_joint_log_proba(X), axis=1)

    @_lazy_on_dask
    def predict_proba(self, X: MatrixLike) -> FloatArray:
        """Posterior class probabilities.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The rows to classify (a Dask array gives a lazy Dask array).

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            ``P(c | x)``, columns in the order of ``classes_``; rows sum to 1.
        """
        return np.exp(self.predict_log_proba(X))

    @_lazy_on_dask
    def predict(self, X: MatrixLike) -> NDArray:
        """Most probable class of each row.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The rows to classify. A Dask array X gives a lazy Dask array
            (one task per chunk), as do the other ``predict*`` methods.

        Returns
        -------
        ndarray of shape (n_samples,)
            A label of ``classes_`` for every row.
        """
        jll = self.predict_joint_log_proba(X)  # (checks fitted first)
        return self.classes_[jll.argmax(axis=1)]

    @_threads.uses_n_jobs
    def score(self, X: MatrixLike, y: ArrayLike,
              sample_weight: ArrayLike | None = None) -> float:
        """Accuracy on the labeled rows of (X, y).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The rows to classify.
        y : array-like of shape (n_samples,)
            Their true labels; rows with ``y == -1`` are ignored. Labels not
            seen during fit raise ``ValueError``.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights of the accuracy.

        Returns
        -------
        float
            The (weighted) fraction of labeled rows classified correctly.
        """
        X = self._validated(X)
        y_index, rows, sample_weight = scored_rows(
            self.classes_, y, X.shape[0], sample_weight)
        pred = self._joint_log_likelihood_checked(X[rows]).argmax(axis=1)
        return accuracy_score(y_index, pred, sample_weight=sample_weight)


#: An EM estimator's own class: ``fit`` returns the estimator it was called on.
EstimatorT = TypeVar("EstimatorT", bound="EMClassifier")


class EMClassifier(SemiSupervisedClassifier):
    """``fit``, ``fit_chunks`` and the Dask fit of the EM estimators: one
    engine (:func:`probssl._em.run_em`) over a source of rows.

    A subclass provides ``_mixing(n_classes, seed)`` and
    ``_set_fitted(run)``; a refit first drops every fitted attribute
    (``NAME_``) of the last fit.
    """

    _shared_constraints = {
        "alpha": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left"), StrOptions({"auto"})],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "event_model": [StrOptions({"auto", *EVENT_MODELS})],
        "covariance_type": [StrOptions(set(COVARIANCE_TYPES))],
        "reg_covar": [Interval(Real, 0, None, closed="left")],
        "shrinkage": SHRINKAGE_CONSTRAINT,
        "binarize": [None, Interval(Real, 0, None, closed="left")],
        "warm_start": ["boolean"],
    }

    def _new_events(self, name):
        return make_event_model(name, alpha=self.alpha, binarize=self.binarize,
                                covariance_type=self.covariance_type,
                                reg_covar=self.reg_covar,
                                shrinkage=self.shrinkage)

    @_fit_context(prefer_skip_nested_validation=True)
    @_threads.uses_n_jobs
    def fit(self: EstimatorT, X: MatrixLike, y: ArrayLike,
            sample_weight: ArrayLike | None = None) -> EstimatorT:
        """Fit by EM on labeled rows and unlabeled rows (``y == -1``).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Non-negative counts (e.g. from ``CountVectorizer``) for the
            count models, dense reals (e.g. sentence embeddings) for the
            Gaussian model. A Dask array (rows chunked) is fitted on its
            cluster: one map and one tree sum per iteration, the blocks
            prepared once and kept on the workers.
        y : array-like of shape (n_samples,)
            Class labels; ``-1`` marks an unlabeled row. At least one row
            must be labeled.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative row weights; rows of weight 0 are left out.

        Returns
        -------
        self
        """
        if is_dask(X) or is_dask(y) or is_dask(sample_weight):
            from ._dask import DaskSource

            return self._fit_source(DaskSource, X, y, sample_weight)
        return self._fit_source(InMemory, X, y, sample_weight)

    def _tol(self, events):
        # "auto": Nigam et al.'s ~10 iterations for counts; dense models'
        # components separate slowly, so they run closer to convergence.
        return (self.tol if self.tol != "auto" else
                1e-4 if events.counts else 1e-6)

    def _guess(self, source):
        """The most probable class of every row of ``fit``'s input."""
        return self._joint_log_likelihood_checked(source.X).argmax(axis=1)

    @_threads.uses_n_jobs
    def fit_chunks(
        self: EstimatorT,
        chunks: Callable[[], Iterable[tuple]] | Iterable[tuple],
        classes: ArrayLike | None = None,
        callback: Callable[[int, float], object] | None = None,
    ) -> EstimatorT:
        """Fit by EM over chunks of rows read one at a time (out of core).

        Memory is bounded by one chunk plus a few (n_features, K) arrays;
        the result equals ``fit`` on the concatenated chunks up to rounding
        (same iterations, same starts), but ``transduction_`` is not set.

        Parameters
        ----------
        chunks : callable or re-iterable
            ``chunks()`` returning an iterator, or a re-iterable such as a
            list or :class:`probssl.chunked.NpzChunks`, of ``(X, y)`` or
            ``(X, y, sample_weight)``, X sparse or dense; read once per EM
            iteration (and once more to learn the labels and columns).
        classes : array-like, default=None
            The class labels; those seen on the labeled rows when None.
        callback : callable, default=None
            ``callback(n_iter, objective)`` after every iteration.

        Returns
        -------
        self
        """
        self._validate_params()
        return self._fit_source(Chunks, chunks, classes, callback=callback)

    def _fitted_on(self):
        return (tuple(self.classes_.tolist()), self.event_model_,
                self.n_features_in_)

    def _fit_source(self, make_source, *args, callback=None, **kwargs):
        """Fit by EM over ``make_source(self, *args, new_events,
        unlabeled_weight, **kwargs)`` (whose ``fitted`` gives ``classes_``,
        ``event_model_`` and ``n_features_in_``); ``transduction_`` when it
        is in memory."""
        # What a warm start continues from; then no attribute of an
        # earlier fit survives (another event model sets other ones).
        previous = ((self._fitted_on(), self.events_, self._mixing_state)
                    if self.warm_start and hasattr(self, "events_") else None)
        for name in [a for a in vars(self) if a.endswith("_")]:
            delattr(self, name)
        source = make_source(self, *args, self._new_events,
                             float(getattr(self, "unlabeled_weight", 1.0)),
                             **kwargs)
        self._set_input_attributes(source.fitted)
        # a warm start only on the same classes, model and features
        warm = previous[1:] if previous and previous[0] == self._fitted_on() \
            else None
        seed = check_random_state(self.random_state).randint(2**31 - 1)
        run = run_em(source.events_template, self._mixing(len(self.classes_),
                                                          seed), source,
                     max_iter=self.max_iter, tol=self._tol(source.events_template),
                     n_init=getattr(self, "n_init", 1), verbose=self.verbose,
                     owner=type(self).__name__, warm=warm, callback=callback)
        self.events_ = run.events
        self._mixing_state = run.mixing
        # The statistics of the final parameters (committees, leave-one-out)
        self._statistics = run.stats
        self.n_iter_ = run.n_iter
        self.converged_ = run.converged
        self.lower_bound_ = run.history[-1]
        self.lower_bounds_ = run.history
        for name in self.events_.fitted_attributes:
            setattr(self, name + "_", getattr(self.events_, name))
        if hasattr(self.events_, "feature_log_prob"):  # count models
            self.component_feature_log_prob_ = self.events_.feature_log_prob
        self._set_fitted(run)
        if isinstance(source, InMemory):
            self.transduction_ = self.classes_[np.where(
                source.y_index >= 0, source.y_index, self._guess(source))]
        return self
