"""Input checks shared by the estimators: X, y with -1 for unlabeled rows.

Everything here raises ``ValueError``/``TypeError`` with a message that names
the problem, so that nothing malformed ever reaches a Numba kernel.
"""

import numbers

import numpy as np
import scipy.sparse as sp
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (_check_sample_weight, check_array,
                                      check_non_negative, column_or_1d,
                                      validate_data)

from . import _kernels
from ._events import event_class
from ._kernels import checked_csr, to_kernel_csr

UNLABELED = -1
# What event_model="auto" takes for counts and for other (real) input.
AUTO_MODELS = {True: "multinomial", False: "gaussian"}
NO_LABELS = ("y has no labeled rows: every entry is -1 (unlabeled). At least "
             "one labeled row per class to be learned is needed.")


def check_input(estimator, X, event_model, *, reset):
    """Validate X for an event model (``"auto"`` resolved on X first).

    Returns ``(X, event_model)``. X must be finite everywhere. Sparse input
    is returned as canonical CSR float64 with int32 indices, dense input as
    a float64 array. Count models reject negative values; the dense models
    reject sparse input (embeddings are dense).
    """
    fast = _checked_sparse(X, event_model)
    if fast is not None:
        validate_data(estimator, fast[0], skip_check_array=True, reset=reset)
        return fast
    check_sparse_structure(X)
    X = validate_data(estimator, X, accept_sparse="csr", dtype=np.float64,
                      reset=reset)
    return check_for_model(type(estimator).__name__, X, event_model)


def check_for_model(name, X, event_model):
    """``(X, event_model)`` for an array X (validated but for what the event
    model asks of it; ``name``: the estimator, for the messages)."""
    event_model = resolve_event_model(X, event_model)
    model = event_class(event_model)
    if model.non_negative:
        check_non_negative(X, f"{name} (input X)")
    if not model.sparse_input and sp.issparse(X):
        raise TypeError(
            f"{name}: the {event_model} event model needs dense X (e.g. "
            "sentence embeddings), got a sparse matrix. Use "
            "event_model='multinomial' or 'bernoulli' for counts, or pass "
            "X.toarray().")
    if sp.issparse(X):
        X = to_kernel_csr(X)
    return X, event_model


def _checked_sparse(X, event_model):
    """``(X, event_model)`` for CSR input that one pass over its arrays
    (:func:`probssl._kernels.checked_csr`) finds fit for the model, None
    for any other input and wherever that pass found something: then the
    full checks run, and raise their errors."""
    if not (sp.issparse(X) and X.format == "csr" and len(X.shape) == 2):
        return None
    event_model = resolve_event_model(X, event_model)
    model = event_class(event_model)
    if not model.sparse_input:
        return None
    X = checked_csr(X, model.non_negative, model.column_order)
    return None if X is None else (X, event_model)


def check_sparse_structure(X):
    """A malformed CSR/CSC matrix (an index out of range, a decreasing
    ``indptr``) is refused before any conversion or kernel reads it."""
    if sp.issparse(X) and X.format in ("csr", "csc", "bsr"):
        try:
            X.check_format(full_check=True)
        except ValueError as exc:
            raise ValueError(f"X is a malformed {X.format.upper()} sparse "
                             f"matrix of shape {X.shape}: {exc}.") from None


def looks_like_counts(X):
    """Whether X is sparse or non-negative integer-valued (what
    ``event_model="auto"`` models as counts)."""
    if sp.issparse(X):
        return True
    X = np.asarray(X)
    return bool(X.size and X.min() >= 0 and np.all(X == np.floor(X)))


def resolve_event_model(X, event_model):
    """``"auto"``: multinomial for sparse or non-negative integer-valued
    dense X, Gaussian for other (real-valued) dense X."""
    if event_model != "auto":
        return event_model
    return AUTO_MODELS[looks_like_counts(X)]


def _split_labels(y):
    """``(y, unlabeled mask, labels of the labeled rows)``: -1 (or "-1" in
    text labels) marks an unlabeled row; labels must be of one kind."""
    y = column_or_1d(np.asarray(y), warn=True)
    if y.dtype.kind == "f" and np.isnan(y).any():
        raise ValueError("y contains NaN; mark unlabeled rows with -1, not "
                         "NaN.")
    if y.dtype.kind == "O":
        unlabeled = np.array([(isinstance(v, numbers.Number) and v == -1)
                              or v == "-1" for v in y], dtype=bool)
    else:
        unlabeled = y == ("-1" if y.dtype.kind in "US" else UNLABELED)
    labeled = y[~unlabeled]
    if labeled.dtype == object:
        kinds = {isinstance(v, str) for v in labeled}
        if len(kinds) > 1:
            raise TypeError("y mixes text and numeric labels (besides the "
                            "unlabeled marker -1); use one kind of label.")
        labeled = np.asarray(labeled.tolist())
    return y, unlabeled, labeled


def labels_of(y):
    """The labels seen on the labeled rows of ``y`` (sorted, unique)."""
    return np.unique(_split_labels(y)[2])


def unlabeled_mask(y):
    """Boolean mask of the rows of ``y`` marked unlabeled (-1)."""
    return _split_labels(y)[1]


def merge_labels(parts):
    """Sorted union of :func:`labels_of` results (one per block)."""
    labels = [p for p in parts if p.size]
    if not labels:
        raise ValueError(NO_LABELS)
    classes = np.unique(np.concatenate(labels))
    check_classification_targets(classes)
    return classes


def check_n_rows(n_rows, name, n):
    """Refuse ``n`` entries of ``name`` (y, sample_weight) for ``n_rows``
    rows of X."""
    if n != n_rows:
        raise ValueError(f"X and {name} have inconsistent numbers of rows: "
                         f"X has {n_rows}, {name} has {n}.")


def check_semi_supervised_y(y, n_samples):
    """``(classes, y_index)``: the sorted labels seen on labeled rows, and
    every row's index into them (-1 for unlabeled rows)."""
    y = column_or_1d(np.asarray(y), warn=True)
    check_n_rows(n_samples, "y", y.shape[0])
    classes = merge_labels([labels_of(y)])
    return classes, encode_known_labels(classes, y)


def encode_known_labels(classes, y):
    """Map labels to indices into ``classes``; -1 rows map to -1.

    Raises ``ValueError`` naming any label that was not seen at fit time.
    """
    y, unlabeled, labeled = _split_labels(y)
    idx = np.clip(np.searchsorted(classes, labeled), 0, len(classes) - 1)
    unseen = classes[idx] != labeled
    if np.any(unseen):
        raise ValueError(
            f"y contains labels not seen during fit: "
            f"{np.unique(labeled[unseen])[:10].tolist()}; known classes are "
            f"{classes.tolist()} (and -1 for unlabeled).")
    y_index = np.full(y.shape[0], UNLABELED, dtype=np.int64)
    y_index[~unlabeled] = idx
    return y_index


def check_sample_weight(sample_weight, X):
    """Non-negative float64 weights of shape (n_samples,)."""
    return _check_sample_weight(sample_weight, X, dtype=np.float64,
                                ensure_non_negative=True)


def check_block(name, X, y, sample_weight, classes, event_model, n_features):
    """One block of rows, checked as ``fit`` checks its input (``name``: the
    estimator's): returns ``(X, y_index, sample_weight)``, ``y_index`` -1 on
    unlabeled rows."""
    fast = _checked_sparse(X, event_model)
    if fast is None:
        check_sparse_structure(X)
        X = check_array(X, accept_sparse="csr", dtype=np.float64)
    if X.shape[1] != n_features:
        raise ValueError(f"X has {X.shape[1]} features, but {name} is "
                         f"expecting {n_features} features as input.")
    X = fast[0] if fast is not None else check_for_model(name, X,
                                                         event_model)[0]
    check_n_rows(X.shape[0], "y", np.shape(y)[0])
    if sample_weight is not None and np.size(sample_weight) == X.shape[0] \
            and not np.any(np.asarray(sample_weight) != 0):
        return X, encode_known_labels(classes, y), np.zeros(X.shape[0])
    return X, encode_known_labels(classes, y), check_sample_weight(
        sample_weight, X)


def scored_rows(classes, y, n_rows, sample_weight=None):
    """``(y_index, rows, sample_weight)`` of the labeled rows that ``score``
    counts; y and sample_weight must have one entry per row of X."""
    y_index = encode_known_labels(classes, y)
    check_n_rows(n_rows, "y", y_index.shape[0])
    rows = np.flatnonzero(y_index >= 0)
    if sample_weight is not None:
        check_n_rows(n_rows, "sample_weight", np.shape(sample_weight)[0])
        sample_weight = np.asarray(sample_weight, dtype=np.float64)[rows]
    if not rows.size:
        raise ValueError("score needs at least one labeled row (y != -1).")
    return y_index[rows], rows, sample_weight


def check_not_dask(estimator, *arrays):
    """A clear error for Dask input to an estimator that cannot take it."""
    for a in arrays:
        if type(a).__module__.startswith("dask."):
            raise TypeError(
                f"{type(estimator).__name__} does not fit Dask arrays; "
                "EMNaiveBayes and MixtureOfExperts do (or pass "
                "X.compute()).")
