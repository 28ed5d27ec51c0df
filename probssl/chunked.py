"""Out-of-core EM: chunks read one at a time (``fit_chunks`` of
:class:`~probssl.EMNaiveBayes` and :class:`~probssl.MixtureOfExperts`)."""

from ._npz_chunks import NpzChunks, write_npz_chunks

__all__ = ["NpzChunks", "fit_chunked", "write_npz_chunks"]


def fit_chunked(est, chunks, classes=None, callback=None):
    """``est.fit_chunks(chunks, classes)``: fit by EM over chunks of rows;
    ``callback(n_iter, objective)`` after every iteration."""
    return est.fit_chunks(chunks, classes=classes, callback=callback)
