"""Breiman et al.'s (1984) waveform generator and its Bayes-optimal rule.

The waveform data (Breiman, Friedman, Olshen & Stone, *Classification and
Regression Trees*, 1984, Sec. 2.6.2; UCI "waveform" and "waveform+noise")
is the synthetic problem of Miller & Uyar's (1996) experiment. Since the
generator is known, so is the Bayes-optimal classifier: the class-
conditional density is a mixture, over the uniform weight ``u``, of unit
Gaussians, and its integral over ``u`` has a closed form (a difference of
two normal CDFs), so no quadrature is needed.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

from numbers import Integral

import numpy as np
from scipy.special import log_ndtr, logsumexp
from sklearn.utils import check_random_state

from .._typing import ArrayLike, FloatArray, NDArray, RandomStateLike

__all__ = ["make_waveform", "waveform_base_waves", "waveform_log_likelihood",
           "waveform_bayes_proba", "WAVEFORM_PAIRS"]

N_WAVE = 21      # attributes that carry the signal
N_NOISE = 19     # pure-noise attributes of "waveform+noise" (40 in all)
# Class c mixes base waves WAVEFORM_PAIRS[c] = (a, b): x = u h_a + (1 - u) h_b.
# Breiman et al.'s classes 1, 2, 3 are (h1, h2), (h1, h3), (h2, h3).
WAVEFORM_PAIRS = ((0, 1), (0, 2), (1, 2))


def waveform_base_waves() -> FloatArray:
    """The three triangular base waves of the waveform generator.

    ``h1(i) = max(6 - |i - 11|, 0)`` for ``i = 1..21``, ``h2`` is ``h1``
    shifted 4 places right and ``h3`` shifted 4 places left (peaks at
    attributes 11, 15 and 7), as in Breiman et al. (1984).

    Returns
    -------
    ndarray of shape (3, 21)
        ``h1``, ``h2``, ``h3``, one per row.

    Examples
    --------
    >>> from probssl.datasets.waveform import waveform_base_waves
    >>> h = waveform_base_waves()
    >>> h.shape, (h.argmax(axis=1) + 1).tolist()   # peaks, 1-based
    ((3, 21), [11, 15, 7])
    """
    i = np.arange(1, N_WAVE + 1, dtype=np.float64)
    h1 = np.maximum(6.0 - np.abs(i - 11.0), 0.0)
    h2 = np.maximum(6.0 - np.abs(i - 15.0), 0.0)
    h3 = np.maximum(6.0 - np.abs(i - 7.0), 0.0)
    return np.vstack([h1, h2, h3])


def make_waveform(n_samples: int = 5000, noise: bool = True,
                  random_state: RandomStateLike = None,
                  ) -> tuple[FloatArray, NDArray[np.int64]]:
    """Generate Breiman et al.'s (1984) waveform data (3 classes).

    Every point draws a class ``c`` uniformly from {0, 1, 2}, a weight
    ``u ~ U(0, 1)`` and unit Gaussian noise ``e``; with the class's pair
    of base waves ``(h_a, h_b)`` (see :func:`waveform_base_waves`; classes
    0, 1, 2 use (h1, h2), (h1, h3), (h2, h3))::

        x_i = u h_a(i) + (1 - u) h_b(i) + e_i,   i = 1..21

    With ``noise=True`` ("waveform+noise", the UCI data of Miller & Uyar
    1996) 19 attributes of pure N(0, 1) noise, independent of the class,
    follow: 40 attributes. The Bayes error is about 14 % (Breiman et al.
    state 14 %; :func:`waveform_bayes_proba` computes the optimal rule).

    Parameters
    ----------
    n_samples : int, default=5000
        Number of points.
    noise : bool, default=True
        Append the 19 pure-noise attributes.
    random_state : int, RandomState instance or None, default=None
        Pass an int for reproducible output.

    Returns
    -------
    X : ndarray of shape (n_samples, 40) or (n_samples, 21)
    y : ndarray of shape (n_samples,), dtype int64, in {0, 1, 2}

    Notes
    -----
    The draws are made in a fixed order (classes, weights, signal noise,
    extra noise), so a seed gives the same first 21 attributes with and
    without ``noise``.

    Examples
    --------
    >>> from probssl.datasets import make_waveform
    >>> X, y = make_waveform(1000, random_state=0)
    >>> X.shape, sorted(set(y.tolist()))
    ((1000, 40), [0, 1, 2])
    """
    if (isinstance(n_samples, (bool, np.bool_))
            or not isinstance(n_samples, Integral) or n_samples < 1):
        raise ValueError(f"n_samples must be a positive integer, got "
                         f"{n_samples!r}.")
    n_samples = int(n_samples)
    rng = check_random_state(random_state)
    waves = waveform_base_waves()
    pairs = np.asarray(WAVEFORM_PAIRS)
    y = rng.randint(3, size=n_samples).astype(np.int64)
    u = rng.uniform(size=n_samples)[:, None]
    X = (u * waves[pairs[y, 0]] + (1.0 - u) * waves[pairs[y, 1]]
         + rng.standard_normal((n_samples, N_WAVE)))
    if noise:
        X = np.hstack([X, rng.standard_normal((n_samples, N_NOISE))])
    return X, y


def _log_diff_ndtr(lo, hi):
    """``log(Phi(hi) - Phi(lo))`` for ``lo <= hi``, accurate in both tails."""
    # In the upper tail Phi(hi) - Phi(lo) = Phi(-lo) - Phi(-hi): use the
    # side where the CDFs are small, so the difference does not cancel.
    flip = lo > 0
    a = np.where(flip, -hi, lo)
    b = np.where(flip, -lo, hi)
    la, lb = log_ndtr(a), log_ndtr(b)
    with np.errstate(divide="ignore"):
        return lb + np.log1p(-np.exp(la - lb))


def waveform_log_likelihood(X: ArrayLike) -> FloatArray:
    """Log class-conditional densities of the waveform generator, (n, 3).

    Only the first 21 attributes carry the class; any further (noise)
    attributes have the same density under every class and are ignored,
    so the values are ``log p(x_1..21 | c)`` exactly::

        p(x | c) = int_0^1 N(x; u h_a + (1 - u) h_b, I) du

    The exponent is quadratic in ``u``, so the integral is a Gaussian
    integral over [0, 1]: with ``r = x - h_b``, ``d = h_a - h_b``,
    ``D = |d|^2`` and ``m = r.d / D``, it is ``(2 pi)^{-21/2}
    exp(-(|r|^2 - D m^2) / 2) sqrt(2 pi / D) [Phi(sqrt(D)(1 - m)) -
    Phi(-sqrt(D) m)]``.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features), n_features >= 21
        Points of :func:`make_waveform` (with or without the noise
        attributes).

    Returns
    -------
    ndarray of shape (n_samples, 3)
        ``log p(x | c)`` for the classes 0, 1, 2.

    Examples
    --------
    >>> import numpy as np
    >>> from probssl.datasets import make_waveform
    >>> from probssl.datasets.waveform import waveform_log_likelihood
    >>> X, y = make_waveform(500, random_state=0)
    >>> ll = waveform_log_likelihood(X)
    >>> ll.shape
    (500, 3)
    >>> bool(np.all(np.isfinite(ll)))
    True
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] < N_WAVE:
        raise ValueError(f"X must have at least {N_WAVE} columns, got shape "
                         f"{X.shape}.")
    x = X[:, :N_WAVE]
    waves = waveform_base_waves()
    out = np.empty((x.shape[0], len(WAVEFORM_PAIRS)))
    for c, (a, b) in enumerate(WAVEFORM_PAIRS):
        r = x - waves[b]
        d = waves[a] - waves[b]
        D = d @ d
        m = (r @ d) / D
        s = np.sqrt(D)
        out[:, c] = (-0.5 * N_WAVE * np.log(2 * np.pi)
                     - 0.5 * (np.einsum("ij,ij->i", r, r) - D * m * m)
                     + 0.5 * np.log(2 * np.pi / D)
                     + _log_diff_ndtr(-s * m, s * (1.0 - m)))
    return out


def waveform_bayes_proba(X: ArrayLike) -> FloatArray:
    """Bayes-optimal posterior ``P(c | x)`` of the generator (equal priors).

    Its argmax is the Bayes-optimal classifier; its error on a large draw
    estimates the Bayes error (about 14 %).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features), n_features >= 21
        Points of :func:`make_waveform`.

    Returns
    -------
    ndarray of shape (n_samples, 3)
        ``P(c | x)`` for the classes 0, 1, 2; rows sum to 1.

    Examples
    --------
    >>> from probssl.datasets import make_waveform
    >>> from probssl.datasets.waveform import waveform_bayes_proba
    >>> X, y = make_waveform(20000, random_state=0)
    >>> error = (waveform_bayes_proba(X).argmax(axis=1) != y).mean()
    >>> bool(0.12 < error < 0.15)   # the Bayes error, about 14 %
    True
    """
    ll = waveform_log_likelihood(X)
    return np.exp(ll - logsumexp(ll, axis=1, keepdims=True))
