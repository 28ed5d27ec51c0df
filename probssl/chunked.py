"""Out-of-core EM for :class:`~probssl.EMNaiveBayes`: chunks read one at a
time (see :func:`fit_chunked` and ``EMNaiveBayes.fit_chunks``)."""

from ._chunked import NpzChunks, fit_chunked, write_npz_chunks

__all__ = ["NpzChunks", "fit_chunked", "write_npz_chunks"]
