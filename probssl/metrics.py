"""Scores of a classifier that scikit-learn does not have.

:func:`breakeven` is the precision-recall breakeven point that Nigam et
al. (2000, Tables 4-8) and the text-categorization literature (Lewis 1992)
report for binary, one-category-against-the-rest tasks such as Reuters.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import numpy as np

from ._typing import ArrayLike

__all__ = ["breakeven"]


def breakeven(y_true: ArrayLike, scores: ArrayLike) -> float:
    """Precision-recall breakeven point of a ranking of rows.

    The rows are ranked by ``scores`` and the ranking is cut after as many
    rows as there are positives: there precision and recall are both
    ``hits / n_positive``, which is where they meet.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Which rows are positive (booleans, or 1 for positive and 0 for
        negative).
    scores : array-like of shape (n_samples,)
        How positive each row is (e.g. ``predict_proba(X)[:, 1]``); ties
        keep row order.

    Returns
    -------
    breakeven : float
        The precision (equal to the recall) of the ``n_positive`` rows
        scored highest, in [0, 1].

    Raises
    ------
    ValueError
        If no row is positive.

    References
    ----------
    Nigam, McCallum, Thrun and Mitchell (2000), "Text classification from
    labeled and unlabeled documents using EM", Machine Learning 39, Table 4.

    Examples
    --------
    >>> from probssl.metrics import breakeven
    >>> y = [0, 1, 1, 0, 1, 0]
    >>> scores = [0.9, 0.8, 0.7, 0.6, 0.2, 0.1]
    >>> round(breakeven(y, scores), 3)  # top 3 rows: two positives
    0.667
    """
    y_true = np.asarray(y_true).astype(bool)
    n_pos = int(y_true.sum())
    if n_pos == 0:
        raise ValueError("breakeven needs at least one positive row.")
    order = np.argsort(-np.asarray(scores, dtype=float), kind="stable")
    return float(y_true[order[:n_pos]].sum() / n_pos)
