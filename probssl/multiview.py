"""Two views of the same rows: :class:`MultiView` and the test for a pair.

The input plumbing of the two-view estimators (:mod:`probssl.co_training`):
``X`` is one matrix split by columns, or a pair of matrices (a tuple, a list
of two matrices or a :class:`MultiView`) describing the same rows.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

from numbers import Integral
from typing import Union

import numpy as np
import scipy.sparse as sp
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from ._typing import ArrayLike, MatrixLike

__all__ = ["MultiView", "TwoViewInput", "is_pair"]


class MultiView:
    """Two matrices describing the same rows (two views), indexable by row.

    Each view may be any 2-D array-like or a SciPy sparse matrix (e.g.
    sparse word counts and dense sentence embeddings). ``mv[rows]`` selects
    the same rows in both views, so scikit-learn's splitters and
    ``cross_val_score`` can index it like an array.

    Parameters
    ----------
    first, second : {array-like, sparse matrix}
        The two views, with the same number of rows.

    Examples
    --------
    >>> import numpy as np
    >>> import scipy.sparse as sp
    >>> mv = MultiView(sp.csr_matrix(np.eye(4)), np.arange(8.0).reshape(4, 2))
    >>> len(mv), mv.shape
    (4, (4, 6))
    >>> mv[[0, 2]].views[1].tolist()
    [[0.0, 1.0], [4.0, 5.0]]
    """

    def __init__(self, first: MatrixLike, second: MatrixLike) -> None:
        first = _as_2d(first)
        second = _as_2d(second)
        if first.shape[0] != second.shape[0]:
            raise ValueError(
                "The two views must have the same number of rows, got "
                f"{first.shape[0]} and {second.shape[0]}."
            )
        self.views = (first, second)

    @property
    def shape(self) -> tuple[int, int]:
        """``(n_rows, n_columns_first + n_columns_second)``."""
        a, b = self.views
        return (a.shape[0], a.shape[1] + b.shape[1])

    def __len__(self) -> int:
        return self.views[0].shape[0]

    def __getitem__(self, rows: int | slice | ArrayLike | tuple) -> MultiView:
        if isinstance(rows, tuple):  # sklearn's _safe_indexing: X[key, ...]
            if len(rows) == 2 and rows[1] is Ellipsis:
                rows = rows[0]
            else:
                raise IndexError("MultiView supports row indexing only.")
        if isinstance(rows, Integral):
            rows = [rows]
        if not isinstance(rows, slice):
            rows = np.asarray(rows)
        return MultiView(*(v[rows] for v in self.views))

    def __repr__(self) -> str:
        kinds = ", ".join(
            f"{type(v).__name__}{v.shape}" for v in self.views
        )
        return f"MultiView({kinds})"


def _as_2d(v):
    if sp.issparse(v):
        return v.tocsr() if v.format not in ("csr", "csc") else v
    v = np.asarray(v)
    if v.ndim != 2:
        raise ValueError(f"Each view must be 2-D, got an array of shape {v.shape}.")
    return v


def is_pair(X: object) -> bool:
    """Whether ``X`` is two views rather than one matrix.

    Parameters
    ----------
    X : object
        A two-view estimator's input.

    Returns
    -------
    bool
        True for a :class:`MultiView`, a tuple, or a list of two matrices
        (2-D arrays or sparse matrices); False for one matrix, including a
        list of two rows of numbers.

    Examples
    --------
    >>> import numpy as np
    >>> from probssl.multiview import is_pair
    >>> A, B = np.zeros((3, 2)), np.ones((3, 4))
    >>> is_pair((A, B)), is_pair([A, B]), is_pair(MultiView(A, B))
    (True, True, True)
    >>> is_pair(A), is_pair([[0, 1], [2, 3]])
    (False, False)
    """
    if isinstance(X, MultiView):
        return True
    if isinstance(X, tuple):
        return True
    if isinstance(X, list) and len(X) == 2:
        return all(sp.issparse(v) or getattr(v, "ndim", 0) == 2 for v in X)
    return False


#: What a two-view estimator's ``fit`` / ``predict*`` take: one matrix
#: (split by ``views``), a :class:`MultiView`, or a pair of matrices.
TwoViewLike = Union[MatrixLike, MultiView, tuple[MatrixLike, MatrixLike],
                    list[MatrixLike]]


class TwoViewInput:
    """The input plumbing of a two-view estimator (a mixin).

    X is one matrix split into two column blocks by the estimator's
    ``views`` parameter (setting ``views_`` and ``n_features_in_``), or a
    pair of matrices (``views_`` is None); prediction applies the same
    split. :class:`~probssl.CoTraining` and :class:`~probssl.CoEM` inherit
    it; a new two-view estimator calls ``self._fit_views(X, rng)`` in
    ``fit`` and ``self._transform_views(X)`` when predicting.

    Examples
    --------
    >>> import numpy as np
    >>> from probssl import CoTraining
    >>> from probssl.multiview import TwoViewInput
    >>> X = np.random.RandomState(0).poisson(2.0, size=(20, 6))
    >>> y = np.array([0, 1] * 2 + [-1] * 16)
    >>> clf = CoTraining(views=(slice(0, 2), [2, 3, 4, 5]), max_iter=1)
    >>> clf = clf.fit(X, y)
    >>> isinstance(clf, TwoViewInput), clf.n_features_in_
    (True, 6)
    >>> [v.tolist() for v in clf.views_]
    [[0, 1], [2, 3, 4, 5]]
    """

    def _fit_views(self, X, rng):
        """Split X at fit time; sets ``views_`` / ``n_features_in_``."""
        name = type(self).__name__
        if is_pair(X):
            if self.views is not None:
                raise ValueError(
                    f"{name}: X is already a pair of views; leave views=None "
                    f"(got views={self.views!r})."
                )
            Xs = self._check_pair(X)
            self.views_ = None
            self._pair_input = True
            return Xs
        self._pair_input = False
        X = validate_data(self, X, accept_sparse="csr", reset=True)
        n_features = X.shape[1]
        if self.views is None:
            raise ValueError(
                f"{name}: X is one matrix, so views must say how to split its "
                "columns: a pair of index arrays/slices, or 'random'; or pass "
                "X as a pair of matrices (or a MultiView)."
            )
        if isinstance(self.views, str):  # "random"
            if n_features < 2:
                raise ValueError(
                    f"{name}: views='random' needs at least 2 features, got "
                    f"{n_features} feature(s)."
                )
            perm = rng.permutation(n_features)
            half = n_features // 2
            views = (np.sort(perm[:half]), np.sort(perm[half:]))
        else:
            if len(self.views) != 2:
                raise ValueError(
                    f"{name}: views must be a pair (two index arrays or "
                    f"slices), got {len(self.views)} entries."
                )
            cols = np.arange(n_features)
            views = []
            for v in self.views:
                try:
                    idx = cols[v if isinstance(v, slice) else np.asarray(v)]
                except IndexError as exc:
                    raise ValueError(
                        f"{name}: bad view {v!r} for X with {n_features} "
                        f"columns: {exc}"
                    ) from None
                if idx.size == 0:
                    raise ValueError(f"{name}: view {v!r} selects no columns.")
                views.append(idx)
            views = tuple(views)
        self.views_ = views
        return tuple(X[:, v] for v in views)

    def _check_pair(self, X):
        mv = X if isinstance(X, MultiView) else None
        if mv is None:
            if len(X) != 2:
                raise ValueError(
                    f"{type(self).__name__}: X as a tuple must hold exactly "
                    f"two views, got {len(X)}."
                )
            mv = MultiView(*X)
        return tuple(
            check_array(v, accept_sparse=("csr", "csc"), input_name=f"X view {i}")
            for i, v in enumerate(mv.views)
        )

    def _transform_views(self, X):
        check_is_fitted(self)
        if is_pair(X):
            if not self._pair_input:
                raise ValueError(
                    f"{type(self).__name__} was fitted on one matrix split by "
                    "views; pass one matrix, not a pair."
                )
            return self._check_pair(X)
        if self._pair_input:
            raise ValueError(
                f"{type(self).__name__} was fitted on a pair of views; pass "
                "a pair (or a MultiView) to predict."
            )
        X = validate_data(self, X, accept_sparse="csr", reset=False)
        return tuple(X[:, v] for v in self.views_)
