"""What every probabilistic semi-supervised classifier here shares.

A subclass implements ``_joint_log_likelihood_checked(X)`` (log P(x, c),
shape (n, n_classes), for X already validated) and fits ``classes_`` and
``event_model_``; prediction, scoring on labeled rows and the
scikit-learn tags follow from it.
"""

import sys

import numpy as np
from scipy.special import logsumexp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.metrics import accuracy_score
from sklearn.utils.validation import check_is_fitted

from ._validation import (
    check_input,
    check_sample_weight,
    check_semi_supervised_y,
    encode_known_labels,
)


def _is_dask(obj):
    """Whether ``obj`` is a Dask array (without importing Dask)."""
    da = sys.modules.get("dask.array")
    return da is not None and isinstance(obj, da.Array)


def _lazy(estimator, X, method):
    """``estimator.<method>`` mapped over the row chunks of a Dask array."""
    from .distributed import predict_dask

    return predict_dask(estimator, X, method)


class SemiSupervisedClassifier(ClassifierMixin, BaseEstimator):
    """Base class: predict from a joint log-likelihood; score labeled rows."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = self.event_model != "gaussian"
        # "auto" takes real-valued dense input (Gaussian); counts must not
        # be negative.
        tags.input_tags.positive_only = self.event_model == "multinomial"
        # As MultinomialNB, which these models equal on fully labeled
        # counts with one component per class.
        tags.classifier_tags.poor_score = True
        return tags

    def _validate_fit(self, X, y, sample_weight):
        """Validate fit's input; set ``event_model_``, ``classes_`` and
        ``n_features_in_``. Returns ``(X, y_index, sample_weight)`` with
        ``y_index`` -1 on unlabeled rows."""
        X, self.event_model_ = check_input(self, X, self.event_model,
                                           reset=True)
        self.classes_, y_index = check_semi_supervised_y(y, X.shape[0])
        sample_weight = check_sample_weight(sample_weight, X)
        if not np.any(sample_weight[y_index >= 0] > 0):
            raise ValueError(
                "Every labeled row has sample_weight 0: nothing to learn from."
            )
        return X, y_index, sample_weight

    def _validated(self, X):
        check_is_fitted(self)
        X, _ = check_input(self, X, self.event_model_, reset=False)
        return X

    def predict_joint_log_proba(self, X):
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
        if _is_dask(X):
            return _lazy(self, X, "predict_joint_log_proba")
        return self._joint_log_likelihood_checked(self._validated(X))

    def predict_log_proba(self, X):
        """Log posterior class probabilities, shape (n_samples, n_classes)."""
        if _is_dask(X):
            return _lazy(self, X, "predict_log_proba")
        jll = self.predict_joint_log_proba(X)
        return jll - logsumexp(jll, axis=1, keepdims=True)

    def predict_proba(self, X):
        """Posterior class probabilities, shape (n_samples, n_classes)."""
        if _is_dask(X):
            return _lazy(self, X, "predict_proba")
        return np.exp(self.predict_log_proba(X))

    def predict(self, X):
        """Most probable class of each row, shape (n_samples,).

        A Dask array X gives a lazy Dask array (one task per chunk), as do
        the other ``predict*`` methods.
        """
        if _is_dask(X):
            return _lazy(self, X, "predict")
        jll = self.predict_joint_log_proba(X)
        return self.classes_[jll.argmax(axis=1)]

    def score(self, X, y, sample_weight=None):
        """Accuracy on the labeled rows of (X, y); rows with ``y == -1``
        are ignored. Labels not seen during fit raise ``ValueError``."""
        check_is_fitted(self)
        y_index = encode_known_labels(self.classes_, y)
        keep = y_index >= 0
        if not keep.any():
            raise ValueError("score needs at least one labeled row (y != -1).")
        X = self._validated(X)
        if sample_weight is not None:
            sample_weight = np.asarray(sample_weight)[keep]
        pred = self._joint_log_likelihood_checked(X[keep]).argmax(axis=1)
        return accuracy_score(y_index[keep], pred, sample_weight=sample_weight)
