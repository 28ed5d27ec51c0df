"""One multinomial for the positive class, several for the negative class:
EM for a binary text task whose "everything else" class is many topics
(Nigam et al. 2000, Sec. 5.2 and 6.4, Reuters)."""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import numbers

import numpy as np
import scipy.sparse as sp
from scipy.special import expit, logsumexp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted, column_or_1d

from ._typing import ArrayLike, FloatArray, IntArray, MatrixLike
from ._validation import check_input, check_n_rows

__all__ = ["BinaryMixtureNB"]


class BinaryMixtureNB(ClassifierMixin, BaseEstimator):
    """EM naive Bayes with one component for class 1 and several for class 0.

    Nigam et al.'s (2000) Reuters model: a binary task "this category
    against all the others", where the negative class is itself many
    topics, is modelled by one multinomial for the positive class and
    ``n_negative_components`` for the negative one.
    :class:`probssl.EMNaiveBayes` gives every class the same number of
    components; this gives them to the negative class only.

    Labeled negatives start at a random component of their class; labeled
    rows keep their class (their responsibilities range over its
    components only); unlabeled rows (``y == -1``) range over all. The
    first M-step sees the labeled rows only; EM then runs on all rows until
    the log-likelihood gains at most ``tol`` times its magnitude. Word and
    component probabilities are smoothed additively (``alpha``; 1 for the
    component prior). Without unlabeled rows it is naive Bayes with the
    negatives spread over their components by EM.

    Parameters
    ----------
    n_negative_components : int, default=1
        Components of class 0 (1: plain two-class naive Bayes / EM).
    alpha : float, default=1.0
        Smoothing of the word probabilities (1: Laplace).
    max_iter : int, default=30
        EM iterations at most.
    tol : float, default=1e-5
        Relative gain of the log-likelihood under which EM stops.
    random_state : int, default=0
        Seeds the start of the labeled negatives.

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
        ``[0, 1]``.
    feature_log_prob_ : ndarray of shape (1 + n_negative_components, n_features)
        Log word probabilities; component 0 is class 1.
    component_log_prior_ : ndarray of shape (1 + n_negative_components,)
        Log component probabilities.
    n_iter_ : int
        E-steps run.

    Examples
    --------
    >>> import numpy as np
    >>> from probssl.binary_mixture import BinaryMixtureNB
    >>> rng = np.random.RandomState(0)
    >>> topics = rng.dirichlet(np.full(30, 0.1), size=3)  # topic 0: positive
    >>> z = rng.randint(3, size=300)
    >>> X = np.array([rng.multinomial(30, topics[k]) for k in z])
    >>> y = (z == 0).astype(int)
    >>> y[40:] = -1                                     # 260 unlabeled rows
    >>> model = BinaryMixtureNB(n_negative_components=2).fit(X, y)
    >>> bool(np.mean(model.predict(X[40:]) == (z[40:] == 0)) > 0.9)
    True
    """

    def __init__(self, n_negative_components: int = 1, alpha: float = 1.0,
                 max_iter: int = 30, tol: float = 1e-5,
                 random_state: int = 0) -> None:
        self.n_negative_components = n_negative_components
        self.alpha = alpha
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state

    def fit(self, X: MatrixLike, y: ArrayLike) -> BinaryMixtureNB:
        """Fit by EM on the labeled (0 / 1) and unlabeled (-1) rows.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Word counts.
        y : array-like of shape (n_samples,)
            1 (positive), 0 (negative) or -1 (unlabeled).

        Returns
        -------
        self : BinaryMixtureNB
        """
        n_neg = self.n_negative_components
        if isinstance(n_neg, bool) or not isinstance(
                n_neg, numbers.Integral) or n_neg < 1:
            raise ValueError(f"n_negative_components must be an int >= 1, "
                             f"got {n_neg!r}.")
        n_neg = int(n_neg)
        X, _ = check_input(self, X, "multinomial", reset=True)
        y = column_or_1d(np.asarray(y), warn=True)
        check_n_rows(X.shape[0], "y", y.shape[0])
        if y.dtype.kind not in "iub" or not np.isin(y, (-1, 0, 1)).all():
            raise ValueError("y must hold 1 (positive), 0 (negative) or -1 "
                             "(unlabeled) as integers.")
        if not (y == 1).any() or not (y == 0).any():
            raise ValueError("y needs at least one labeled row of each class "
                             "(1 positive, 0 negative).")
        X = sp.csr_matrix(X, dtype=np.float64)
        lab = y != -1
        X_lab, y_lab = X[np.flatnonzero(lab)], y[lab]
        rng = np.random.RandomState(self.random_state)
        K = 1 + n_neg
        R_lab = np.zeros((X_lab.shape[0], K))
        R_lab[y_lab == 1, 0] = 1.0
        neg = np.flatnonzero(y_lab == 0)
        R_lab[neg, 1 + rng.randint(n_neg, size=len(neg))] = 1.0
        X_all = X_lab if lab.all() else sp.vstack(
            [X_lab, X[np.flatnonzero(~lab)]]).tocsr()
        allowed = np.zeros((2, K), dtype=bool)
        allowed[1, 0] = allowed[0, 1:] = True
        mask = np.where(allowed[y_lab], 0.0, -np.inf)
        # The priming M-step sees the labeled rows only.
        X_stats, R, previous, n_lab = X_lab, R_lab, -np.inf, X_lab.shape[0]
        for n_iter in range(1, self.max_iter + 2):
            words = np.asarray((X_stats.T @ R).T)
            log_theta = (np.log(self.alpha + words) - np.log(
                self.alpha * words.shape[1] + words.sum(axis=1))[:, None])
            log_pi = np.log(1.0 + R.sum(axis=0)) - np.log(K + R.shape[0])
            joint = np.asarray(X_all @ log_theta.T) + log_pi
            joint[:n_lab] += mask
            norm = logsumexp(joint, axis=1, keepdims=True)
            bound = float(norm.sum())
            R, X_stats = np.exp(joint - norm), X_all
            if abs(bound - previous) <= self.tol * abs(bound):
                break
            previous = bound
        self.n_iter_ = n_iter
        self.feature_log_prob_, self.component_log_prior_ = log_theta, log_pi
        self.classes_ = np.array([0, 1])
        return self

    def decision_function(self, X: MatrixLike) -> FloatArray:
        """Log-odds of class 1: log P(x, 1) - log P(x, 0).

        Not log P(1 | x), which rounds to exactly 0.0 for every clearly
        positive document, so that a ranking of them (precision-recall
        breakeven) would keep their ties in row order.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        X, _ = check_input(self, X, "multinomial", reset=False)
        joint = (np.asarray(sp.csr_matrix(X) @ self.feature_log_prob_.T)
                 + self.component_log_prior_)
        return joint[:, 0] - logsumexp(joint[:, 1:], axis=1)

    def predict_proba(self, X: MatrixLike) -> FloatArray:
        """P(0 | x) and P(1 | x).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, 2)
        """
        p = expit(self.decision_function(X))
        return np.column_stack([1 - p, p])

    def predict(self, X: MatrixLike) -> IntArray:
        """1 where the log-odds are positive, else 0.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        y : ndarray of shape (n_samples,)
        """
        return (self.decision_function(X) > 0).astype(np.intp)

    def score(self, X: MatrixLike, y: ArrayLike,
              sample_weight: ArrayLike | None = None) -> float:
        """Accuracy on the labeled rows of (X, y).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The rows to classify.
        y : array-like of shape (n_samples,)
            Their labels, 1 or 0; rows with ``y == -1`` are ignored.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights of the accuracy.

        Returns
        -------
        float
            The (weighted) fraction of labeled rows classified correctly.
        """
        y = column_or_1d(np.asarray(y))
        rows = np.flatnonzero(y != -1)
        weights = (None if sample_weight is None
                   else np.asarray(sample_weight)[rows])
        X = sp.csr_matrix(check_input(self, X, "multinomial", reset=False)[0])
        return float(np.average(self.predict(X[rows]) == y[rows],
                                weights=weights))
