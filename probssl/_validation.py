"""Input checks shared by the estimators: X, y with -1 for unlabeled rows.

Everything here raises ``ValueError``/``TypeError`` with a message that names
the problem, so that nothing malformed ever reaches a Numba kernel.
"""

import numbers

import numpy as np
import scipy.sparse as sp
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_sample_weight,
    check_non_negative,
    column_or_1d,
    validate_data,
)

UNLABELED = -1
NO_LABELS = ("y has no labeled rows: every entry is -1 (unlabeled). At least "
             "one labeled row per class to be learned is needed.")


def check_input(estimator, X, event_model, *, reset):
    """Validate X for an event model (``"auto"`` resolved on X first).

    Returns ``(X, event_model)``. X must be finite everywhere. Sparse input is returned as canonical CSR float64 with int32 indices,
    dense input as a float64 array. Count models reject negative values;
    the Gaussian model rejects sparse input (embeddings are dense).
    """
    X = validate_data(
        estimator,
        X,
        accept_sparse="csr",
        dtype=np.float64,
        reset=reset,
    )
    name = type(estimator).__name__
    event_model = resolve_event_model(X, event_model)
    if event_model == "multinomial":
        check_non_negative(X, f"{name} (input X)")
    elif event_model == "gaussian" and sp.issparse(X):
        raise TypeError(
            f"{name}: the gaussian event model needs dense X (e.g. sentence "
            "embeddings), got a sparse matrix. Use event_model='multinomial' "
            "or 'bernoulli' for counts, or pass X.toarray()."
        )
    if sp.issparse(X):
        X = to_kernel_csr(X)
    return X, event_model


def resolve_event_model(X, event_model):
    """``"auto"``: multinomial for sparse or non-negative integer-valued
    dense X, Gaussian for other (real-valued) dense X."""
    if event_model != "auto":
        return event_model
    if sp.issparse(X):
        return "multinomial"
    X = np.asarray(X)
    if X.size and X.min() >= 0 and np.all(X == np.floor(X)):
        return "multinomial"
    return "gaussian"


def to_kernel_csr(X):
    """Return X as canonical CSR float64 with int32 index arrays."""
    X = sp.csr_matrix(X, dtype=np.float64)
    if not X.has_canonical_format:
        X = X.copy()
        X.sum_duplicates()
    if X.indices.dtype != np.int32 and X.nnz < np.iinfo(np.int32).max:
        X = sp.csr_matrix(
            (X.data, X.indices.astype(np.int32), X.indptr.astype(np.int64)),
            shape=X.shape,
        )
    return X


def _unlabeled_mask(y):
    """Boolean mask of the rows marked -1 (works for object-dtype y too)."""
    if y.dtype.kind in "US":
        # Text labels cannot be -1; rows would need object dtype to mix.
        return np.zeros(y.shape[0], dtype=bool)
    if y.dtype.kind == "O":
        return np.array(
            [isinstance(v, numbers.Number) and v == UNLABELED for v in y],
            dtype=bool,
        )
    return y == UNLABELED


def check_semi_supervised_y(y, n_samples):
    """Split y into classes and an index per row (-1 for unlabeled rows).

    Returns
    -------
    classes : ndarray of shape (n_classes,)
        Sorted labels seen on labeled rows.
    y_index : ndarray of shape (n_samples,), int64
        Index into ``classes`` for labeled rows, -1 for unlabeled rows.
    """
    y = column_or_1d(y, warn=True)
    if y.shape[0] != n_samples:
        raise ValueError(
            f"X and y have inconsistent numbers of rows: X has {n_samples}, "
            f"y has {y.shape[0]}."
        )
    if y.dtype.kind == "f" and np.isnan(y).any():
        raise ValueError(
            "y contains NaN; mark unlabeled rows with -1, not NaN."
        )
    unlabeled = _unlabeled_mask(y)
    labeled_y = y[~unlabeled]
    if labeled_y.shape[0] == 0:
        raise ValueError(NO_LABELS)
    if labeled_y.dtype == object:
        # Unlabeled -1 markers removed, the rest must be one kind of label.
        labeled_y = np.asarray(labeled_y.tolist())
    check_classification_targets(labeled_y)
    classes, labeled_index = np.unique(labeled_y, return_inverse=True)
    y_index = np.full(n_samples, UNLABELED, dtype=np.int64)
    y_index[~unlabeled] = labeled_index
    return classes, y_index


def encode_known_labels(classes, y):
    """Map labels to indices into ``classes``; -1 rows map to -1.

    Raises ``ValueError`` naming any label that was not seen at fit time.
    """
    y = column_or_1d(y, warn=True)
    unlabeled = _unlabeled_mask(y)
    labeled_y = y[~unlabeled]
    if labeled_y.dtype == object:
        labeled_y = np.asarray(labeled_y.tolist())
    idx = np.searchsorted(classes, labeled_y) if labeled_y.size else labeled_y
    idx = np.clip(idx, 0, len(classes) - 1)
    unseen = classes[idx] != labeled_y if labeled_y.size else np.array([])
    if np.any(unseen):
        bad = np.unique(labeled_y[unseen])
        raise ValueError(
            f"y contains labels not seen during fit: {bad[:10].tolist()}; "
            f"known classes are {classes.tolist()} (and -1 for unlabeled)."
        )
    y_index = np.full(y.shape[0], UNLABELED, dtype=np.int64)
    y_index[~unlabeled] = idx
    return y_index


def check_sample_weight(sample_weight, X):
    """Non-negative float64 weights of shape (n_samples,)."""
    return _check_sample_weight(
        sample_weight, X, dtype=np.float64, ensure_non_negative=True
    )


def labels_of(y):
    """The labels seen on the labeled rows of ``y`` (sorted, unique)."""
    y = column_or_1d(np.asarray(y), warn=True)
    labeled_y = y[~_unlabeled_mask(y)]
    if labeled_y.dtype == object:
        labeled_y = np.asarray(labeled_y.tolist())
    return np.unique(labeled_y)


def merge_labels(parts):
    """Sorted union of :func:`labels_of` results (one per block)."""
    labels = [p for p in parts if p.size]
    if not labels:
        raise ValueError(NO_LABELS)
    classes = np.unique(np.concatenate(labels))
    check_classification_targets(classes)
    return classes


def check_block(estimator, X, y, sample_weight, classes, event_model, *,
                reset=False):
    """One block of rows, checked as ``fit`` checks its input: returns
    ``(X, y_index, sample_weight)``, ``y_index`` -1 on unlabeled rows."""
    X, _ = check_input(estimator, X, event_model, reset=reset)
    y = column_or_1d(np.asarray(y), warn=True)
    if y.shape[0] != X.shape[0]:
        raise ValueError(
            f"X and y have inconsistent numbers of rows: X has {X.shape[0]}, "
            f"y has {y.shape[0]}."
        )
    if y.dtype.kind == "f" and np.isnan(y).any():
        raise ValueError("y contains NaN; mark unlabeled rows with -1, not "
                         "NaN.")
    if sample_weight is not None and np.size(sample_weight) == X.shape[0] \
            and not np.any(np.asarray(sample_weight) != 0):
        return X, encode_known_labels(classes, y), np.zeros(X.shape[0])
    return X, encode_known_labels(classes, y), check_sample_weight(
        sample_weight, X)
