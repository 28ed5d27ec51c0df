"""Helpers shared by the tests: quiet fits, synthetic documents and
comparisons of fitted models (imported as ``from _helpers import ...``;
pytest puts tests/ on the path)."""

import io
import tarfile
import warnings
from operator import attrgetter

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning


def fit_quiet(est, *args, **kw):
    """``est.fit(*args, **kw)`` without convergence warnings."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(*args, **kw)


# -- synthetic documents ----------------------------------------------------------
def make_theta(rng, n_classes, n_features, concentration=0.5):
    """Word distributions (n_classes, n_features): Dirichlet, floored and
    renormalised so that every word has some probability in every class."""
    theta = rng.dirichlet(np.full(n_features, concentration), size=n_classes)
    theta += 1e-3 / n_features
    return theta / theta.sum(axis=1, keepdims=True)


def sample_docs(rng, theta, labels, mean_length=10):
    """Documents of the given classes (rows of theta); lengths Poisson
    with mean ``mean_length``.

    Returns a CSR float64 count matrix of shape (len(labels), V).
    """
    labels = np.asarray(labels)
    lengths = rng.poisson(mean_length, size=labels.shape[0])
    X = np.zeros((labels.shape[0], theta.shape[1]))
    for i, (n, k) in enumerate(zip(lengths, labels)):
        X[i] = rng.multinomial(n, theta[k])
    return sp.csr_matrix(X)


def assert_same_fit(a, b, names, atol=0.0, rtol=0.0, bounds_rtol=None,
                    optional=()):
    """The attributes ``names`` of two fitted models agree: exactly, or for
    floats within ``atol`` / ``rtol`` of ``a``'s.

    A name may be dotted (``"events_.log_theta"``). ``bounds_rtol``, if
    given, compares the objective (``lower_bound_``, ``lower_bounds_``)
    relatively instead: a sum over all rows, it has no natural absolute
    scale. The ``optional`` names are compared where ``a`` has them (``b``
    must then have them too), for models whose attributes depend on their
    event model.
    """
    names = list(names) + [n for n in optional if hasattr(a, n)]
    for name in names:
        va, vb = attrgetter(name)(a), attrgetter(name)(b)
        tol = dict(atol=atol, rtol=rtol)
        if bounds_rtol is not None and name.startswith("lower_bound"):
            tol = dict(atol=0.0, rtol=bounds_rtol)
        if tol == dict(atol=0.0, rtol=0.0) or np.asarray(va).dtype.kind != "f":
            assert_array_equal(vb, va, err_msg=name)
        else:
            assert_allclose(vb, va, err_msg=name, **tol)


MODEL_ATTRIBUTES = ("lower_bounds_", "class_table_", "weights_", "means_",
                    "variances_", "component_feature_log_prob_")


def assert_same_model(a, b, tol):
    """Two EM fits are the same model: iterations, event model, classes,
    and every parameter that the model has (the component priors as
    probabilities: the log of a vanished component's is rounding noise)."""
    assert a.n_iter_ == b.n_iter_
    assert a.event_model_ == b.event_model_
    assert_array_equal(a.classes_, b.classes_)

    def fitted(est):
        out = {n: getattr(est, n) for n in MODEL_ATTRIBUTES if hasattr(est, n)}
        if hasattr(est, "component_log_prior_"):
            out["prior"] = np.exp(est.component_log_prior_)
        return out

    fa, fb = fitted(a), fitted(b)
    assert fa.keys() == fb.keys()
    for name in fa:
        assert_allclose(fb[name], fa[name], rtol=tol, atol=tol, err_msg=name)


@pytest.fixture(autouse=True)
def one_blas_thread():
    """One BLAS thread for every test of a module that imports this
    fixture: d x d products, Cholesky and QR factors of a few hundred
    dimensions wait for OpenBLAS's threads when the machine's cores are
    busy (test_covariances' high-dimension test: 28 s against 2.6 s;
    test_vmf's: 7.4 s against 0.16 s), same results."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1, user_api="blas"):
        yield


def weighted_counts(n_samples, n_features):
    """Documents of 4 classes (2 mixture components each), 10 % labeled,
    with sample weights in [0, 2) and every 17th row of weight 0 (left out,
    as fit leaves it out). Returns ``(X, y, w)``."""
    from probssl.datasets import make_multinomial_mixture

    X, y = make_multinomial_mixture(
        n_samples=n_samples, n_features=n_features, n_classes=4,
        n_components_per_class=2, concentration=1.0, doc_length=20,
        random_state=0)
    rng = np.random.RandomState(1)
    y = y.copy()
    y[rng.rand(y.size) > 0.1] = -1
    w = rng.uniform(0.0, 2.0, y.size)
    w[::17] = 0.0
    return X, y, w


def few_labels_on_sparse_columns(n_samples, n_features, per_class=10):
    """Sparse documents of 3 classes on many columns with ``per_class``
    labeled rows a class (the rest -1): the hybrid safeguard's hard case.
    Returns ``(X, y, y_true)``."""
    import scipy.sparse as sp

    from probssl.datasets import make_multinomial_mixture

    X, y_true = make_multinomial_mixture(n_samples=n_samples,
                                         n_features=n_features, n_classes=3,
                                         doc_length=50, random_state=0)
    lab = np.concatenate([np.flatnonzero(y_true == c)[:per_class]
                          for c in range(3)])
    y = np.full(y_true.size, -1)
    y[lab] = y_true[lab]
    return sp.csr_matrix(X), y, y_true


def write_tiny_archive(path, per_group=(12, 5)):
    """A small bydate-style archive of real posts (the shipped sample):
    ``per_group`` train and test posts for each of the 20 groups."""
    from probssl.datasets import load_demo_sample

    train, test = load_demo_sample()
    with tarfile.open(path, "w:gz") as tar:
        for folder, bunch, n in (("20news-bydate-train", train, per_group[0]),
                                 ("20news-bydate-test", test, per_group[1])):
            seen = {}
            for text, t in zip(bunch.data, bunch.target):
                group = bunch.target_names[t]
                k = seen.get(group, 0)
                if k >= n:
                    continue
                seen[group] = k + 1
                data = ("From: someone@example.com\nSubject: a post\n\n"
                        + text).encode("latin-1", "replace")
                info = tarfile.TarInfo(f"{folder}/{group}/{k + 1}")
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return str(path)
