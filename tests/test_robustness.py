"""Nothing silent on bad input, in the models and their kernels.

Each case failed before its fix: a segfault or a plausible answer from a
malformed sparse matrix, "-1" text labels taken as a class, scores over
misaligned rows, variances that cancel at a large offset, a hybrid that
learned a negative weight, a fit that hung in a fork child, a chunk error
that did not name its file.
"""

import multiprocessing
import os
import subprocess
import sys
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.naive_bayes import GaussianNB

from probssl import CoEM, CoTraining, EMNaiveBayes, HybridClassifier, \
    MixtureOfExperts
from probssl.chunked import NpzChunks, write_npz_chunks
from probssl.datasets import make_multinomial_mixture

from _helpers import few_labels_on_sparse_columns


def counts(n=300, V=60, seed=0, labeled=0.1):
    X, y = make_multinomial_mixture(n_samples=n, n_features=V, n_classes=3,
                                    doc_length=30, random_state=seed)
    y = np.where(np.random.RandomState(seed).rand(n) < labeled, y, -1)
    y[:3] = [0, 1, 2]
    return sp.csr_matrix(X), y


# -- malformed sparse structure never reaches a kernel ------------------------
def malformed(X, kind):
    X = X.copy()
    if kind == "index too large":
        X.indices[5] = X.shape[1] + 3
    elif kind == "negative index":
        X.indices[5] = -1
    else:  # decreasing indptr
        X.indptr[4], X.indptr[5] = X.indptr[5], X.indptr[4]
    return X


@pytest.mark.parametrize("kind", ["index too large", "negative index",
                                  "decreasing indptr"])
def test_malformed_csr_is_refused_everywhere(kind):
    X, y = counts()
    bad = malformed(X, kind)
    with pytest.raises(ValueError, match="malformed CSR"):
        EMNaiveBayes().fit(bad, y)
    with pytest.raises(ValueError, match="malformed CSR"):
        MixtureOfExperts().fit(bad, y)
    with pytest.raises(ValueError, match="malformed CSR"):
        HybridClassifier().fit(bad, y)
    with pytest.raises(ValueError, match="chunk 1: X is a malformed CSR"):
        EMNaiveBayes().fit_chunks([(X, y), (bad, y)])
    clf = EMNaiveBayes().fit(X, y)
    for method in (clf.predict, clf.predict_proba):
        with pytest.raises(ValueError, match="malformed CSR"):
            method(bad)


# -- labels -------------------------------------------------------------------
def test_text_minus_one_marks_unlabeled_rows():
    X, y = counts()
    names = np.array(["ant", "bee", "cat"])
    ys = np.where(y >= 0, names[np.maximum(y, 0)], "-1")
    a = EMNaiveBayes().fit(X, ys)
    b = EMNaiveBayes().fit(X, y)
    assert a.classes_.tolist() == ["ant", "bee", "cat"]
    assert_allclose(a.feature_log_prob_, b.feature_log_prob_)


def test_mixed_text_and_number_labels_are_refused():
    X, y = counts()
    ym = y.astype(object)
    ym[0] = "zero"
    with pytest.raises(TypeError, match="mixes text and numeric labels"):
        EMNaiveBayes().fit(X, ym)


@pytest.mark.parametrize("make", [
    lambda: EMNaiveBayes(),
    lambda: CoTraining(views="random", random_state=0),
    lambda: CoEM(views="random", random_state=0),
])
def test_score_refuses_misaligned_y_and_weights(make):
    X, y = counts()
    y_true = np.where(y >= 0, y, 0)
    clf = make()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(X, y)
    with pytest.raises(ValueError, match="X and y have inconsistent"):
        clf.score(X, y_true[:-5])
    with pytest.raises(ValueError, match="X and sample_weight have"):
        clf.score(X, y_true, sample_weight=np.ones(10))
    assert 0 <= clf.score(X, y_true, sample_weight=np.ones(X.shape[0])) <= 1


def test_dask_input_to_estimators_without_a_dask_fit():
    da = pytest.importorskip("dask.array")
    X, y = counts()
    Xd = da.from_array(X.toarray(), chunks=(100, -1))
    for est in (HybridClassifier(), CoTraining()):
        with pytest.raises(TypeError, match="does not fit Dask arrays"):
            est.fit(Xd, y)


# -- numerics -----------------------------------------------------------------
def blobs(offset=0.0, seed=0):
    rng = np.random.RandomState(seed)
    z = rng.randint(3, size=600)
    X = offset + rng.randn(3, 4)[z] * 2 + rng.randn(600, 4)
    return X, z


def test_gaussian_variances_do_not_cancel_at_a_large_offset():
    X, z = blobs()
    ref = GaussianNB().fit(X, z)
    for offset in (0.0, 1e8):
        Xo = X + offset
        ours = EMNaiveBayes(event_model="gaussian",
                            reg_covar=ref.epsilon_).fit(Xo, z)
        assert_allclose(ours.var_, ref.var_, rtol=1e-6)
        assert ours.score(Xo, z) == pytest.approx(ref.score(X, z))


def test_gaussian_chunked_equals_in_memory_at_a_large_offset(tmp_path):
    X, z = blobs(offset=1e8)
    y = np.where(np.arange(z.size) % 10 == 0, z, -1)
    write_npz_chunks(tmp_path, X, y, 150)
    a = EMNaiveBayes(event_model="gaussian").fit(X, y)
    b = EMNaiveBayes(event_model="gaussian").fit_chunks(NpzChunks(tmp_path))
    assert_allclose(b.variances_, a.variances_, rtol=1e-8)
    assert_allclose(b.means_, a.means_, rtol=1e-12)


def test_squares_that_overflow_are_named():
    X, z = blobs()
    X[0, 0] = 1e200
    with pytest.raises(ValueError, match="squares overflow float64"):
        EMNaiveBayes(event_model="gaussian").fit(X, z)


def test_a_non_finite_objective_says_why(monkeypatch):
    from probssl._events import MultinomialEvents

    X, y = counts()
    m_step = MultinomialEvents.m_step

    def overflowing(self, *args):
        m_step(self, *args)
        self.log_stats[0, 0] = np.nan  # as an overflow would leave it
        return self

    monkeypatch.setattr(MultinomialEvents, "m_step", overflowing)
    with pytest.raises(FloatingPointError,
                       match=r"parameters \['log_stats'\] are not finite"):
        EMNaiveBayes().fit(X, y)


# -- the hybrid's combination weights -----------------------------------------
def test_hybrid_never_worse_than_its_generative_part_on_labeled_rows():
    """Bernoulli on 10^5 sparse columns, 10 labels per class: with
    leave-one-out features Gamma went negative and scored 0 % on its own
    labeled rows (alpha=1, the default then)."""
    X, y, y_true = few_labels_on_sparse_columns(400, 100_000)
    lab = y != -1
    with pytest.warns(UserWarning, match="refitting them on the plain"):
        h = HybridClassifier(event_model="bernoulli", alpha=1.0).fit(X, y)
    assert h.leave_one_out_ is False
    assert np.all(h.weights_ >= 0)
    assert h.score(X[lab], y_true[lab]) == 1.0
    assert h.score(X, y_true) > 0.9


def test_gaussian_hybrid_with_three_labels_per_class_beats_chance():
    rng = np.random.RandomState(0)
    centers = rng.randn(4, 20) * 1.5
    z = rng.randint(4, size=2000)
    X = centers[z] + rng.randn(2000, 20)
    y = np.full(2000, -1)
    lab = np.concatenate([np.flatnonzero(z == c)[:3] for c in range(4)])
    y[lab] = z[lab]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        h = HybridClassifier(event_model="gaussian").fit(X, y)
    assert np.all(h.weights_ >= 0)
    assert h.score(X, z) > GaussianNB().fit(X[lab], z[lab]).score(X, z)


# -- processes and threads ----------------------------------------------------
def _fit_bound(args):
    X, y = args
    return EMNaiveBayes().fit(X, y).lower_bound_


def test_fit_in_a_fork_child_after_a_fit_in_the_parent():
    X, y = counts(n=2000)
    ref = _fit_bound((X, y))
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(2) as pool:
        result = pool.map_async(_fit_bound, [(X, y)] * 3)
        assert result.get(timeout=120) == [ref] * 3


def test_fits_from_several_threads_at_once():
    X, y = counts(n=2000)
    ref = _fit_bound((X, y))
    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(_fit_bound, [(X, y)] * 8)) == [ref] * 8


def test_a_numba_cache_that_cannot_be_read_is_compiled_again(tmp_path):
    code = """
import warnings, numpy as np
from probssl import _kernels
k = _kernels.csr_dense_dot.kernel
load, failed = k._cache.load_overload, []
def damaged(*args, **kwargs):
    if not failed:
        failed.append(1)
        raise EOFError("truncated cache file")
    return load(*args, **kwargs)
k._cache.load_overload = damaged
out = np.empty((2, 1))
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    _kernels.csr_dense_dot(np.array([0, 2]), np.array([0, 1, 2]),
                           np.array([0, 1], dtype=np.int32),
                           np.array([2.0, 3.0]), np.ones((2, 1)), out)
print(out.ravel().tolist(), any("compiling it again" in str(w.message)
                                for w in caught))
"""
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True,
                         text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("]")[0] == "[2.0, 3.0"
    assert out.stdout.strip().endswith("True")


# -- chunk readers name the file ----------------------------------------------
def test_chunk_errors_name_the_file(tmp_path):
    X, y = counts()
    w = np.ones(y.size)
    w[205] = np.nan
    write_npz_chunks(tmp_path, X, y, 100, sample_weight=w)
    with pytest.raises(ValueError, match=r"chunk 2 \(.*chunk_000002.npz\)"
                                         ".*NaN"):
        EMNaiveBayes().fit_chunks(NpzChunks(tmp_path))
    yb = y.astype(float)
    yb[204] = np.nan
    write_npz_chunks(tmp_path, X, yb, 100)
    with pytest.raises(ValueError, match="chunk_000002.npz.*NaN"):
        EMNaiveBayes().fit_chunks(NpzChunks(tmp_path))
    write_npz_chunks(tmp_path, X, y, 100)
    chunks = NpzChunks(tmp_path)
    with open(chunks.files[1], "wb") as f:
        f.write(b"not a chunk")
    with pytest.raises(ValueError, match=r"chunk 1 \(.*chunk_000001.npz\): "
                                         "chunk_000001.npz is not the file"):
        EMNaiveBayes().fit_chunks(chunks)
    narrow = tmp_path / "narrow"
    write_npz_chunks(narrow, X[:100], y[:100], 100)
    with pytest.raises(ValueError, match="chunk 1 would have 20 features"):
        write_npz_chunks(narrow, X[100:, :20], y[100:], 200, start=1)
    with pytest.raises(ValueError, match="chunk 1 has 20 features"):
        EMNaiveBayes().fit_chunks([(X[:100], y[:100]),
                                   (X[100:, :20], y[100:])])
    with pytest.raises(ValueError, match="no chunk"):
        EMNaiveBayes().fit_chunks([])


def test_fitting_leaves_the_input_untouched():
    """The column reordering sorts a copy: an in-place sort once permuted
    the caller's data under its unchanged indices (silently wrong fits)."""
    X, y = counts()
    X = X[:, np.random.RandomState(0).permutation(X.shape[1])].tocsr()
    before = (X.data.copy(), X.indices.copy(), X.indptr.copy())
    a = EMNaiveBayes(alpha=0.5, tol=1e-12, max_iter=300).fit(X, y)
    for got, want in zip((X.data, X.indices, X.indptr), before):
        assert_array_equal(got, want)
    b = EMNaiveBayes(alpha=0.5, tol=1e-12, max_iter=300).fit_chunks([(X, y)])
    assert_allclose(a.feature_log_prob_, b.feature_log_prob_, atol=1e-9)


# -- overflow messages name their cause (issue 26) ----------------------------
@pytest.mark.parametrize("make,fit_kw,cause", [
    (lambda: EMNaiveBayes(alpha=1e308), {}, r"alpha=1e\+308 is too large"),
    (lambda: MixtureOfExperts(alpha=1e308), {}, r"alpha=1e\+308 is too large"),
    (lambda: EMNaiveBayes(), dict(sample_weight=np.full(300, 1e306)),
     r"rows weigh up to 1e\+306: rescale sample_weight"),
    (lambda: EMNaiveBayes(), dict(sample_weight=np.r_[1e308, np.ones(299)]),
     r"rows weigh up to 1e\+308: rescale sample_weight"),
    (lambda: EMNaiveBayes(unlabeled_weight=1e308), {},
     r"rows weigh up to 1e\+308: rescale sample_weight \(or "
     "unlabeled_weight\\)"),
])
def test_overflow_names_alpha_or_sample_weight(make, fit_kw, cause):
    """Every one of these said "rescale X?" (or blamed a vanished class)."""
    X, y = counts()
    with pytest.raises(FloatingPointError, match=cause) as info:
        make().fit(X, y, **fit_kw)
    assert "rescale X" not in str(info.value)


def test_overflow_of_chunks_names_the_weights_or_x():
    X, y = counts()
    with pytest.raises(FloatingPointError, match="weighted sums overflow "
                                                 ".*sample_weight or X"):
        EMNaiveBayes().fit_chunks([(X, y, np.full(300, 1e306))])


def tiny_scale_blobs(scale):
    rng = np.random.RandomState(0)
    z = rng.randint(2, size=600)
    X = (rng.randn(600, 5) + 1.5 * z[:, None]) * scale
    y = np.where(rng.rand(600) < 0.2, z, -1)
    return X, y, z


@pytest.mark.parametrize("covariance_type", ["diag", "spherical", "full",
                                             "tied"])
def test_data_below_reg_covar_warns(covariance_type):
    """Features of scale 1e-150 with the default reg_covar predicted at
    chance, silently (GaussianNB: 97 % on these rows)."""
    X, y, z = tiny_scale_blobs(1e-150)
    est = EMNaiveBayes(event_model="gaussian",
                       covariance_type=covariance_type)
    with pytest.warns(UserWarning, match="far below reg_covar=1e-06") as rec:
        est.fit(X, y)
    assert sum("reg_covar" in str(w.message) for w in rec) == 1  # once
    assert "StandardScaler" in str(rec[0].message)
    # the advice works
    est.set_params(reg_covar=1e-310).fit(X, y)
    assert np.mean(est.predict(X) == z) > 0.9


def test_data_at_reg_covar_scale_does_not_warn():
    X, y, z = tiny_scale_blobs(1e-3)   # variances ~1e-6 = reg_covar
    # Other warnings may come (at this scale the variance floor can make the
    # objective dip, which the EM loop reports); only the scale one is wrong.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est = EMNaiveBayes(event_model="gaussian").fit(X, y)
    assert not [w for w in caught if "reg_covar" in str(w.message)]
    assert np.mean(est.predict(X) == z) > 0.9
