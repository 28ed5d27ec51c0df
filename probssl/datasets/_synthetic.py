"""Synthetic bag-of-words data drawn from a known mixture of multinomials."""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

from typing import Literal, overload

import numpy as np
import scipy.sparse as sp
from sklearn.utils import check_random_state

from .._typing import ArrayLike, NDArray, RandomStateLike
from ._checks import _check_positive_int, _check_positive_real

# Upper bound on the words drawn at once; bounds the temporary arrays
# (about 40 bytes per word) whatever n_samples is.
_WORDS_PER_BLOCK = 1 << 22


def _draw_words(rng, prob, cdf, n_words):
    """Draw ``n_words`` i.i.d. word ids from the distribution ``prob``."""
    n_features = prob.shape[0]
    if n_words >= n_features // 4:
        # Exact and O(n_features + n_words): i.i.d. draws are distributed as
        # multinomial counts put in a uniformly random order. Several times
        # faster than a binary search per word once n_words is not small.
        counts = rng.multinomial(n_words, prob)
        words = np.repeat(np.arange(n_features, dtype=np.intp), counts)
        rng.shuffle(words)
        return words
    words = np.searchsorted(cdf, rng.random_sample(n_words), side="right")
    # cdf[-1] may round to just below 1.
    return np.minimum(words, n_features - 1)


_Counts = tuple[sp.csr_matrix, NDArray[np.int64]]
_CountsAndParams = tuple[sp.csr_matrix, NDArray[np.int64], dict[str, np.ndarray]]


# The return's length follows return_params (for type checkers).
@overload
def make_multinomial_mixture(
    n_samples: int = ..., n_features: int = ..., n_classes: int = ...,
    n_components_per_class: int = ..., doc_length: float = ...,
    class_prior: ArrayLike | None = ..., concentration: float = ...,
    random_state: RandomStateLike = ..., return_params: Literal[False] = ...,
) -> _Counts: ...
@overload
def make_multinomial_mixture(
    n_samples: int = ..., n_features: int = ..., n_classes: int = ...,
    n_components_per_class: int = ..., doc_length: float = ...,
    class_prior: ArrayLike | None = ..., concentration: float = ...,
    random_state: RandomStateLike = ..., *, return_params: Literal[True],
) -> _CountsAndParams: ...
@overload
def make_multinomial_mixture(
    n_samples: int = ..., n_features: int = ..., n_classes: int = ...,
    n_components_per_class: int = ..., doc_length: float = ...,
    class_prior: ArrayLike | None = ..., concentration: float = ...,
    random_state: RandomStateLike = ..., return_params: bool = ...,
) -> _Counts | _CountsAndParams: ...


def make_multinomial_mixture(
    n_samples: int = 1000,
    n_features: int = 500,
    n_classes: int = 5,
    n_components_per_class: int = 1,
    doc_length: float = 100,
    class_prior: ArrayLike | None = None,
    concentration: float = 0.1,
    random_state: RandomStateLike = None,
    return_params: bool = False,
) -> _Counts | _CountsAndParams:
    """Generate bag-of-words documents from a mixture of multinomials.

    The generative model behind multinomial naive Bayes (with one component
    per class) and its mixture extensions:

    1. every component ``k`` has a word distribution ``theta_k`` drawn from
       a symmetric Dirichlet(``concentration``) over ``n_features`` words;
       component ``k`` belongs to class ``k // n_components_per_class``;
    2. every document draws a class ``c`` from ``class_prior``, then one of
       the class's components uniformly at random;
    3. its length ``L`` is Poisson(``doc_length``), at least 1;
    4. its word counts are Multinomial(``L``, ``theta_k``).

    Documents are generated in blocks, so memory stays proportional to the
    output even for millions of documents.

    Parameters
    ----------
    n_samples : int, default=1000
        Number of documents.

    n_features : int, default=500
        Vocabulary size.

    n_classes : int, default=5
        Number of classes.

    n_components_per_class : int, default=1
        Number of mixture components (word distributions) per class.

    doc_length : float, default=100
        Mean document length (Poisson rate).

    class_prior : array-like of shape (n_classes,), default=None
        Class probabilities, non-negative; normalised to sum to one.
        Uniform by default.

    concentration : float, default=0.1
        Parameter of the symmetric Dirichlet prior on word distributions;
        small values give sparse, well-separated components.

    random_state : int, RandomState instance or None, default=None
        Pass an int for reproducible output.

    return_params : bool, default=False
        Whether to also return the true parameters of the mixture.

    Returns
    -------
    X : scipy.sparse.csr_matrix of shape (n_samples, n_features)
        Word counts, as float64.

    y : ndarray of shape (n_samples,), dtype int64
        Class of each document, in ``0 .. n_classes - 1``.

    params : dict
        Only with ``return_params=True``. The true parameters, with
        ``n_components = n_classes * n_components_per_class``:

        class_prior : ndarray of shape (n_classes,)
            Prior probability of every class.
        component_weights : ndarray of shape (n_components,)
            Mixing weight of every component (sums to one).
        feature_prob : ndarray of shape (n_components, n_features)
            Word distribution of every component; every entry is > 0.
        component_class : ndarray of shape (n_components,), dtype int64
            Class of every component.

    Examples
    --------
    >>> from probssl.datasets import make_multinomial_mixture
    >>> X, y, params = make_multinomial_mixture(
    ...     n_samples=200, n_features=50, n_classes=3, random_state=0,
    ...     return_params=True)
    >>> X.shape, y.shape
    ((200, 50), (200,))
    >>> sorted(params)
    ['class_prior', 'component_class', 'component_weights', 'feature_prob']
    >>> params["feature_prob"].shape
    (3, 50)
    """
    n_samples = _check_positive_int(n_samples, "n_samples")
    n_features = _check_positive_int(n_features, "n_features")
    n_classes = _check_positive_int(n_classes, "n_classes")
    n_per_class = _check_positive_int(n_components_per_class, "n_components_per_class")
    doc_length = _check_positive_real(doc_length, "doc_length")
    concentration = _check_positive_real(concentration, "concentration")
    if class_prior is None:
        class_prior = np.full(n_classes, 1.0 / n_classes)
    else:
        class_prior = np.asarray(class_prior, dtype=np.float64)
        if class_prior.shape != (n_classes,):
            raise ValueError(
                f"class_prior must have shape ({n_classes},), got "
                f"{class_prior.shape}."
            )
        if not np.all(np.isfinite(class_prior)) or np.any(class_prior < 0):
            raise ValueError("class_prior must be finite and non-negative.")
        if class_prior.sum() <= 0:
            raise ValueError("class_prior must have a positive sum.")
        class_prior = class_prior / class_prior.sum()
    rng = check_random_state(random_state)

    n_components = n_classes * n_per_class
    component_class = np.repeat(np.arange(n_classes, dtype=np.int64), n_per_class)
    component_weights = class_prior[component_class] / n_per_class
    # Small concentrations underflow to exact zeros; a floor keeps every
    # word possible, so log-probabilities of the true model stay finite.
    theta = rng.dirichlet(np.full(n_features, concentration), size=n_components)
    theta += 1e-12
    theta /= theta.sum(axis=1, keepdims=True)
    cdf = np.cumsum(theta, axis=1)

    y = rng.choice(n_classes, size=n_samples, p=class_prior).astype(np.int64)
    component = y * n_per_class + rng.randint(n_per_class, size=n_samples)
    lengths = np.maximum(rng.poisson(doc_length, size=n_samples), 1)

    # Documents are generated grouped by component, so that each component's
    # words are drawn in a few large vectorised calls, in blocks of about
    # _WORDS_PER_BLOCK words; the rows are put back in order at the end.
    order = np.argsort(component, kind="stable")
    sorted_lengths = lengths[order]
    sorted_component = component[order]
    word_starts = np.cumsum(sorted_lengths) - sorted_lengths
    block_starts = np.flatnonzero(np.diff(word_starts // _WORDS_PER_BLOCK)) + 1
    doc_bounds = np.concatenate(([0], block_starts, [n_samples]))

    blocks = []
    for b0, b1 in zip(doc_bounds[:-1], doc_bounds[1:]):
        block_lengths = sorted_lengths[b0:b1]
        block_component = sorted_component[b0:b1]
        word_bounds = np.concatenate(([0], np.cumsum(block_lengths)))
        piece_bounds = np.concatenate(
            ([0], np.flatnonzero(np.diff(block_component)) + 1, [b1 - b0])
        )
        cols = np.empty(word_bounds[-1], dtype=np.intp)
        for p0, p1 in zip(piece_bounds[:-1], piece_bounds[1:]):
            k = block_component[p0]
            lo, hi = word_bounds[p0], word_bounds[p1]
            cols[lo:hi] = _draw_words(rng, theta[k], cdf[k], hi - lo)
        rows = np.repeat(np.arange(b1 - b0), block_lengths)
        # Duplicate (row, word) pairs are summed into counts.
        block = sp.csr_matrix(
            (np.ones(rows.size), (rows, cols)), shape=(b1 - b0, n_features)
        )
        block.sum_duplicates()
        blocks.append(block)

    X = blocks[0] if len(blocks) == 1 else sp.vstack(blocks, format="csr")
    X = X[np.argsort(order)]
    if not return_params:
        return X, y
    params = {
        "class_prior": class_prior,
        "component_weights": component_weights,
        "feature_prob": theta,
        "component_class": component_class,
    }
    return X, y, params
