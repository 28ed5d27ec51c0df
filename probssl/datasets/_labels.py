"""Hiding labels: the semi-supervised input (``-1`` = unlabeled) made from
a fully labeled target."""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import numpy as np
from sklearn.utils import check_random_state

from .._typing import ArrayLike, NDArray, RandomStateLike
from ._checks import _check_positive_int


def mask_labels(y: ArrayLike, n_labeled: int, per_class: bool = True,
                random_state: RandomStateLike = None) -> NDArray:
    """Hide all but a few labels, marking the rest unlabeled (``-1``).

    This turns a fully labeled target into the input expected by
    scikit-learn's semi-supervised estimators, where ``-1`` means
    "unlabeled".

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Class labels. Entries equal to ``-1`` are treated as already
        unlabeled and are never kept.

    n_labeled : int
        With ``per_class=True``, the number of labels kept in each class;
        otherwise the total number of labels kept.

    per_class : bool, default=True
        Whether to keep ``n_labeled`` labels of every class (a balanced
        labeled set) or ``n_labeled`` labels drawn uniformly at random
        from all labeled rows.

    random_state : int, RandomState instance or None, default=None
        Controls which rows keep their label. Pass an int for reproducible
        output.

    Returns
    -------
    y_masked : ndarray of shape (n_samples,)
        A copy of ``y`` with every label but the kept ones set to ``-1``.
        Signed integer and floating dtypes are kept, unsigned integers
        become int64 and other labels (strings, ...) become ``object``.

    Raises
    ------
    ValueError
        If ``n_labeled`` is not positive, or asks for more labels than a
        class (``per_class=True``) or ``y`` (``per_class=False``) has.
    TypeError
        If ``n_labeled`` is not an integer.

    Examples
    --------
    >>> import numpy as np
    >>> from probssl.datasets import mask_labels
    >>> y = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2])
    >>> y_masked = mask_labels(y, n_labeled=1, random_state=0)
    >>> np.bincount(y_masked[y_masked != -1])
    array([1, 1, 1])
    >>> int((y_masked == -1).sum())
    6
    """
    n_labeled = _check_positive_int(n_labeled, "n_labeled")
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"y must be 1-dimensional, got shape {y.shape}.")
    rng = check_random_state(random_state)

    if y.dtype.kind in "if":
        if y.dtype.kind == "f" and not np.all(np.isfinite(y)):
            raise ValueError("y contains NaN or infinite labels.")
        y_out = y.copy()
    elif y.dtype.kind == "u":
        y_out = y.astype(np.int64)
    else:
        y_out = y.astype(object)

    labeled = np.flatnonzero(y_out != -1)
    if labeled.size == 0:
        raise ValueError("y has no labeled rows (every entry is -1).")

    if per_class:
        classes, codes, counts = np.unique(
            y_out[labeled], return_inverse=True, return_counts=True
        )
        short = counts < n_labeled
        if np.any(short):
            details = ", ".join(
                f"class {c!r} has {n}"
                for c, n in zip(classes[short].tolist(), counts[short].tolist())
            )
            raise ValueError(
                f"Cannot keep n_labeled={n_labeled} labels per class: "
                f"{details} labeled rows."
            )
        # Shuffle the labeled rows, group them by class (stable, so each
        # group stays shuffled) and keep the first n_labeled of each group:
        # O(n log n) whatever the number of classes.
        perm = rng.permutation(labeled.size)
        order = perm[np.argsort(codes[perm], kind="stable")]
        starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
        rank = np.arange(labeled.size) - np.repeat(starts, counts)
        keep = labeled[order[rank < n_labeled]]
    else:
        if n_labeled > labeled.size:
            raise ValueError(
                f"Cannot keep n_labeled={n_labeled} labels: y has only "
                f"{labeled.size} labeled rows."
            )
        keep = rng.choice(labeled, size=n_labeled, replace=False)

    hidden = np.ones(y_out.shape[0], dtype=bool)
    hidden[keep] = False
    y_out[hidden] = -1
    return y_out


def labeled_unlabeled_split(y: ArrayLike, n_labeled: int, n_unlabeled: int,
                            random_state: RandomStateLike = None,
                            ) -> tuple[NDArray, NDArray]:
    """A balanced labeled set and a random unlabeled set, as row indices.

    The usual draw of a semi-supervised learning curve (Nigam et al. 2000):
    ``n_labeled / n_classes`` rows of every class keep their label
    (:func:`mask_labels`), then ``n_unlabeled`` of the remaining rows are
    drawn as the unlabeled set; the other rows are left out.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Class labels (every row labeled).
    n_labeled : int
        Labeled rows in all, a multiple of the number of classes.
    n_unlabeled : int
        Unlabeled rows, at most the rows left after the labeled ones.
    random_state : int, RandomState instance or None, default=None
        Draws both sets (the labeled set first, from the same generator).

    Returns
    -------
    labeled : ndarray of int
        Indices of the labeled rows, in row order.
    unlabeled : ndarray of int
        Indices of the unlabeled rows, in row order.

    Raises
    ------
    ValueError
        If ``n_labeled`` is not a multiple of the classes, or ``n_unlabeled``
        exceeds the rows left.

    Examples
    --------
    >>> import numpy as np
    >>> from probssl.datasets import labeled_unlabeled_split
    >>> y = np.repeat([0, 1, 2], 10)
    >>> lab, unl = labeled_unlabeled_split(y, 6, 12, random_state=0)
    >>> np.bincount(y[lab]).tolist(), len(unl), len(np.intersect1d(lab, unl))
    ([2, 2, 2], 12, 0)
    """
    classes = np.unique(y)
    if n_labeled % len(classes):
        raise ValueError(
            f"n_labeled={n_labeled} is not a multiple of the {len(classes)} "
            "classes (labeled documents are balanced over classes)."
        )
    rng = check_random_state(random_state)
    masked = mask_labels(y, n_labeled // len(classes), random_state=rng)
    labeled = np.flatnonzero(masked != -1)
    rest = np.flatnonzero(masked == -1)
    if n_unlabeled > rest.size:
        raise ValueError(
            f"n_unlabeled={n_unlabeled} exceeds the {rest.size} documents "
            "left after drawing the labeled ones."
        )
    unlabeled = rng.choice(rest, size=n_unlabeled, replace=False)
    return labeled, np.sort(unlabeled)
