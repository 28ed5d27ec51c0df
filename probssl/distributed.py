"""EM on Dask arrays: ``fit(X, y)`` of :class:`~probssl.EMNaiveBayes` and
:class:`~probssl.MixtureOfExperts` with a :class:`dask.array.Array` X runs
one map and one tree sum per iteration on its cluster (see
:mod:`probssl._dask`); ``predict*`` on Dask input is lazy."""

from ._dask import DaskSource, predict_dask

__all__ = ["fit_dask", "predict_dask"]


def fit_dask(est, X, y, sample_weight=None, *, client=None, callback=None):
    """Fit ``est`` on Dask arrays with ``client`` (the active
    ``distributed`` client when None; else Dask's local scheduler);
    ``callback(n_iter, objective)`` after every iteration."""
    est._validate_params()
    return est._fit_source(DaskSource, X, y, sample_weight, client=client,
                           callback=callback)
