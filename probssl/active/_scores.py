"""Scores over a pool (pure functions, vectorised): uncertainty, committee
disagreement, density."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.special import logsumexp, xlogy

from .._typing import ArrayLike, FloatArray, MatrixLike

UNCERTAINTIES = ("entropy", "margin", "least_confidence")
DENSITIES = ("auto", "kl", "cosine")


def uncertainty_scores(proba: ArrayLike, kind: str = "entropy") -> FloatArray:
    """How unsure a model is of each row; larger is more uncertain.

    Parameters
    ----------
    proba : ndarray of shape (n_samples, n_classes)
        Posterior class probabilities (rows sum to 1).
    kind : {"entropy", "margin", "least_confidence"}, default="entropy"
        ``"entropy"``: ``-sum_c p log p``; ``"margin"``: ``p_(2) - p_(1)``
        (minus the gap between the two most probable classes);
        ``"least_confidence"``: ``1 - max_c p``.

    Returns
    -------
    ndarray of shape (n_samples,)
        The uncertainty of every row.

    Examples
    --------
    >>> from probssl.active import uncertainty_scores
    >>> proba = [[0.5, 0.5], [0.7, 0.3], [0.9, 0.1]]
    >>> uncertainty_scores(proba).round(3).tolist()
    [0.693, 0.611, 0.325]
    >>> uncertainty_scores(proba, "margin").round(3).tolist()
    [0.0, -0.4, -0.8]
    """
    proba = np.asarray(proba, dtype=float)
    if kind == "entropy":
        return -xlogy(proba, proba).sum(axis=1)
    if kind == "least_confidence":
        return 1.0 - proba.max(axis=1)
    if kind == "margin":
        if proba.shape[1] < 2:
            return np.zeros(proba.shape[0])
        top2 = -np.partition(-proba, 1, axis=1)[:, :2]
        return top2[:, 1] - top2[:, 0]
    raise ValueError(f"uncertainty must be one of {UNCERTAINTIES}, got {kind!r}")


def committee_disagreement(member_log_proba: ArrayLike) -> FloatArray:
    """Mean KL divergence of each member's posterior to the committee mean.

    McCallum & Nigam's (1998) disagreement: ``(1/k) sum_m KL(P_m(C|x) ||
    P_mean(C|x))``, the information radius of the committee. It is 0 when
    all members agree and grows with how differently they classify.

    Parameters
    ----------
    member_log_proba : ndarray of shape (n_members, n_samples, n_classes)
        Every member's log posterior class probabilities.

    Returns
    -------
    ndarray of shape (n_samples,)
        The disagreement of every row, at least 0.

    Examples
    --------
    Two members that agree on the first row and not on the second:

    >>> import numpy as np
    >>> from probssl.active import committee_disagreement
    >>> members = np.log([[[0.9, 0.1], [0.9, 0.1]],
    ...                   [[0.9, 0.1], [0.1, 0.9]]])
    >>> committee_disagreement(members).round(3).tolist()
    [0.0, 0.368]
    """
    log_p = np.asarray(member_log_proba, dtype=float)
    k = log_p.shape[0]
    # In log space: members may put exp(-700) on a class, which a plain
    # mean of probabilities would round to 0 and then log to -inf.
    log_mean = logsumexp(log_p, axis=0) - np.log(k)
    p = np.exp(log_p)
    with np.errstate(invalid="ignore"):
        kl = np.where(p > 0, p * (log_p - log_mean), 0.0).sum(axis=2)
    return np.maximum(kl.mean(axis=0), 0.0)


def pool_density(X: MatrixLike, method: str = "auto", beta: float = 3.0,
                 smoothing: float = 0.5) -> FloatArray:
    """How representative each row is of the pool, in (0, 1].

    ``"kl"`` (counts; McCallum & Nigam 1998, sec. 4): with ``p_h`` the word
    distribution of row h, ``P`` the pool's word distribution and
    ``q_i = smoothing * p_i + (1 - smoothing) * P``::

        density_i = exp(-beta * mean_h KL(p_h || q_i))

    Because KL is linear in its first argument, ``mean_h KL(p_h || q_i) =
    mean_h sum_w p_hw log p_hw - sum_w pbar_w log q_iw`` with ``pbar`` the
    mean of the ``p_h``: the average over all n² pairs is computed exactly
    with one sparse matrix-vector product (O(non-zeros), no sampling).

    ``"cosine"`` (any features, e.g. embeddings): ``exp(-beta * (1 - mean_h
    cos(x_i, x_h)))``, again exact through the mean of the unit rows.

    The result is divided by its maximum (the weighting only compares rows
    of one pool), so the most representative row has density 1. An empty
    row (no words, all zeros) represents nothing: its density is 0.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        The pool.
    method : {"auto", "kl", "cosine"}, default="auto"
        ``"auto"``: ``"kl"`` for sparse or non-negative input, else
        ``"cosine"``.
    beta : float, default=3.0
        Sharpness (the paper's value is 3).
    smoothing : float, default=0.5
        Weight of the row's own words in ``q_i`` (``"kl"`` only), in (0, 1).

    Returns
    -------
    ndarray of shape (n_samples,)
        The density of every row; 1 for the most representative.

    Examples
    --------
    The row that looks like the rest of the pool is the most
    representative; the odd one out the least:

    >>> import numpy as np
    >>> from probssl.active import pool_density
    >>> X = np.array([[5, 1, 0], [4, 2, 0], [5, 2, 0], [0, 0, 6]])
    >>> density = pool_density(X)
    >>> int(density.argmax()), int(density.argmin())
    (2, 3)
    """
    if method not in DENSITIES:
        raise ValueError(f"density must be one of {DENSITIES}, got {method!r}")
    if not 0 < smoothing < 1:
        raise ValueError(f"density_smoothing must be in (0, 1), got {smoothing!r}")
    n = X.shape[0]
    if n == 0:
        return np.zeros(0)
    if method == "auto":
        nonneg = (X.data.min() >= 0 if X.nnz else True) if sp.issparse(X) \
            else np.asarray(X).min() >= 0
        method = "kl" if nonneg else "cosine"
    if method == "cosine":
        from sklearn.preprocessing import normalize

        unit = normalize(X if sp.issparse(X) else np.asarray(X, float))
        mean_unit = np.asarray(unit.mean(axis=0)).ravel()
        log_density = -beta * (1.0 - unit @ mean_unit)
    else:
        X = sp.csr_matrix(X, dtype=float)
        lengths = np.asarray(X.sum(axis=1)).ravel()
        if (X.data < 0).any():
            raise ValueError("density='kl' needs non-negative counts")
        words = np.asarray(X.sum(axis=0)).ravel()
        if words.sum() <= 0:
            return np.ones(n)  # nothing to compare: all rows alike
        P = words / words.sum()
        nonempty = lengths > 0
        inv = np.divide(1.0, lengths, out=np.zeros(n), where=nonempty)
        Pn = sp.diags(inv) @ X                 # rows p_i (empty rows: 0)
        pbar = np.asarray(Pn.sum(axis=0)).ravel() / max(nonempty.sum(), 1)
        # sum_w pbar_w log q_iw: the background part (1 - s) P for every
        # word, plus a correction on the row's own words only (sparse).
        logbg = np.zeros_like(P)
        seen = P > 0
        logbg[seen] = np.log((1 - smoothing) * P[seen])
        base = pbar @ logbg
        Q = Pn.copy()
        Q.data = (np.log(smoothing * Q.data + (1 - smoothing) * P[Q.indices])
                  - logbg[Q.indices])
        cross = base + Q @ pbar
        cross[~nonempty] = 0.0  # (set to density 0 below)
        neg_entropy = (xlogy(Pn.data, Pn.data).sum()) / max(nonempty.sum(), 1)
        log_density = -beta * (neg_entropy - cross)
    empty = (np.asarray(abs(X).sum(axis=1)).ravel() == 0 if sp.issparse(X)
             else ~np.asarray(X).any(axis=1))
    if empty.all():
        return np.ones(n)  # nothing to compare: all rows alike
    density = np.exp(log_density - log_density[~empty].max())
    density[empty] = 0.0
    return density
