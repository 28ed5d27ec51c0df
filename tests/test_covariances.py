"""Full and tied Gaussian covariances (probssl._gaussian), issue 17.

Checked against scikit-learn's GaussianMixture M-step and log-density, and
LinearDiscriminantAnalysis (tied, no unlabeled rows, same shrinkage);
parameters recovered from known mixtures; EM's objective; out of core =
in memory; numerical edge cases; estimator checks; pickling.
"""

import pickle
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture
from sklearn.mixture._gaussian_mixture import (_compute_precision_cholesky,
                                               _estimate_gaussian_parameters)

from _helpers import fit_quiet, one_blas_thread  # noqa: F401 (fixture)
from probssl import EMNaiveBayes, HybridClassifier, MixtureOfExperts
from probssl._events import GaussianEvents, make_event_model
from probssl._gaussian import FullGaussianEvents
from probssl.chunked import NpzChunks, write_npz_chunks


def mixture(seed=0, C=3, d=4, n=3000, n_lab=30, offset=0.0, tied=False,
            scale=3.0):
    """Rows from C Gaussians with known means and full covariances."""
    rng = np.random.default_rng(seed)
    means = rng.normal(scale=scale, size=(C, d)) + offset
    covs = []
    for _ in range(1 if tied else C):
        A = rng.normal(size=(d, d))
        covs.append(A @ A.T / d + 0.3 * np.eye(d))
    covs = np.array(covs if not tied else covs * C)
    y = rng.integers(0, C, n)
    X = np.stack([rng.multivariate_normal(means[c], covs[c]) for c in y])
    y_ssl = np.full(n, -1)
    for c in range(C):
        y_ssl[np.flatnonzero(y == c)[:n_lab]] = c
    return X, y_ssl, y, means, covs



# -- 1. GaussianMixture's M-step and log-density --------------------------------
@pytest.mark.parametrize("covariance_type", ["full", "tied"])
@pytest.mark.parametrize("offset", [0.0, 1e4])
def test_m_step_equals_gaussian_mixture(covariance_type, offset):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(400, 6)) * rng.uniform(0.5, 2, 6) + offset
    R = rng.dirichlet(np.ones(4), 400)
    # The reference on the data moved back to the origin: its tied
    # formula (X'X - sum_k n_k mu_k mu_k') cancels at an offset of 1e4.
    nk, means, covs = _estimate_gaussian_parameters(X - offset, R, 1e-6,
                                                    covariance_type)
    means = means + offset
    ev = FullGaussianEvents(covariance_type, 1e-6)
    # The first pass is about the origin (here: no source shift), the
    # second about the first pass's means: exact at any offset.
    for _ in range(2):
        stats = ev.new_stats(4, 6)
        ev.add_stats(stats, ev.prepare(X), R)
        ev.m_step(stats)
    assert_allclose(ev.means, means, rtol=1e-12, atol=1e-12 * (1 + offset))
    assert_allclose(ev.covariances, covs, rtol=1e-9, atol=1e-12)
    gm = GaussianMixture(4, covariance_type=covariance_type)
    gm.means_, gm.covariances_ = means - offset, covs
    gm.precisions_cholesky_ = _compute_precision_cholesky(covs,
                                                          covariance_type)
    assert_allclose(ev.log_prob(X), gm._estimate_log_prob(X - offset),
                    rtol=1e-9, atol=1e-8)


def test_first_pass_uses_the_source_shift():
    # Through an estimator the source shifts by the column means, so even
    # the first M-step is exact at a large offset.
    X, y, _, _, _ = mixture(seed=2, n=600, offset=1e5)
    em = EMNaiveBayes(event_model="gaussian", covariance_type="full",
                      max_iter=1, unlabeled_weight=0.0)
    fit_quiet(em, X, y)
    lab = y >= 0
    R = np.eye(3)[y[lab]]
    _, means, covs = _estimate_gaussian_parameters(X[lab], R, 1e-6, "full")
    assert_allclose(em.means_, means, rtol=1e-13)
    assert_allclose(em.covariances_, covs, rtol=1e-8, atol=1e-10)


# -- 2. LinearDiscriminantAnalysis ------------------------------------------------
@pytest.mark.parametrize("shrinkage", [None, 0.3, "auto"])
@pytest.mark.parametrize("offset", [0.0, 100.0])
def test_tied_equals_lda(shrinkage, offset):
    X, _, y, _, _ = mixture(seed=3, d=6, n=300, offset=offset)
    X[:, 5] = X[:, 5] * 0.01  # a small-variance feature for Ledoit-Wolf
    lda = LinearDiscriminantAnalysis(solver="lsqr",
                                     shrinkage=shrinkage).fit(X, y)
    em = EMNaiveBayes(event_model="gaussian", covariance_type="tied",
                      shrinkage=shrinkage, reg_covar=0.0).fit(X, y)
    assert_allclose(em.means_, lda.means_, rtol=1e-12, atol=1e-12)
    assert_allclose(em.covariances_, lda.covariance_, rtol=1e-10,
                    atol=1e-13)
    assert_allclose(em.predict_proba(X), lda.predict_proba(X), atol=1e-9)
    assert (em.predict(X) == lda.predict(X)).all()


def test_full_shrinkage_formula():
    X, _, y, _, _ = mixture(seed=4, d=5, n=200)
    a = 0.4
    em = EMNaiveBayes(event_model="gaussian", covariance_type="full",
                      shrinkage=a, reg_covar=1e-3).fit(X, y)
    for c in range(3):
        S = np.cov(X[y == c].T, bias=True)
        expected = (1 - a) * S + a * np.trace(S) / 5 * np.eye(5)
        assert_allclose(em.covariances_[c], expected + 1e-3 * np.eye(5),
                        rtol=1e-10)


# -- 3. known truth --------------------------------------------------------------
@pytest.mark.parametrize("tied", [False, True])
def test_recovers_known_mixture(tied):
    # 30 labels per class, 3,910 unlabeled rows, well separated classes;
    # tolerances: means within 0.1, covariance entries within 8 % of the
    # largest entry (their sampling error at ~1,300 rows per class: 4 %).
    X, y, y_true, means, covs = mixture(seed=5, n=4000, tied=tied, scale=6.0)
    em = EMNaiveBayes(event_model="gaussian",
                      covariance_type="tied" if tied else "full").fit(X, y)
    assert em.converged_
    assert np.abs(em.means_ - means).max() < 0.1
    est = em.covariances_ if not tied else em.covariances_[None]
    true = covs if not tied else covs[:1]
    assert np.abs(est - true).max() < 0.08 * np.abs(true).max()
    assert em.score(X, y_true) > 0.95


@pytest.mark.parametrize("covariance_type", ["full", "tied"])
@pytest.mark.parametrize("M", [1, 2])
def test_objective_never_decreases(covariance_type, M):
    X, y, _, _, _ = mixture(seed=6, n=800, n_lab=5)
    em = fit_quiet(EMNaiveBayes(event_model="gaussian",
                                covariance_type=covariance_type,
                                n_components_per_class=M, random_state=0,
                                tol=0, max_iter=40), X, y)
    gains = np.diff(em.lower_bounds_)
    assert gains.min() >= -1e-10 * abs(em.lower_bounds_[-1])
    moe = fit_quiet(MixtureOfExperts(n_components=3 * M, event_model="gaussian",
                                     covariance_type=covariance_type,
                                     init="kmeans", random_state=0, tol=0,
                                     max_iter=40), X, y)
    assert np.diff(moe.lower_bounds_).min() >= -1e-10 * abs(
        moe.lower_bounds_[-1])


# -- 4. out of core = in memory ------------------------------------------------------
@pytest.mark.parametrize("params", [
    dict(covariance_type="full"),
    dict(covariance_type="tied", shrinkage=0.2, n_components_per_class=2,
         random_state=0),
    dict(covariance_type="full", shrinkage="auto", unlabeled_weight=0.5),
    dict(covariance_type="tied", shrinkage="auto"),
])
def test_chunks_equal_memory(tmp_path, params):
    X, y, _, _, _ = mixture(seed=7, n=700, n_lab=10, offset=50.0)
    mem = fit_quiet(EMNaiveBayes(event_model="gaussian", max_iter=30,
                                 **params), X, y)
    write_npz_chunks(tmp_path, X, y, chunk_rows=150)
    disk = EMNaiveBayes(event_model="gaussian", max_iter=30, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        disk.fit_chunks(NpzChunks(tmp_path))
    assert disk.n_iter_ == mem.n_iter_
    assert_allclose(disk.means_, mem.means_, rtol=1e-8)
    assert_allclose(disk.covariances_, mem.covariances_, rtol=1e-8,
                    atol=1e-10)
    assert_allclose(disk.lower_bounds_, mem.lower_bounds_, rtol=1e-10)


def test_moe_full_drops_components_and_chunks(tmp_path):
    X, y, _, _, _ = mixture(seed=8, n=500)
    params = dict(n_components=5, event_model="gaussian",
                  covariance_type="full", init="kmeans", random_state=1,
                  max_iter=25)
    mem = fit_quiet(MixtureOfExperts(**params), X, y)
    write_npz_chunks(tmp_path, X, y, chunk_rows=128)
    disk = MixtureOfExperts(**params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        disk.fit_chunks(NpzChunks(tmp_path))
    assert_allclose(disk.covariances_, mem.covariances_, rtol=1e-8,
                    atol=1e-10)


# -- 5. numerical edge cases ---------------------------------------------------------
def test_high_dimension_and_constant_feature():
    rng = np.random.default_rng(9)
    d = 384
    X = rng.normal(size=(600, d)) / np.sqrt(d)
    X[:, 7] = 0.25  # constant
    y = np.full(600, -1)
    y[:200] = rng.integers(0, 4, 200)
    for params in (dict(covariance_type="tied", shrinkage="auto"),
                   dict(covariance_type="full", shrinkage=0.5),
                   dict(covariance_type="tied", reg_covar=1e-4)):
        em = fit_quiet(EMNaiveBayes(event_model="gaussian", max_iter=5,
                                    **params), X, y)
        assert np.isfinite(em.lower_bounds_).all()
        assert np.isfinite(em.predict_log_proba(X)).all()
    # 50 rows per class in 384 dimensions without shrinkage or floor:
    # singular, said so.
    with pytest.raises(FloatingPointError, match="positive definite"):
        EMNaiveBayes(event_model="gaussian", covariance_type="full",
                     reg_covar=0.0).fit(X[:200], y[:200])


def test_tied_changed_meaning():
    X, _, y, _, _ = mixture(seed=10, n=300)  # every row labeled
    tied = EMNaiveBayes(event_model="gaussian", covariance_type="tied").fit(
        X, y)
    assert tied.covariances_.shape == (4, 4)
    assert not np.allclose(tied.covariances_, np.diag(tied.variances_))
    diag = EMNaiveBayes(event_model="gaussian",
                        covariance_type="tied_diag").fit(X, y)
    assert diag.variances_.shape == (4,)
    assert not hasattr(diag, "covariances_")
    assert_allclose(diag.variances_, np.diag(tied.covariances_), rtol=1e-8)
    # The old name does not silently give the shared diagonal.
    with pytest.raises(ValueError, match="tied_diag"):
        GaussianEvents("tied")
    assert isinstance(make_event_model("gaussian", covariance_type="tied"),
                      FullGaussianEvents)
    with pytest.raises(ValueError):
        EMNaiveBayes(event_model="gaussian", shrinkage=1.5).fit(X, y)


# -- 6. the hybrid's leave-one-out -----------------------------------------------
@pytest.mark.parametrize("covariance_type", ["full", "tied"])
def test_leave_one_out_equals_refit(covariance_type):
    X, _, y, _, _ = mixture(seed=11, n=60, offset=20.0)
    w = np.random.default_rng(12).uniform(0.5, 2, 60)
    ev = FullGaussianEvents(covariance_type, 1e-3, shrinkage=0.1)
    resp = np.zeros((60, 3))
    resp[np.arange(60), y] = w
    block = ev.prepare(X)
    stats = ev.new_stats(3, 4)
    ev.add_stats(stats, block, resp)
    full = ev.m_step(stats).log_prob(block)
    loo = ev.loo_log_prob(block, stats, y, w, full)
    for i in (0, 17, 42):
        keep = np.arange(60) != i
        ref = FullGaussianEvents(covariance_type, 1e-3, shrinkage=0.1).fit(
            ev.prepare(X[keep]), resp[keep])
        expected = ref.log_prob(X[i:i + 1])[0]
        if covariance_type == "full":
            assert_allclose(loo[i, y[i]], expected[y[i]], rtol=1e-9)
            others = np.arange(3) != y[i]
            assert_allclose(loo[i, others], full[i, others])
        else:
            assert_allclose(loo[i], expected, rtol=1e-9)
    h = fit_quiet(HybridClassifier(event_model="gaussian",
                                   covariance_type=covariance_type,
                                   shrinkage=0.2), X, np.where(
        np.arange(60) < 30, y, -1))
    assert np.isfinite(h.predict_log_proba(X)).all()


def test_pickle():
    X, y, _, _, _ = mixture(seed=13, n=300)
    for ct in ("full", "tied"):
        em = EMNaiveBayes(event_model="gaussian", covariance_type=ct,
                          shrinkage="auto").fit(X, y)
        again = pickle.loads(pickle.dumps(em))
        assert_allclose(again.predict_proba(X), em.predict_proba(X), rtol=0)
        assert_allclose(again.covariances_, em.covariances_, rtol=0)


@pytest.mark.parametrize("params", [
    dict(event_model="gaussian", covariance_type="full"),
    dict(event_model="gaussian", covariance_type="tied", shrinkage="auto"),
    dict(event_model="vmf")])
def test_dask_equals_memory(params):
    da = pytest.importorskip("dask.array")
    X, y, _, _, _ = mixture(seed=14, n=600, n_lab=10, offset=20.0)
    if params["event_model"] == "vmf":
        X = (X - 20.0) / np.linalg.norm(X - 20.0, axis=1, keepdims=True)
    for est in (EMNaiveBayes(max_iter=20, **params),
                MixtureOfExperts(n_components=4, init="kmeans",
                                 random_state=0, max_iter=15, **params)):
        mem = fit_quiet(est, X, y)
        means = mem.means_.copy()
        lazy = fit_quiet(est, da.from_array(X, chunks=(150, -1)),
                         da.from_array(y, chunks=150))
        assert_allclose(lazy.means_, means, rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("shape", [(1, 1), (7, 3), (600, 40)])
def test_triangular_product_without_the_gil_equals_numpy(shape):
    """The full model's E-step product ``Y @ P`` (P upper triangular) goes
    through BLAS ``dtrmm`` by ctypes, which lets the other threads run
    (SciPy's wrapper holds the GIL: the components' products ran one at
    a time); it must equal NumPy's product, and the SciPy path too."""
    from probssl import _gaussian

    rng = np.random.RandomState(0)
    Y = rng.standard_normal(shape)
    P = np.triu(rng.standard_normal((shape[1], shape[1])))
    assert _gaussian._DTRMM is not None
    assert_allclose(_gaussian._trmm(P, Y.copy()), Y @ P, rtol=1e-12,
                    atol=1e-12)
    # A non-contiguous operand takes SciPy's wrapper, same product.
    assert_allclose(_gaussian._trmm(np.asfortranarray(P), Y.copy()), Y @ P,
                    rtol=1e-12, atol=1e-12)
