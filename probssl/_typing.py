"""Type aliases of the public API's annotations (probssl ships ``py.typed``).

Imported at run time, not under ``TYPE_CHECKING``: ``typing.get_type_hints``
(and Sphinx) evaluate the postponed annotations in the defining module's
namespace, so every name an annotation uses must exist there.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, Union

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import sparse

try:
    from scipy.sparse import sparray as _SparseArray
except ImportError:  # SciPy < 1.11: sparse arrays subclass spmatrix
    from scipy.sparse import spmatrix as _SparseArray

#: A method a decorator returns with the same signature.
MethodT = TypeVar("MethodT", bound=Callable[..., Any])

if TYPE_CHECKING:
    from dask.array import Array as DaskArray

    # scikit-learn has no annotations: without this signature a checker
    # would see every decorated ``fit`` as Any.
    def _fit_context(*, prefer_skip_nested_validation: bool,
                     ) -> Callable[[MethodT], MethodT]: ...
else:
    from sklearn.base import _fit_context

    # Dask is optional and slow to import: checkers see the real class,
    # typing.get_type_hints sees Any.
    DaskArray = Any

__all__ = ["ArrayLike", "DaskArray", "FloatArray", "IntArray", "MatrixLike",
           "MethodT", "NDArray", "PathLike", "ProbabilisticClassifier",
           "RandomStateLike", "SparseMatrix"]

#: A SciPy sparse matrix or sparse array.
SparseMatrix = Union[sparse.spmatrix, _SparseArray]

#: A 2-D input: anything :func:`numpy.asarray` takes (a Dask array too,
#: where the estimator accepts one), or a SciPy sparse matrix / array.
MatrixLike = Union[ArrayLike, SparseMatrix]

#: ``random_state`` as scikit-learn takes it.
RandomStateLike = Union[int, np.random.RandomState, None]

#: A file or folder name.
PathLike = Union[str, os.PathLike[str]]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]


class ProbabilisticClassifier(Protocol):
    """A scikit-learn style classifier with ``predict_proba`` (duck typed:
    scikit-learn's own classes carry no annotations)."""

    def fit(self, X: Any, y: Any) -> Any: ...

    def predict_proba(self, X: Any) -> Any: ...
