"""EM on Dask arrays: ``fit(X, y)`` of :class:`~probssl.EMNaiveBayes` and
:class:`~probssl.MixtureOfExperts` with a :class:`dask.array.Array` X runs
one map and one tree sum per iteration on its cluster (see
:mod:`probssl._dask`); ``predict*`` on Dask input is lazy."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._base import EstimatorT
from ._dask import DaskSource, predict_dask
from ._typing import ArrayLike, DaskArray

__all__ = ["fit_dask", "predict_dask"]


def fit_dask(
    est: EstimatorT,
    X: DaskArray,
    y: DaskArray | ArrayLike,
    sample_weight: DaskArray | ArrayLike | None = None,
    *,
    client: Any = None,
    callback: Callable[[int, float], object] | None = None,
) -> EstimatorT:
    """Fit an EM estimator on Dask arrays, on a cluster or locally.

    Every block of rows is validated and prepared once and kept on the
    workers; each EM iteration is then one map over the blocks and one
    tree sum, so only the summed statistics reach the client. Lost workers
    are recovered (their blocks recomputed from the array's graph). The
    result equals ``est.fit`` on the computed arrays up to rounding.
    ``est.fit(X, y)`` with a Dask X does the same with the active client.

    Parameters
    ----------
    est : EMNaiveBayes or MixtureOfExperts
        The estimator to fit (in place).
    X : dask.array.Array of shape (n_samples, n_features)
        Rows chunked (columns are gathered into whole rows); blocks dense
        or SciPy CSR.
    y : dask.array.Array or array-like of shape (n_samples,)
        Labels, ``-1`` for unlabeled rows.
    sample_weight : dask.array.Array or array-like of shape (n_samples,), \
default=None
        Non-negative row weights.
    client : distributed.Client, default=None
        The cluster to use; when None, the active ``distributed`` client
        if there is one, else Dask's local scheduler in this process.
    callback : callable, default=None
        ``callback(n_iter, objective)`` after every iteration.

    Returns
    -------
    est : EMNaiveBayes or MixtureOfExperts
        The fitted estimator (``transduction_`` is not set).

    Raises
    ------
    RuntimeError
        If a pass lost a worker more than ``probssl._dask.PASS_RETRIES``
        times in a row.

    See Also
    --------
    predict_dask : Lazy predictions on a Dask array.

    Examples
    --------
    >>> import dask.array as da
    >>> from probssl import EMNaiveBayes
    >>> from probssl.datasets import make_multinomial_mixture
    >>> from probssl.distributed import fit_dask
    >>> X, y_true = make_multinomial_mixture(400, 50, 2, random_state=0)
    >>> y = y_true.copy()
    >>> y[10:] = -1
    >>> Xd = da.from_array(X.toarray(), chunks=(100, 50))
    >>> clf = fit_dask(EMNaiveBayes(), Xd, da.from_array(y, chunks=100))
    >>> bool(clf.score(X, y_true) > 0.9)
    True
    """
    est._validate_params()
    return est._fit_source(DaskSource, X, y, sample_weight, client=client,
                           callback=callback)
