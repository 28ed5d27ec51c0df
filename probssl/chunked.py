"""Out-of-core EM: chunks read one at a time (``fit_chunks`` of
:class:`~probssl.EMNaiveBayes` and :class:`~probssl.MixtureOfExperts`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from ._base import EstimatorT
from ._npz_chunks import NpzChunks, write_npz_chunks
from ._typing import ArrayLike

__all__ = ["NpzChunks", "fit_chunked", "write_npz_chunks"]


def fit_chunked(
    est: EstimatorT,
    chunks: Callable[[], Iterable[tuple]] | Iterable[tuple],
    classes: ArrayLike | None = None,
    callback: Callable[[int, float], object] | None = None,
) -> EstimatorT:
    """Fit an EM estimator over chunks of rows read one at a time.

    The same as ``est.fit_chunks(chunks, classes, callback)``: memory is
    bounded by one chunk plus a few (n_features, K) arrays, and the result
    equals ``est.fit`` on the concatenated chunks up to rounding.

    Parameters
    ----------
    est : EMNaiveBayes or MixtureOfExperts
        The estimator to fit (in place).
    chunks : callable or re-iterable
        ``chunks()`` returning an iterator, or a re-iterable such as a list
        or :class:`NpzChunks`, of ``(X, y)`` or ``(X, y, sample_weight)``
        (X sparse or dense, ``y == -1`` for unlabeled rows); read once per
        EM iteration, and once more to learn the labels and columns.
    classes : array-like, default=None
        The class labels; those seen on the labeled rows when None.
    callback : callable, default=None
        ``callback(n_iter, objective)`` after every iteration.

    Returns
    -------
    est : EMNaiveBayes or MixtureOfExperts
        The fitted estimator (``transduction_`` is not set).

    See Also
    --------
    write_npz_chunks : Write a corpus as a chunk folder.
    probssl.EMNaiveBayes.fit_chunks : The method this calls.

    Examples
    --------
    Chunks from a generator function, read again at every EM iteration:

    >>> from probssl import EMNaiveBayes
    >>> from probssl.chunked import fit_chunked
    >>> from probssl.datasets import make_multinomial_mixture
    >>> X, y_true = make_multinomial_mixture(400, 50, 2, random_state=0)
    >>> y = y_true.copy()
    >>> y[10:] = -1
    >>> def chunks():
    ...     for start in range(0, 400, 100):
    ...         yield X[start:start + 100], y[start:start + 100]
    >>> objectives = []
    >>> clf = fit_chunked(EMNaiveBayes(), chunks,
    ...                   callback=lambda it, obj: objectives.append(obj))
    >>> len(objectives) == clf.n_iter_
    True
    >>> bool(clf.score(X, y_true) > 0.9)
    True
    """
    return est.fit_chunks(chunks, classes=classes, callback=callback)
