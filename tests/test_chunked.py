"""Chunked (out-of-core) EM equals the in-memory EMNaiveBayes fit."""

import subprocess
import time
import warnings
import sys

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal

from probssl import EMNaiveBayes
from probssl.chunked import NpzChunks, fit_chunked, write_npz_chunks

from _helpers import assert_same_fit, weighted_counts

TOL = 1e-8


@pytest.fixture(scope="module")
def corpus():
    return weighted_counts(2000, 200)


def split(X, y, w, rows):
    return [
        (X[i:i + rows], y[i:i + rows], None if w is None else w[i:i + rows])
        for i in range(0, X.shape[0], rows)
    ]


# lower_bounds_ compared relatively (bounds_rtol=TOL)
FITTED = [
    "n_iter_", "converged_", "classes_", "feature_log_prob_",
    "component_feature_log_prob_", "class_log_prior_", "component_log_prior_",
    "lower_bounds_", "n_features_in_", "events_.log_theta",
]


PARAMS = [
    dict(unlabeled_weight=0.7),
    dict(unlabeled_weight=0.3, prior_smoothing=1.0, alpha=0.5),
    dict(n_components_per_class=3, unlabeled_weight=0.8, random_state=3),
]


@pytest.mark.parametrize("params", PARAMS)
@pytest.mark.parametrize("weighted", [False, True])
def test_chunked_equals_in_memory(corpus, params, weighted):
    X, y, w = corpus
    w = w if weighted else None
    kw = dict(max_iter=300, tol=1e-8, **params)
    a = EMNaiveBayes(**kw).fit(X, y, sample_weight=w)
    assert a.n_iter_ > 3
    b = EMNaiveBayes(**kw).fit_chunks(split(X, y, w, 300))
    assert_same_fit(a, b, FITTED, atol=TOL, bounds_rtol=TOL)
    assert not hasattr(b, "transduction_")
    assert_array_equal(b.predict(X), a.predict(X))


@pytest.mark.parametrize("rows", [1, 137, 1000, 2000])
def test_chunk_size_does_not_change_result(corpus, rows):
    X, y, w = corpus
    if rows == 1:
        X, y, w = X[:200], y[:200], w[:200]
        y = y.copy()
        y[:20] = np.arange(20) % 4
    kw = dict(n_components_per_class=2, random_state=0, unlabeled_weight=0.5)
    ref = EMNaiveBayes(**kw).fit(X, y, sample_weight=w)
    b = EMNaiveBayes(**kw).fit_chunks(split(X, y, w, rows))
    assert_same_fit(ref, b, FITTED, atol=TOL, bounds_rtol=TOL)


def test_npz_round_trip_and_fit(corpus, tmp_path):
    X, y, w = corpus
    n = write_npz_chunks(tmp_path, X, y, 450, sample_weight=w)
    assert n == 5
    chunks = NpzChunks(tmp_path)
    assert len(chunks) == 5
    parts = list(chunks)
    assert all(len(p) == 3 for p in parts)
    assert (sp.vstack([p[0] for p in parts]) != X).nnz == 0
    assert_array_equal(np.concatenate([p[1] for p in parts]), y)
    assert_array_equal(np.concatenate([p[2] for p in parts]), w)
    assert len(list(chunks)) == 5  # re-iterable
    a = EMNaiveBayes(unlabeled_weight=0.5).fit(X, y, sample_weight=w)
    b = EMNaiveBayes(unlabeled_weight=0.5).fit_chunks(chunks)
    assert_same_fit(a, b, FITTED, atol=TOL, bounds_rtol=TOL)


@pytest.mark.parametrize("dense", [False, True])
def test_interrupted_write_leaves_only_whole_chunks(corpus, tmp_path,
                                                   monkeypatch, dense):
    """A write killed in the middle of a chunk leaves the chunks written
    before it, whole, and nothing of that chunk that NpzChunks would list:
    every file is written atomically and a chunk's X file last."""
    X, y, w = corpus
    X = X.toarray() if dense else X
    calls = []
    real = np.save if dense else sp.save_npz
    target = "save" if dense else "save_npz"

    def dies_on_chunk_2(file, value, *args, **kwargs):
        calls.append(np.ndim(value))  # X is 2-D, y and w 1-D
        if calls.count(2) == 3:  # the X of chunk 2
            if hasattr(file, "write"):
                file.write(b"partial")
            else:
                with open(file, "wb") as f:
                    f.write(b"partial")
            raise KeyboardInterrupt
        return real(file, value, *args, **kwargs)

    monkeypatch.setattr(np if dense else sp, target, dies_on_chunk_2)
    with pytest.raises(KeyboardInterrupt):
        write_npz_chunks(tmp_path, X, y, 450, sample_weight=w)
    monkeypatch.undo()
    chunks = NpzChunks(tmp_path)
    assert len(chunks) == 2
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(
        ".tmp")) == []
    parts = list(chunks)
    assert_array_equal(np.concatenate([p[1] for p in parts]), y[:900])
    got = np.vstack([p[0] if dense else p[0].toarray() for p in parts])
    assert_array_equal(got, X[:900] if dense else X[:900].toarray())


def test_npz_without_weights(corpus, tmp_path):
    X, y, _ = corpus
    write_npz_chunks(tmp_path, X, y, 1000)
    assert all(len(p) == 2 for p in NpzChunks(tmp_path))
    with pytest.raises(FileNotFoundError):
        NpzChunks(tmp_path / "missing")


def test_callable_dense_chunks_and_classes(corpus):
    X, y, _ = corpus
    Xd = X.toarray()
    a = EMNaiveBayes().fit(X, y)

    def chunks():
        for i in range(0, Xd.shape[0], 512):
            yield Xd[i:i + 512], y[i:i + 512]

    b = fit_chunked(EMNaiveBayes(), chunks, classes=a.classes_)
    assert_same_fit(a, b, FITTED, atol=TOL, bounds_rtol=TOL)


def test_string_labels(corpus):
    X, y, _ = corpus
    names = np.array(["a", "b", "c", "d"], dtype=object)
    ys = np.where(y >= 0, names[np.maximum(y, 0)], -1).astype(object)
    a = EMNaiveBayes().fit(X, ys)
    b = EMNaiveBayes().fit_chunks(split(X, ys, None, 500))
    assert_same_fit(a, b, FITTED, atol=TOL, bounds_rtol=TOL)
    assert_array_equal(b.predict(X[:50]), a.predict(X[:50]))


def test_errors(corpus):
    X, y, _ = corpus
    with pytest.raises(TypeError, match="re-iterable"):
        EMNaiveBayes().fit_chunks(iter(split(X, y, None, 500)))
    with pytest.raises(ValueError, match="NaN"):
        EMNaiveBayes(event_model="bernoulli").fit_chunks(
            [(X.toarray() * np.nan, y)])
    with pytest.raises(ValueError, match="no labeled"):
        EMNaiveBayes().fit_chunks([(X, np.full(y.size, -1))])
    with pytest.raises(ValueError, match="features"):
        EMNaiveBayes().fit_chunks([(X, y), (X[:, :10], y)])
    with pytest.raises(ValueError, match="Negative"):
        EMNaiveBayes().fit_chunks([(-X, y)])
    with pytest.raises(ValueError, match="not seen"):
        EMNaiveBayes().fit_chunks([(X, y)], classes=[0, 1])


def test_import_without_dask():
    code = (
        "import sys; sys.modules['dask'] = None; "
        "sys.modules['distributed'] = None\n"
        "import numpy as np, probssl\n"
        "X = np.array([[3, 0], [0, 2], [1, 1]]); y = np.array([0, 1, -1])\n"
        "print(probssl.EMNaiveBayes().fit(X, y).predict(X))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True,
                         text=True, check=True)
    assert "[0 1" in out.stdout


# -- MixtureOfExperts ---------------------------------------------------------
MOE_PARAMS = [
    dict(alpha=0.1),
    dict(alpha=0.1, algorithm="em2"),
    # more components than classes: the random spread of the labeled rows
    # (class by class) and n_init restarts must match fit's draws
    dict(alpha=0.1, n_components=6, algorithm="em2", n_init=3,
         random_state=3),
    dict(alpha=0.5, n_components=12, n_init=2, random_state=0),
]


MOE_FITTED = [
    "n_iter_", "converged_", "n_components_", "classes_",
    "component_feature_log_prob_", "class_table_", "weights_",
    "lower_bounds_", "n_features_in_",
]


@pytest.mark.parametrize("params", MOE_PARAMS)
@pytest.mark.parametrize("rows", [300, 2000])
def test_mixture_of_experts_chunked_equals_in_memory(corpus, params, rows):
    from probssl import MixtureOfExperts

    X, y, w = corpus
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # dropped components, convergence
        ref = MixtureOfExperts(**params).fit(X, y, sample_weight=w)
        b = MixtureOfExperts(**params).fit_chunks(split(X, y, w, rows))
    assert ref.n_iter_ > 3
    assert_same_fit(ref, b, MOE_FITTED, atol=TOL, bounds_rtol=TOL)
    assert_allclose(b.predict_proba(X), ref.predict_proba(X), rtol=0,
                    atol=TOL)


def test_mixture_of_experts_chunked_errors(corpus):
    from probssl import MixtureOfExperts

    X, y, w = corpus
    chunks = split(X, y, w, 500)
    with pytest.raises(ValueError, match="chunk 1 has 10 features"):
        MixtureOfExperts().fit_chunks([chunks[0], (X[:50, :10], y[:50])])
    with pytest.raises(ValueError, match="no labeled rows"):
        MixtureOfExperts().fit_chunks([(X, np.full(y.shape, -1))])


# -- the Gaussian event model (dense embeddings) ------------------------------
@pytest.fixture(scope="module")
def blobs():
    """Four classes, each two Gaussian clusters, 5 % labeled, weights."""
    rng = np.random.RandomState(0)
    n, d, C = 3000, 16, 4
    centers = rng.randn(2 * C, d) * 2
    scales = rng.uniform(0.5, 1.5, size=(2 * C, d))
    z = rng.randint(2 * C, size=n)
    X = centers[z] + rng.randn(n, d) * scales[z]
    y = z % C
    y[rng.rand(n) > 0.05] = -1
    w = rng.uniform(0.0, 2.0, n)
    w[::13] = 0.0
    return X, y, w


GAUSSIAN_PARAMS = [
    dict(),
    dict(n_components_per_class=2, random_state=0),
    dict(covariance_type="tied_diag", unlabeled_weight=0.5, prior_smoothing=1.0),
    dict(covariance_type="spherical"),
]


@pytest.mark.parametrize("params", GAUSSIAN_PARAMS)
@pytest.mark.parametrize("rows", [400, 3000])
def test_gaussian_chunked_equals_in_memory(blobs, params, rows):
    X, y, w = blobs
    kw = dict(event_model="gaussian", max_iter=50, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = EMNaiveBayes(**kw).fit(X, y, sample_weight=w)
        b = EMNaiveBayes(**kw).fit_chunks(split(X, y, w, rows))
    assert ref.n_iter_ > 3
    assert b.event_model_ == ref.event_model_ == "gaussian"
    assert hasattr(b, "theta_") == hasattr(ref, "theta_")
    assert_same_fit(ref, b, ["n_iter_", "means_", "variances_",
                             "component_log_prior_", "lower_bounds_"],
                    atol=TOL, bounds_rtol=TOL)
    assert_allclose(b.predict_proba(X), ref.predict_proba(X), atol=TOL)


def test_gaussian_chunked_errors(blobs):
    X, y, w = blobs
    est = EMNaiveBayes(event_model="gaussian")
    with pytest.raises(TypeError, match="dense X"):
        est.fit_chunks([(sp.csr_matrix(X), y)])
    bad = X.copy()
    bad[3, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        est.fit_chunks([(bad, y)])
    with pytest.raises(ValueError, match="features"):
        est.fit_chunks([(X[:100], y[:100]), (X[100:, :3], y[100:])])


# -- the Bernoulli event model ------------------------------------------------
@pytest.mark.parametrize(
    "params",
    [dict(), dict(n_components_per_class=2, random_state=0),
     # x = 1 after binarizing must not be binarized again (1 > 1 is false)
     dict(binarize=1.0, unlabeled_weight=0.5, alpha=0.3)],
)
def test_bernoulli_chunked_equals_in_memory(corpus, params):
    X, y, w = corpus
    kw = dict(event_model="bernoulli", max_iter=50, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = EMNaiveBayes(**kw).fit(X, y, sample_weight=w)
        b = EMNaiveBayes(**kw).fit_chunks(split(X, y, w, 300))
    assert ref.n_iter_ > 3
    assert b.n_iter_ == ref.n_iter_
    assert b.event_model_ == "bernoulli"
    assert_allclose(b.feature_log_prob_, ref.feature_log_prob_, atol=TOL)
    assert_allclose(b.component_log_prior_, ref.component_log_prior_,
                    atol=TOL)
    assert_allclose(b.lower_bounds_, ref.lower_bounds_, rtol=TOL)
    assert_allclose(b.predict_proba(X), ref.predict_proba(X), atol=TOL)


# -- chunk folders say what they hold (issue 26) ------------------------------
def small(corpus, n=600):
    X, y, w = corpus
    return X[:n], y[:n], w[:n]


def test_rewriting_a_folder_clears_its_older_chunks(corpus, tmp_path):
    """Writing 3 chunks where 6 were: NpzChunks once read all 6 (stale and
    new together) and fitted on twice the rows, silently."""
    X, y, w = small(corpus)
    (tmp_path / "notes.txt").write_text("kept")
    assert write_npz_chunks(tmp_path, X, y, 100, sample_weight=w) == 6
    assert write_npz_chunks(tmp_path, X[:300], y[:300], 100) == 3
    chunks = NpzChunks(tmp_path)
    assert len(chunks) == 3
    assert sum(p[0].shape[0] for p in chunks) == 300
    assert all(len(p) == 2 for p in chunks)  # no stale .w.npy read
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "chunk_000000.npz", "chunk_000000.y.npy", "chunk_000001.npz",
        "chunk_000001.y.npy", "chunk_000002.npz", "chunk_000002.y.npy",
        "manifest.json", "notes.txt"]


def test_foreign_and_stale_chunks_are_refused(corpus, tmp_path):
    X, y, _ = small(corpus)
    a, b = tmp_path / "a", tmp_path / "b"
    write_npz_chunks(a, X, y, 200)
    write_npz_chunks(b, X[:, :50] * 2, y, 200)
    # a chunk copied in from another folder, under a new name
    for suffix in (".npz", ".y.npy"):
        (a / f"chunk_000007{suffix}").write_bytes(
            (b / f"chunk_000000{suffix}").read_bytes())
    with pytest.raises(ValueError, match="chunk_000007.npz.* not listed"):
        NpzChunks(a)
    (a / "chunk_000007.npz").unlink()
    chunks = NpzChunks(a)
    # ... and under the name of one of its own chunks
    (a / "chunk_000001.npz").write_bytes((b / "chunk_000001.npz").read_bytes())
    with pytest.raises(ValueError, match=r"chunk 1 \(.*chunk_000001.npz\): "
                                         "chunk_000001.npz is not the file"):
        list(chunks)
    # a stale chunk of an older write left beside a newer folder
    (a / "manifest.json").unlink()
    with pytest.raises(FileNotFoundError, match="no manifest.json .* 3 chunk"):
        NpzChunks(a)


def test_chunks_changed_between_passes_are_refused(corpus, tmp_path):
    X, y, _ = small(corpus)
    write_npz_chunks(tmp_path, X, y, 200)
    chunks = NpzChunks(tmp_path)

    def rewrite(n_iter, objective):
        if n_iter == 1:
            write_npz_chunks(tmp_path, X[::-1], y[::-1], 200)

    with pytest.raises(ValueError, match="rewritten since this NpzChunks"):
        EMNaiveBayes(max_iter=5, tol=0).fit_chunks(chunks, callback=rewrite)
    chunks = NpzChunks(tmp_path)
    np.save(tmp_path / "chunk_000002.y.npy", np.zeros(200, dtype=int))
    with pytest.raises(ValueError, match=r"chunk 2 .*chunk_000002.y.npy is "
                                         "not the file"):
        EMNaiveBayes().fit_chunks(chunks)
    # changed in place after the first pass (whose hashes matched)
    write_npz_chunks(tmp_path, X, y, 200)
    chunks = NpzChunks(tmp_path)
    path = tmp_path / "chunk_000001.npz"

    def flip_a_byte(n_iter, objective):
        if n_iter == 2:
            time.sleep(0.05)  # past the file system's clock tick
            data = bytearray(path.read_bytes())
            data[-30] ^= 0xFF
            with open(path, "r+b") as f:
                f.write(bytes(data))

    with pytest.raises(ValueError, match=r"chunk 1 .*chunk_000001.npz "
                                         "changed between two passes"):
        EMNaiveBayes(max_iter=5, tol=0).fit_chunks(chunks,
                                                    callback=flip_a_byte)


@pytest.mark.parametrize("damage", ["truncate", "flip", "delete_w"])
@pytest.mark.parametrize("dense", [False, True])
def test_damaged_chunk_names_its_file(corpus, tmp_path, damage, dense):
    """A truncated chunk or a bad CRC gave a BadZipFile naming no chunk; a
    deleted .w.npy was read as unweighted, silently."""
    X, y, w = small(corpus)
    write_npz_chunks(tmp_path, X.toarray() if dense else X, y, 200,
                     sample_weight=w)
    path = tmp_path / ("chunk_000001" + (".X.npy" if dense else ".npz"))
    data = bytearray(path.read_bytes())
    if damage == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "flip":
        data[len(data) // 2] ^= 0xFF
        path.write_bytes(bytes(data))
    else:
        (tmp_path / "chunk_000001.w.npy").unlink()
    with pytest.raises(ValueError, match=r"chunk 1 \(.*chunk_000001"):
        EMNaiveBayes().fit_chunks(NpzChunks(tmp_path))


@pytest.mark.parametrize("chunk_rows,error", [
    (0, ValueError), (-5, ValueError), (2.5, TypeError), ("3", TypeError),
    (True, TypeError), (None, TypeError)])
def test_bad_chunk_rows(corpus, tmp_path, chunk_rows, error):
    """chunk_rows=0 gave "range() arg 3 must not be zero"; -5 wrote nothing
    and returned 0; 2.5 and "3" were taken for 2 and 3."""
    X, y, _ = small(corpus)
    with pytest.raises(error, match="chunk_rows"):
        write_npz_chunks(tmp_path, X, y, chunk_rows)
    assert not list(tmp_path.iterdir())
    assert write_npz_chunks(tmp_path, X, y, np.int64(250)) == 3


@pytest.mark.parametrize("name", ["y", "sample_weight"])
@pytest.mark.parametrize("extra", [1, 600, -1])
def test_labels_or_weights_of_another_length(corpus, tmp_path, name, extra):
    """A longer y or sample_weight was cut to X's rows, silently."""
    X, y, w = small(corpus)
    args = dict(y=y, sample_weight=w)
    args[name] = np.resize(args[name], y.size + extra)
    with pytest.raises(ValueError, match=f"{name} must have one entry per "
                                         "row of X"):
        write_npz_chunks(tmp_path, X, chunk_rows=100, **args)


def test_appending_checks_the_folder(corpus, tmp_path):
    X, y, _ = small(corpus)
    write_npz_chunks(tmp_path, X[:200], y[:200], 100)
    with pytest.raises(ValueError, match="start=7, but .* holds 2 chunk"):
        write_npz_chunks(tmp_path, X[200:], y[200:], 100, start=7)
    with pytest.raises(ValueError, match="start=1, but .* holds 2 chunk"):
        write_npz_chunks(tmp_path, X[200:], y[200:], 100, start=1)
    with pytest.raises(ValueError, match="start must be at least 0"):
        write_npz_chunks(tmp_path, X, y, 100, start=-1)
    with pytest.raises(FileNotFoundError, match="no manifest.json"):
        write_npz_chunks(tmp_path / "new", X, y, 100, start=3)
    assert write_npz_chunks(tmp_path, X[200:], y[200:], 100, start=2) == 4
    a = EMNaiveBayes().fit(X, y)
    assert_same_fit(a, EMNaiveBayes().fit_chunks(NpzChunks(tmp_path)), FITTED,
                    atol=TOL, bounds_rtol=TOL)


def test_text_labels_blame_their_chunk(corpus, tmp_path):
    """Text labels in chunk 2 of numeric ones blamed chunk 0 (the labels
    were merged as text, and chunk 0's numbers were then "not seen")."""
    X, y, _ = small(corpus)
    names = np.array(["a", "b", "c", "d"], dtype=object)
    text = np.where(y >= 0, names[np.maximum(y, 0)], -1).astype(object)
    write_npz_chunks(tmp_path, X[:200], y[:200], 100)
    write_npz_chunks(tmp_path, X[200:], text[200:], 100, start=2)
    with pytest.raises(TypeError, match=r"chunk 2 \(.*chunk_000002.npz\): "
                                        "its labels are text, those of "
                                        "chunk 0 are number"):
        EMNaiveBayes().fit_chunks(NpzChunks(tmp_path))
    parts = split(X, text, None, 100)
    parts[3] = (parts[3][0], y[300:400])
    with pytest.raises(TypeError, match="chunk 3: its labels are number"):
        EMNaiveBayes().fit_chunks(parts)
    # text labels (unlabeled -1) round-trip and fit as in memory
    write_npz_chunks(tmp_path, X, text, 150)
    assert_same_fit(EMNaiveBayes().fit(X, text),
                    EMNaiveBayes().fit_chunks(NpzChunks(tmp_path)), FITTED,
                    atol=TOL, bounds_rtol=TOL)


def test_manifest_damaged_or_missing(corpus, tmp_path):
    X, y, _ = small(corpus)
    write_npz_chunks(tmp_path, X, y, 300)
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(ValueError, match="cannot read the chunk manifest"):
        NpzChunks(tmp_path)
    (tmp_path / "manifest.json").write_text('{"format": "other"}')
    with pytest.raises(ValueError, match="not a probssl chunk manifest"):
        NpzChunks(tmp_path)
    with pytest.raises(FileNotFoundError, match="no chunk folder"):
        NpzChunks(tmp_path / "missing")
    with pytest.raises(ValueError, match="X must be 2-D with at least one"):
        write_npz_chunks(tmp_path, X[:0], y[:0], 100)
