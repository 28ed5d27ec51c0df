"""The von Mises–Fisher event model (probssl._vmf), issue 17.

Bessel functions and the normaliser against closed forms and SciPy; the
concentration's equation; parameters recovered from draws of known vMF
mixtures (scipy.stats.vonmises_fisher); EM's objective; every estimator;
out of core = in memory; d = 384 and kappa up to 1e4; bad rows; pickling.
"""

import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose
from scipy.special import iv
from scipy.stats import vonmises_fisher
from sklearn.exceptions import ConvergenceWarning

from _helpers import fit_quiet, one_blas_thread  # noqa: F401 (fixture)
from probssl import CoTraining, EMNaiveBayes, HybridClassifier, \
    MixtureOfExperts, MultiView
from probssl._vmf import (VMFEvents, log_bessel_iv, log_normalizer,
                          mean_resultant, solve_concentration)
from probssl.chunked import NpzChunks, write_npz_chunks


def vmf_mixture(seed=0, C=3, d=10, kappas=(20.0, 50.0, 100.0), n=3000,
                n_lab=20):
    rng = np.random.default_rng(seed)
    mus = rng.normal(size=(C, d))
    mus /= np.linalg.norm(mus, axis=1, keepdims=True)
    y = rng.integers(0, C, n)
    X = np.empty((n, d))
    for c in range(C):
        rows = np.flatnonzero(y == c)
        X[rows] = vonmises_fisher(mus[c], kappas[c]).rvs(
            rows.size, random_state=seed + c)
    y_ssl = np.full(n, -1)
    for c in range(C):
        y_ssl[np.flatnonzero(y == c)[:n_lab]] = c
    return X, y_ssl, y, mus, np.asarray(kappas)


# -- 1. Bessel functions and the normaliser -----------------------------------------
def test_log_bessel_against_scipy_and_series():
    kappa = np.array([1e-3, 0.5, 3.0, 30.0, 300.0])
    for nu in (0.5, 4.0, 191.0):
        with np.errstate(divide="ignore"):
            ref = np.log(iv(nu, kappa))
        ok = np.isfinite(ref) & (ref > -700)
        assert_allclose(log_bessel_iv(nu, kappa)[ok], ref[ok], rtol=1e-12)
    # where ive underflows the power series takes over, continuously
    k = np.linspace(0.01, 40, 400)
    vals = log_bessel_iv(191.0, k)
    assert np.isfinite(vals).all() and np.all(np.diff(vals) > 0)


def test_log_normalizer_closed_form_d3_and_large():
    # d = 3: C_3(kappa) = kappa / (4 pi sinh kappa)
    k = np.array([1e-4, 0.1, 1.0, 10.0, 300.0])
    expected = np.log(k) - np.log(4 * np.pi) - (k + np.log1p(-np.exp(-2 * k))
                                                 - np.log(2))
    assert_allclose(log_normalizer(3, k), expected, rtol=1e-10)
    k = np.array([1e-8, 1e-3, 1.0, 10.0, 100.0, 1e3, 1e4, 1e6])
    for d in (384, 768):
        v = log_normalizer(d, k)
        assert np.isfinite(v).all()
        # the density integrates to 1: at kappa -> 0, the sphere's area
        area = np.log(2) + (d / 2) * np.log(np.pi) - \
            __import__("scipy.special", fromlist=["gammaln"]).gammaln(d / 2)
        assert_allclose(v[0], -area, rtol=1e-9)


@pytest.mark.parametrize("d", [3, 50, 384])
def test_concentration_solves_the_ml_equation(d):
    rbar = np.array([1e-4, 0.05, 0.3, 0.6, 0.9, 0.99, 0.9999])
    kappa = solve_concentration(d, rbar)
    assert_allclose(mean_resultant(d, kappa), rbar, rtol=1e-9)
    # The ML equation at kappa up to 1e4 in 384 dimensions.
    k = np.array([10.0, 1e3, 1e4])
    assert_allclose(solve_concentration(384, mean_resultant(384, k)), k,
                    rtol=1e-8)


# -- 2. known truth -------------------------------------------------------------------
@pytest.mark.parametrize("shared", [False, True])
def test_recovers_known_mixture(shared):
    # 20 labels per class, 2,940 unlabeled rows. Tolerances: directions
    # within cosine 0.995 of the truth, kappa within 10 % (the sampling
    # error of kappa at ~1,000 rows is 2-3 %).
    kappas = (60.0, 60.0, 60.0) if shared else (20.0, 50.0, 100.0)
    X, y, y_true, mus, kap = vmf_mixture(seed=1, kappas=kappas)
    em = EMNaiveBayes(event_model="vmf",
                      covariance_type="tied" if shared else "diag").fit(X, y)
    assert em.converged_
    cos = (em.means_ * mus).sum(axis=1)
    assert cos.min() > 0.995
    assert_allclose(em.concentrations_, kap, rtol=0.1)
    if shared:
        assert np.ptp(em.concentrations_) == 0
    assert em.score(X, y_true) > 0.95


@pytest.mark.parametrize("M", [1, 2])
def test_objective_never_decreases(M):
    X, y, _, _, _ = vmf_mixture(seed=2, kappas=(5.0, 8.0, 10.0), n=800,
                                n_lab=3)
    em = fit_quiet(EMNaiveBayes(event_model="vmf", tol=0, max_iter=40,
                                n_components_per_class=M, random_state=0),
                   X, y)
    assert np.diff(em.lower_bounds_).min() >= -1e-10 * abs(
        em.lower_bounds_[-1])
    moe = fit_quiet(MixtureOfExperts(n_components=3 * M, event_model="vmf",
                                     init="kmeans", tol=0, max_iter=40,
                                     random_state=0), X, y)
    assert np.diff(moe.lower_bounds_).min() >= -1e-10 * abs(
        moe.lower_bounds_[-1])


def test_high_dimension_and_large_kappa():
    # d = 384, kappa 1e4: nothing overflows, the model separates classes.
    X, y, y_true, mus, _ = vmf_mixture(seed=3, d=384, kappas=(1e4, 3e3, 500),
                                       n=300, n_lab=5)
    X[:, 0] = 0.0  # a constant feature (then renormalised)
    from sklearn.preprocessing import normalize
    X = normalize(X)
    em = EMNaiveBayes(event_model="vmf").fit(X, y)
    assert np.isfinite(em.lower_bounds_).all()
    assert np.isfinite(em.predict_log_proba(X)).all()
    assert_allclose(em.concentrations_, [1e4, 3e3, 500], rtol=0.15)
    assert em.score(X, y_true) == 1.0


# -- 3. every estimator; sparse rows; out of core --------------------------------------
def test_estimators_and_sparse_rows():
    X, y, y_true, _, _ = vmf_mixture(seed=4, n=400)
    dense = EMNaiveBayes(event_model="vmf").fit(X, y)
    Xs = sp.csr_matrix(np.where(np.abs(X) > 0.2, X, 0.0))
    from sklearn.preprocessing import normalize
    Xs = normalize(Xs)
    a = EMNaiveBayes(event_model="vmf").fit(Xs, y)
    b = EMNaiveBayes(event_model="vmf").fit(Xs.toarray(), y)
    assert_allclose(a.means_, b.means_, rtol=1e-10, atol=1e-13)
    assert_allclose(a.concentrations_, b.concentrations_, rtol=1e-10)
    h = fit_quiet(HybridClassifier(event_model="vmf"), X, y)
    assert h.score(X, y_true) > 0.9
    cot = CoTraining(EMNaiveBayes(event_model="vmf"),
                     EMNaiveBayes(event_model="vmf"), max_iter=2,
                     random_state=0).fit(MultiView(X, X), y)
    assert cot.score(MultiView(X, X), y_true) > 0.9
    assert dense.score(X, y_true) > 0.9


def test_leave_one_out_equals_refit():
    X, _, y, _, _ = vmf_mixture(seed=5, n=40)
    w = np.random.default_rng(6).uniform(0.5, 2, 40)
    for shared in (False, True):
        ev = VMFEvents(shared)
        resp = np.zeros((40, 3))
        resp[np.arange(40), y] = w
        block = ev.prepare(X)
        stats = ev.new_stats(3, X.shape[1])
        ev.add_stats(stats, block, resp)
        full = ev.m_step(stats).log_prob(block)
        loo = ev.loo_log_prob(block, stats, y, w, full)
        for i in (0, 21):
            keep = np.arange(40) != i
            ref = VMFEvents(shared).fit(ev.prepare(X[keep]), resp[keep])
            expected = ref.log_prob(X[i:i + 1])[0]
            if shared:
                assert_allclose(loo[i], expected, rtol=1e-9)
            else:
                assert_allclose(loo[i, y[i]], expected[y[i]], rtol=1e-9)


@pytest.mark.parametrize("params", [
    dict(), dict(covariance_type="tied", n_components_per_class=2,
                 random_state=0)])
def test_chunks_equal_memory(tmp_path, params):
    X, y, _, _, _ = vmf_mixture(seed=7, n=600, n_lab=5)
    mem = fit_quiet(EMNaiveBayes(event_model="vmf", max_iter=30, **params),
                    X, y)
    write_npz_chunks(tmp_path, X, y, chunk_rows=128)
    disk = EMNaiveBayes(event_model="vmf", max_iter=30, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        disk.fit_chunks(NpzChunks(tmp_path))
    assert disk.n_iter_ == mem.n_iter_
    assert_allclose(disk.means_, mem.means_, rtol=1e-8, atol=1e-12)
    assert_allclose(disk.concentrations_, mem.concentrations_, rtol=1e-8)
    moe = dict(n_components=4, event_model="vmf", init="kmeans",
               random_state=0, max_iter=20)
    m1 = fit_quiet(MixtureOfExperts(**moe), X, y)
    m2 = MixtureOfExperts(**moe)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        m2.fit_chunks(NpzChunks(tmp_path))
    assert_allclose(m2.concentrations_, m1.concentrations_, rtol=1e-8)


# -- 4. bad rows, pickling ------------------------------------------------------------
def test_rows_not_unit_norm_raise():
    X, y, _, _, _ = vmf_mixture(seed=8, n=50)
    with pytest.raises(ValueError, match="unit-norm rows; row 3"):
        EMNaiveBayes(event_model="vmf").fit(np.where(
            np.arange(50)[:, None] == 3, 2 * X, X), y)
    em = EMNaiveBayes(event_model="vmf").fit(X, y)
    with pytest.raises(ValueError, match="normalize"):
        em.predict(X * 1.1)


def test_pickle():
    X, y, _, _, _ = vmf_mixture(seed=9, n=200)
    em = EMNaiveBayes(event_model="vmf").fit(X, y)
    again = pickle.loads(pickle.dumps(em))
    assert_allclose(again.predict_proba(X), em.predict_proba(X), rtol=0)
    assert_allclose(again.concentrations_, em.concentrations_, rtol=0)


def test_dense_rows_are_not_ordered_by_document_frequency(monkeypatch):
    """The column order by document frequency is for counts: for dense unit
    rows every column is non-zero, and counting them went through a sparse
    copy of X (0.47 s of a 0.54 s fit on the seed embeddings). In memory and
    out of core alike."""
    import probssl._sources

    def refused(X):
        raise AssertionError("document frequencies of dense vMF rows")

    X, _, y, _, _ = vmf_mixture(seed=1, n=300)
    y_semi = np.where(np.arange(y.size) % 10 == 0, y, -1)
    ref = fit_quiet(EMNaiveBayes(event_model="vmf"), X, y_semi)
    monkeypatch.setattr(probssl._sources, "document_frequency", refused)
    a = fit_quiet(EMNaiveBayes(event_model="vmf"), X, y_semi)
    assert_allclose(a.means_, ref.means_, rtol=1e-12, atol=1e-14)
    parts = [(X[i:i + 100], y_semi[i:i + 100]) for i in range(0, 300, 100)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        b = EMNaiveBayes(event_model="vmf").fit_chunks(parts)
    assert_allclose(b.means_, ref.means_, rtol=1e-8, atol=1e-10)
