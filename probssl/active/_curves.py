"""Reading learning curves: how many labels a strategy needs."""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import numpy as np

from .._typing import ArrayLike


def labels_to_reach(n_labeled: ArrayLike, accuracy: ArrayLike,
                    target: float) -> float | None:
    """Labels at which a learning curve first reaches ``target``.

    The comparison McCallum & Nigam (1998) draw between query strategies
    ("density-weighted QBC reaches random sampling's accuracy with N
    labels"): the curve's points are joined by straight lines and the
    first crossing of ``target`` is read off.

    Parameters
    ----------
    n_labeled : array-like of shape (n_points,)
        Labels at each point, increasing.
    accuracy : array-like of shape (n_points,)
        Accuracy at each point.
    target : float
        The accuracy to reach.

    Returns
    -------
    float or None
        Labels where the curve first reaches ``target`` (linear
        interpolation between the two points around it; the first point's
        count if it starts there), None if it never does.

    Examples
    --------
    >>> from probssl.active import labels_to_reach
    >>> labels_to_reach([20, 40, 60], [0.1, 0.3, 0.5], 0.4)
    50.0
    >>> labels_to_reach([20, 40, 60], [0.1, 0.2, 0.3], 0.4) is None
    True
    """
    n, acc = np.asarray(n_labeled, dtype=float), np.asarray(accuracy)
    hit = np.flatnonzero(acc >= target)
    if not hit.size:
        return None
    i = hit[0]
    if i == 0:
        return float(n[0])
    frac = (target - acc[i - 1]) / (acc[i] - acc[i - 1])
    return float(n[i - 1] + frac * (n[i] - n[i - 1]))
