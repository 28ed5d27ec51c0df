"""One engine, three places for the rows: in memory, chunks, Dask.

For EMNaiveBayes and MixtureOfExperts, every event model and every start,
``fit`` on the whole data, ``fit_chunks`` over chunks written by
``write_npz_chunks`` (sparse and dense) and ``fit`` on Dask arrays give the
same model (1e-8), since starts are drawn from each row's position and the
passes are sums of the same per-block statistics.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal

from _helpers import assert_same_model
from probssl import EMNaiveBayes, MixtureOfExperts
from probssl.chunked import NpzChunks, write_npz_chunks
from probssl.datasets import make_multinomial_mixture

TOL = 1e-8


@pytest.fixture(scope="module")
def counts():
    X, y = make_multinomial_mixture(n_samples=1200, n_features=150,
                                    n_classes=3, doc_length=40,
                                    random_state=0)
    rng = np.random.RandomState(0)
    y = np.where(rng.rand(y.size) < 0.05, y, -1)
    y[:3] = [0, 1, 2]
    w = rng.uniform(0.2, 2.0, y.size)
    w[::17] = 0.0
    return sp.csr_matrix(X), y, w


@pytest.fixture(scope="module")
def reals():
    rng = np.random.RandomState(1)
    centers = rng.randn(6, 8) * 3
    z = rng.randint(6, size=900)
    X = centers[z] + rng.randn(900, 8)
    y = np.where(rng.rand(900) < 0.05, z % 3, -1)
    y[:3] = [0, 1, 2]
    return X, y, rng.uniform(0.5, 1.5, 900)


CASES = [
    (EMNaiveBayes, "multinomial", dict(alpha=0.1)),
    (EMNaiveBayes, "multinomial", dict(n_components_per_class=2,
                                       unlabeled_weight=0.5, random_state=0)),
    (EMNaiveBayes, "bernoulli", dict(n_components_per_class=2,
                                     random_state=1)),
    (EMNaiveBayes, "gaussian", dict(n_components_per_class=2,
                                    random_state=2)),
    (MixtureOfExperts, "multinomial", dict(n_components=6, init="labeled",
                                           n_init=2, random_state=0)),
    (MixtureOfExperts, "multinomial", dict(n_components=5, init="kmeans",
                                           algorithm="em2", random_state=0)),
    (MixtureOfExperts, "multinomial", dict(n_components=4, init="random",
                                           random_state=0)),
    (MixtureOfExperts, "bernoulli", dict(n_components=4, init="kmeans",
                                         random_state=0)),
    (MixtureOfExperts, "bernoulli", dict(n_components=6, init="labeled",
                                         n_init=2, random_state=2)),
    (MixtureOfExperts, "bernoulli", dict(n_components=5, init="random",
                                         algorithm="em2", random_state=1)),
    (MixtureOfExperts, "gaussian", dict(n_components=6, init="kmeans",
                                        random_state=0)),
    (MixtureOfExperts, "gaussian", dict(n_components=6, init="random",
                                        n_init=2, random_state=0)),
    (MixtureOfExperts, "gaussian", dict(n_components=6, init="labeled",
                                        algorithm="em2", random_state=3)),
]


def fit_both(cls, model, params, data, tmp_path, dense_chunks, rows=250):
    X, y, w = data
    est = cls(event_model=model, max_iter=40, tol=1e-10, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence, dropped components
        a = est.fit(X, y, sample_weight=w)
        Xc = X.toarray() if dense_chunks and sp.issparse(X) else X
        write_npz_chunks(tmp_path, Xc, y, rows, sample_weight=w)
        b = cls(**est.get_params()).fit_chunks(NpzChunks(tmp_path))
    return a, b


@pytest.mark.parametrize("cls, model, params", CASES)
def test_chunks_equal_in_memory(cls, model, params, counts, reals, tmp_path):
    data = reals if model == "gaussian" else counts
    a, b = fit_both(cls, model, params, data, tmp_path,
                    dense_chunks=model == "bernoulli")
    assert a.n_iter_ > 2
    assert_same_model(a, b, TOL)
    X = data[0]
    assert_allclose(b.predict_proba(X), a.predict_proba(X), atol=TOL)


def test_dense_and_sparse_chunks_of_counts_agree(counts, tmp_path):
    a, b = fit_both(MixtureOfExperts, "multinomial",
                    dict(n_components=5, init="kmeans", random_state=0),
                    counts, tmp_path / "dense", dense_chunks=True, rows=400)
    assert_same_model(a, b, TOL)
    assert len(NpzChunks(tmp_path / "dense")) == 3


def test_auto_means_the_same_model_on_every_path(reals, tmp_path):
    X, y, _ = reals
    write_npz_chunks(tmp_path, X, y, 300)
    a = EMNaiveBayes().fit(X, y)
    b = EMNaiveBayes().fit_chunks(NpzChunks(tmp_path))
    assert a.event_model_ == b.event_model_ == "gaussian"
    assert_same_model(a, b, TOL)


@pytest.mark.parametrize("cls, model, params", CASES)
def test_dask_equals_in_memory(cls, model, params, counts, reals):
    da = pytest.importorskip("dask.array")
    X, y, w = reals if model == "gaussian" else counts
    est = cls(event_model=model, max_iter=40, tol=1e-10, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = est.fit(X, y, sample_weight=w)
        Xd = da.from_array(X, chunks=(300, -1), asarray=False)
        b = cls(**est.get_params()).fit(Xd, da.from_array(y, chunks=300),
                                        da.from_array(w, chunks=300))
    assert_same_model(a, b, TOL)


@pytest.mark.parametrize("cls, params", [
    (EMNaiveBayes, dict(alpha=0.1)),
    (MixtureOfExperts, dict(n_components=5, init="kmeans", random_state=0)),
])
def test_warm_start_continues_from_the_fitted_parameters(cls, params, counts):
    X, y, w = counts
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cold = cls(tol=1e-12, max_iter=500, **params).fit(X, y)
        warm = cls(tol=1e-12, max_iter=500, warm_start=True, **params)
        warm.fit(X, y)
        first = warm.n_iter_
        warm.fit(X, y)  # from the converged parameters: EM stays there
    assert warm.n_iter_ < first
    assert warm.lower_bound_ >= cold.lower_bound_ - 1e-9 * abs(
        cold.lower_bound_)
    assert_allclose(warm.predict_proba(X), cold.predict_proba(X), atol=1e-6)
    if cls is MixtureOfExperts:
        return  # with new labels its starts may reach other local optima
    # More labels: the warm start refits from the previous model.
    y2 = y.copy()
    y2[3:60] = np.where(y2[3:60] >= 0, y2[3:60], 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        warm.fit(X, y2)
        ref = cls(tol=1e-12, max_iter=500, **params).fit(X, y2)
    assert (warm.predict(X) == ref.predict(X)).mean() > 0.95


def test_random_starts_do_not_depend_on_the_blocking(counts):
    from probssl._mixing import row_uniforms

    rows = np.arange(100)
    whole = row_uniforms(7, 1, rows, 3)
    parts = np.vstack([row_uniforms(7, 1, rows[:37], 3),
                       row_uniforms(7, 1, rows[37:], 3)])
    assert_array_equal(whole, parts)
    assert 0 < whole.min() and whole.max() < 1
    assert not np.array_equal(row_uniforms(8, 1, rows, 3), whole)
    assert not np.array_equal(row_uniforms(7, 2, rows, 3), whole)
