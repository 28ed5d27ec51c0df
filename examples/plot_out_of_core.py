"""
Out of core and on Dask: the same model
=======================================

A corpus too large for memory is fitted from chunks on disk
(:meth:`~probssl.EMNaiveBayes.fit_chunks`), and a corpus spread over a
cluster from Dask arrays (:func:`probssl.distributed.fit_dask`, or ``fit``
with Dask arrays). All three run one EM loop over additive statistics, so
they give the same model up to rounding. Here on 20,000 synthetic
documents from a known mixture of multinomials.
"""

import tempfile

import matplotlib.pyplot as plt
import numpy as np
import scipy.sparse as sp

from probssl import EMNaiveBayes
from probssl.chunked import NpzChunks, write_npz_chunks
from probssl.datasets import make_multinomial_mixture, mask_labels

X, y_true = make_multinomial_mixture(n_samples=20_000, n_features=500,
                                     random_state=0)
X = sp.csr_matrix(X)
y = mask_labels(y_true, 20, random_state=0)        # 20 labels per class

# %%
# In memory.
em = EMNaiveBayes(alpha=0.1).fit(X, y)
print(f"in memory:   {em.n_iter_} iterations, accuracy {np.mean(em.predict(X) == y_true):.4f}")

# %%
# Out of core: four ``.npz`` chunks written to a folder, read one at a time
# on every pass. Any re-iterable of ``(X, y)`` blocks works too.
with tempfile.TemporaryDirectory() as folder:
    n_chunks = write_npz_chunks(folder, X, y, chunk_rows=5_000)
    em_disk = EMNaiveBayes(alpha=0.1).fit_chunks(NpzChunks(folder))
print(f"out of core: {n_chunks} chunks, {em_disk.n_iter_} iterations, largest "
      f"parameter difference {np.abs(em_disk.feature_log_prob_ - em.feature_log_prob_).max():.1e}")

# %%
# Dask: rows chunked, one map and one tree sum per iteration. Without a
# ``distributed.Client`` Dask's local scheduler runs the blocks; on a
# cluster, create the client first (``Client(cluster)``) and build the
# arrays from files the workers read.
import dask.array as da

from probssl.distributed import fit_dask, predict_dask

Xd = da.from_array(X, chunks=(5_000, -1), asarray=False)
yd = da.from_array(y, chunks=5_000)
em_dask = fit_dask(EMNaiveBayes(alpha=0.1), Xd, yd)
labels = predict_dask(em_dask, Xd).compute()        # lazy until compute()
print(f"Dask:        {em_dask.n_iter_} iterations, largest parameter difference "
      f"{np.abs(em_dask.feature_log_prob_ - em.feature_log_prob_).max():.1e}, "
      f"same predictions: {bool(np.array_equal(labels, em.predict(X)))}")

# %%
# The three objectives, iteration by iteration: one curve.
fig, ax = plt.subplots(figsize=(6, 3.5))
for name, model, style in (("in memory", em, "o-"), ("out of core", em_disk, "s--"),
                           ("Dask", em_dask, "x:")):
    ax.plot(range(1, len(model.lower_bounds_) + 1), model.lower_bounds_, style, label=name)
ax.set_xlabel("EM iteration")
ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
ax.set_ylabel("MAP objective")
ax.legend()
fig.tight_layout()
