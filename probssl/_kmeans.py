"""The k-means start of the mixtures (``init="kmeans"``): k-means++ seeds
from a row sample that does not depend on the blocking, then Lloyd
iterations, each one pass of additive sums over a source's blocks; and
the per-row uniforms every random start draws from.
"""

import operator

import numpy as np
import scipy.sparse as sp
from sklearn.preprocessing import normalize

_MASK = np.uint64(0xFFFFFFFFFFFFFFFF)


def row_uniforms(seed, run, rows, n_cols):
    """Uniforms in (0, 1), shape (len(rows), n_cols), a function of
    ``(seed, run, row, column)`` only (a SplitMix64 hash of the counter)."""
    with np.errstate(over="ignore"):
        z = (np.uint64(seed) * np.uint64(0x9E3779B97F4A7C15)
             + np.uint64(run) * np.uint64(0xD1B54A32D192ED03)
             + np.asarray(rows, dtype=np.uint64)[:, None]
             * np.uint64(n_cols + 1) + np.arange(1, n_cols + 1,
                                                 dtype=np.uint64))
        for shift, mult in ((30, 0xBF58476D1CE4E5B9),
                            (27, 0x94D049BB133111EB)):
            z = ((z ^ (z >> np.uint64(shift))) * np.uint64(mult)) & _MASK
        z ^= z >> np.uint64(31)
    return ((z >> np.uint64(11)).astype(np.float64) + 0.5) / 2.0**53


class KMeansStart:
    """k-means over a source of rows, for a start on ``K`` components
    (``seed``: with the run, seeds the sample and k-means++)."""

    def __init__(self, K, seed, n_lloyd=30):
        self.K, self.seed, self.n_lloyd = K, seed, n_lloyd

    def fit(self, source, run, events):
        self._lloyd(source, run, events)
        return self

    def assign(self, block):
        return self._assign(block)

    def _features(self, block):
        """Rows to cluster: Gaussian rows as they are, vMF's unit rows (the
        centres are normalised: spherical k-means); documents as
        unit-length sublinear TF-IDF vectors (spherical k-means)."""
        data = block.data
        if hasattr(data, "X"):  # full / tied Gaussian and vMF blocks
            return data.X
        if not hasattr(data, "csr"):
            return data.XX[:, data.n_features:]
        Z = data.csr.copy()
        Z.data = (1.0 + np.log(Z.data)) * self._idf[Z.indices]
        return normalize(Z)

    def _assign(self, block):
        """Nearest centre of every row (``|c|^2 - 2 z.c``), and the rows."""
        Z = self._features(block)
        return ((self._centers**2).sum(axis=1) - 2.0 * np.asarray(
            Z @ self._centers.T)).argmin(axis=1), Z

    def _sample(self, block, run, q):
        keep = row_uniforms(self.seed, run + 7919, block.rows, 1)[:, 0] < q
        return [block.rows[keep], self._features(block)[keep],
                block.weights[keep]]

    def _lloyd_step(self, block):
        labels, Z = self._assign(block)
        onehot = sp.csr_matrix((block.weights, (labels, np.arange(
            labels.size))), shape=(self.K, labels.size))
        sums = onehot @ Z
        return [sums.toarray() if sp.issparse(sums) else sums,
                np.asarray(onehot.sum(axis=1)).ravel()]

    def _lloyd(self, source, run, events):
        """k-means++ seeds from a row sample that does not depend on the
        blocking, then Lloyd iterations, each one pass of additive sums."""
        from sklearn.cluster import kmeans_plusplus  # (30 ms of an import)

        n_rows = source.reduce(_n_rows, combine=operator.add)
        if n_rows < self.K:
            raise ValueError(
                f"init='kmeans' needs at least n_components={self.K} rows of "
                f"positive weight, got {n_rows}; use init='labeled' or fewer "
                "components.")
        if hasattr(source, "doc_freq"):  # counts: sublinear TF-IDF rows
            self._idf = np.log((1.0 + n_rows) / (1.0 + source.doc_freq)) + 1.0
        # All rows, or a sample of mean size >= max(10 K, 2000): fewer than
        # K rows with probability below e^-800.
        q = min(1.0, max(10 * self.K, 2000) / n_rows)
        rows, Z, w = source.reduce(self._sample, run, q, combine=_concat)
        order = np.argsort(rows)
        self._centers, _ = kmeans_plusplus(
            Z[order], self.K, sample_weight=w[order],
            random_state=np.random.RandomState((self.seed + run) % 2**31))
        for _ in range(self.n_lloyd):
            sums, counts = source.reduce(self._lloyd_step)
            previous, filled = self._centers.copy(), counts > 0
            self._centers[filled] = sums[filled] / counts[filled, None]
            if events.spherical:
                self._centers = normalize(self._centers)
            if np.abs(self._centers - previous).max() <= 1e-8 * max(
                    1.0, np.abs(previous).max()):  # the centres stopped
                break



def _n_rows(block):
    return block.rows.size


def _concat(a, b):
    return [sp.vstack([x, y], format="csr") if sp.issparse(x) else
            np.concatenate([x, y]) for x, y in zip(a, b)]
