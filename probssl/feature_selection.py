"""Word selection and document-length scaling for bag-of-words counts.

The choices of Nigam et al. (2000) and McCallum & Nigam (1998) for text:
:func:`mutual_information` of each word's presence with the class,
:func:`top_mutual_information` (the words to keep, e.g. 300 on WebKB and
Reuters, chosen on the labeled rows only), and :func:`scale_to_length`
(every document's counts scaled to one constant length, the paper's
20 Newsgroups recipe).
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.utils import check_consistent_length
from sklearn.utils.validation import (check_array, check_non_negative,
                                      column_or_1d)

from ._typing import ArrayLike, FloatArray, IntArray, MatrixLike

__all__ = ["mutual_information", "scale_to_length", "top_mutual_information"]


def mutual_information(X: MatrixLike, y: ArrayLike) -> FloatArray:
    """Mutual information between each word's presence and the class.

    Presence is ``X > 0``; the information (in nats) is computed from the
    word-by-class contingency counts, as scikit-learn's
    :func:`~sklearn.metrics.mutual_info_score` would for each column, but
    for all columns at once on a sparse matrix.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Counts (or any values; only ``X > 0`` matters).
    y : array-like of shape (n_samples,)
        Class labels (every row labeled: ``-1`` is refused).

    Returns
    -------
    mi : ndarray of shape (n_features,)
        Mutual information of each column's presence with ``y``.

    Examples
    --------
    >>> import numpy as np
    >>> from probssl.feature_selection import mutual_information
    >>> X = np.array([[1, 0, 2], [3, 0, 0], [0, 1, 1], [0, 2, 0]])
    >>> y = np.array([0, 0, 1, 1])
    >>> mutual_information(X, y).round(3).tolist()
    [0.693, 0.693, 0.0]
    """
    X = check_array(X, accept_sparse="csr")
    y = column_or_1d(y)
    check_consistent_length(X, y)
    if np.any(y == -1):
        raise ValueError("y holds unlabeled rows (-1): pass the labeled rows "
                         "only.")
    B = (sp.csr_matrix(X) > 0).astype(np.float64)
    classes, y_idx = np.unique(y, return_inverse=True)
    Y = np.eye(len(classes))[y_idx]
    n = len(y_idx)
    n11 = np.asarray((B.T @ Y).T)              # class c and word present
    n_c = Y.sum(axis=0)[:, None]
    n_w = np.asarray(B.sum(axis=0)).ravel()[None, :]
    mi = np.zeros(B.shape[1])
    for joint, pc, pw in ((n11, n_c, n_w), (n_c - n11, n_c, n - n_w)):
        with np.errstate(divide="ignore", invalid="ignore"):
            term = joint / n * np.log(joint * n / (pc * pw))
        mi += np.nansum(np.where(joint > 0, term, 0.0), axis=0)
    return mi


def top_mutual_information(X: MatrixLike, y: ArrayLike,
                           n_features: int) -> IntArray:
    """The columns of highest :func:`mutual_information` with the class.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features_in)
        Counts of the rows whose labels may be looked at (the labeled
        rows of a draw).
    y : array-like of shape (n_samples,)
        Their class labels.
    n_features : int
        How many columns to keep (all of them if there are fewer).

    Returns
    -------
    columns : ndarray of shape (min(n_features, n_features_in),)
        Column indices, highest information first; ties keep column order.

    Examples
    --------
    >>> import numpy as np
    >>> from probssl.feature_selection import top_mutual_information
    >>> X = np.array([[1, 0, 2], [3, 0, 0], [0, 1, 1], [0, 2, 0]])
    >>> top_mutual_information(X, [0, 0, 1, 1], 2).tolist()
    [0, 1]
    """
    if int(n_features) < 1:
        raise ValueError(f"n_features must be >= 1, got {n_features!r}.")
    return np.argsort(-mutual_information(X, y),
                      kind="stable")[:int(n_features)]


def scale_to_length(X: MatrixLike, length: float | None) -> MatrixLike:
    """Every row scaled to sum ``length`` (fractional counts).

    Nigam et al. (2000) scale each 20 Newsgroups document's word counts to
    one constant length, so that long posts do not dominate EM's
    statistics.

    Parameters
    ----------
    X : sparse matrix of shape (n_samples, n_features)
        Non-negative counts.
    length : float or None
        The length of every row; None returns ``X`` itself.

    Returns
    -------
    X_scaled : sparse matrix (CSR) of shape (n_samples, n_features)
        Rows summing to ``length``; empty rows stay empty.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> from probssl.feature_selection import scale_to_length
    >>> X = sp.csr_matrix([[1.0, 3.0], [0.0, 0.0]])
    >>> scale_to_length(X, 10.0).toarray().tolist()
    [[2.5, 7.5], [0.0, 0.0]]
    """
    if length is None:
        return X
    X = check_array(X, accept_sparse="csr", dtype=np.float64)
    check_non_negative(X, "scale_to_length (input X)")
    if not (np.isfinite(length) and length > 0):
        raise ValueError(f"length must be a positive number or None, got "
                         f"{length!r}.")
    totals = np.asarray(X.sum(axis=1), dtype=np.float64).ravel()
    factor = np.divide(float(length), totals, out=np.zeros_like(totals),
                       where=totals > 0)
    return sp.csr_matrix(sp.diags(factor) @ X)
