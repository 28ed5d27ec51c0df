"""The simulated oracle of active-learning experiments (see
:mod:`probssl.active`)."""

from __future__ import annotations

import numpy as np

from .._typing import ArrayLike, NDArray


class SimulatedOracle:
    """Reveals the true labels of the rows asked for (for experiments).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        The labels, indexed like the learner's training rows.

    Attributes
    ----------
    n_queries_ : int
        Number of labels revealed so far.

    Examples
    --------
    >>> from probssl.active import SimulatedOracle
    >>> oracle = SimulatedOracle(["spam", "ham", "ham", "spam"])
    >>> oracle([3, 1]).tolist(), oracle.n_queries_
    (['spam', 'ham'], 2)
    """

    def __init__(self, y_true: ArrayLike) -> None:
        self.y_true = np.asarray(y_true)
        self.n_queries_ = 0

    def __call__(self, indices: ArrayLike) -> NDArray:
        """The true labels of the rows asked for.

        Parameters
        ----------
        indices : array-like of int
            Rows, indexed like ``y_true``.

        Returns
        -------
        ndarray
            Their labels; ``n_queries_`` grows by their number.
        """
        indices = np.asarray(indices, dtype=np.intp)
        self.n_queries_ += indices.size
        return self.y_true[indices]
