"""EMNaiveBayes on Dask arrays: equal to the in-memory fit, recovers from a
lost worker, predicts lazily."""

import os
import signal
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")

from probssl import EMNaiveBayes  # noqa: E402
from probssl.distributed import fit_dask  # noqa: E402

from _helpers import assert_same_fit, weighted_counts  # noqa: E402

pytestmark = pytest.mark.timeout(240)

TOL = 1e-8
KW = dict(n_components_per_class=2, unlabeled_weight=0.7, random_state=3,
          max_iter=300, tol=1e-8)


@pytest.fixture(scope="module")
def corpus():
    X, y, w = weighted_counts(3000, 300)
    ref = EMNaiveBayes(**KW).fit(X, y, sample_weight=w)
    return X, y, w, ref


def dask_inputs(X, y, w, rows=700):
    return (da.from_array(X, chunks=(rows, -1), asarray=False),
            da.from_array(y, chunks=rows), da.from_array(w, chunks=rows))


# lower_bounds_ compared relatively (bounds_rtol=TOL)
FITTED = ["n_iter_", "classes_", "feature_log_prob_", "class_log_prior_",
          "component_log_prior_", "lower_bounds_"]


def test_local_scheduler_without_client(corpus):
    # Runs before the cluster fixture exists: no distributed client.
    X, y, w, ref = corpus
    Xd, yd, wd = dask_inputs(X, y, w, rows=400)
    b = EMNaiveBayes(**KW).fit(Xd, yd, sample_weight=wd)
    assert ref.n_iter_ > 3
    assert_same_fit(ref, b, FITTED, atol=TOL, rtol=1e-7, bounds_rtol=TOL)


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True,
        dashboard_address=None,
    )
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


def test_distributed_equals_in_memory(client, corpus):
    X, y, w, ref = corpus
    Xd, yd, wd = dask_inputs(X, y, w)
    b = EMNaiveBayes(**KW).fit(Xd, yd, sample_weight=wd)
    assert_same_fit(ref, b, FITTED, atol=TOL, rtol=1e-7, bounds_rtol=TOL)


@pytest.mark.parametrize("rows", [250, 3000])
def test_chunking_and_dense_blocks(client, corpus, rows):
    X, y, w, ref = corpus
    Xd = da.from_array(X.toarray(), chunks=(rows, 100))  # columns rechunked
    b = EMNaiveBayes(**KW).fit(Xd, y, sample_weight=w)   # numpy y, w
    assert_same_fit(ref, b, FITTED, atol=TOL, rtol=1e-7, bounds_rtol=TOL)


def test_worker_killed_mid_fit(client, corpus):
    X, y, w, ref = corpus
    Xd, yd, wd = dask_inputs(X, y, w, rows=300)
    pids = sorted(client.run(os.getpid).values())
    killed = []

    def kill_a_worker(n_iter, objective):
        if n_iter == 2 and not killed:
            os.kill(pids[0], signal.SIGKILL)
            killed.append(n_iter)

    b = fit_dask(EMNaiveBayes(**KW), Xd, yd, wd, callback=kill_a_worker)
    assert killed
    assert_same_fit(ref, b, FITTED, atol=TOL, rtol=1e-7, bounds_rtol=TOL)
    # The nanny restarts the killed worker for the next tests; in a fresh
    # clone on 2 busy cores that took over 60 s (a new interpreter loading
    # probssl and its Numba kernels beside the test process).
    client.wait_for_workers(2, timeout=240)  # the nanny restarted it
    assert pids[0] not in client.run(os.getpid).values()


def test_predict_is_lazy_and_equal(client, corpus):
    X, y, w, ref = corpus
    Xd, _, _ = dask_inputs(X, y, w)
    b = EMNaiveBayes(**KW).fit(Xd, y, sample_weight=w)
    pred = b.predict(Xd)
    proba = b.predict_proba(Xd)
    log_proba = b.predict_log_proba(Xd)
    for lazy in (pred, proba, log_proba):
        assert isinstance(lazy, da.Array)
    assert proba.shape == (X.shape[0], 4)
    assert_array_equal(pred.compute(), ref.predict(X))
    assert_allclose(proba.compute(), ref.predict_proba(X), atol=1e-10)
    assert_allclose(log_proba.compute(), ref.predict_log_proba(X), atol=1e-8)
    # numpy input still works on a dask-fitted model
    assert_array_equal(b.predict(X), ref.predict(X))


@pytest.mark.parametrize(
    "params",
    [dict(alpha=0.1, algorithm="em2"),
     dict(alpha=0.1, n_components=6, n_init=2, random_state=3),
     # the starts that need every row: Lloyd passes on the cluster, and
     # per-row draws from each row's position
     dict(alpha=0.1, n_components=5, init="kmeans", random_state=0),
     dict(alpha=0.1, n_components=5, init="random", event_model="bernoulli",
          random_state=1)],
)
def test_mixture_of_experts_distributed_equals_in_memory(client, corpus,
                                                         params):
    from probssl import MixtureOfExperts

    X, y, w, _ = corpus
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = MixtureOfExperts(**params).fit(X, y, sample_weight=w)
        Xd, yd, wd = dask_inputs(X, y, w, rows=400)
        b = MixtureOfExperts(**params).fit(Xd, yd, sample_weight=wd)
    assert ref.n_iter_ > 3
    assert b.n_iter_ == ref.n_iter_
    assert b.n_components_ == ref.n_components_
    assert_allclose(b.component_feature_log_prob_,
                    ref.component_feature_log_prob_, atol=TOL)
    assert b.event_model_ == ref.event_model_
    assert_allclose(b.class_table_, ref.class_table_, atol=TOL)
    assert_allclose(b.weights_, ref.weights_, atol=TOL)
    assert_allclose(b.lower_bounds_, ref.lower_bounds_, rtol=TOL)
    proba = b.predict_proba(Xd)
    assert isinstance(proba, da.Array)
    assert_allclose(proba.compute(), ref.predict_proba(X), atol=TOL)


def test_gaussian_distributed_equals_in_memory(client):
    """Dense embeddings-like data: the Gaussian event model on the cluster."""
    rng = np.random.RandomState(0)
    n, d, C = 2000, 12, 3
    centers = rng.randn(C, d) * 2
    z = rng.randint(C, size=n)
    X = centers[z] + rng.randn(n, d)
    y = z.copy()
    y[rng.rand(n) > 0.05] = -1
    kw = dict(event_model="gaussian", n_components_per_class=2,
              random_state=0, max_iter=60)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = EMNaiveBayes(**kw).fit(X, y)
        Xd = da.from_array(X, chunks=(300, -1))
        b = EMNaiveBayes(**kw).fit(Xd, da.from_array(y, chunks=300))
    assert ref.n_iter_ > 3
    assert b.n_iter_ == ref.n_iter_
    assert_allclose(b.means_, ref.means_, atol=TOL)
    assert_allclose(b.variances_, ref.variances_, atol=TOL)
    assert_allclose(b.lower_bounds_, ref.lower_bounds_, rtol=TOL)
    assert_allclose(b.predict_proba(Xd).compute(), ref.predict_proba(X),
                    atol=TOL)


# -- a worker lost inside a pass (issue 26) -----------------------------------
def killing_source(where, flag, on_pass=4):
    """A DaskSource whose ``on_pass``-th pass kills the worker that runs
    its first task of kind ``where`` ("map" or "sum"): once, in the middle
    of the pass (the kill happens inside the task)."""
    from probssl._dask import DaskSource
    from probssl._sources import add

    def kill_once(flag=flag):
        import os
        import signal

        if not os.path.exists(flag):
            open(flag, "w").close()
            os.kill(os.getpid(), signal.SIGKILL)

    class Killing(DaskSource):
        passes = 0

        def reduce(self, func, *args, combine=add):
            Killing.passes += 1
            if Killing.passes == on_pass and where == "sum":
                inner_combine = combine

                def combine(a, b, inner=inner_combine, kill=kill_once):
                    kill()
                    return inner(a, b)
            elif Killing.passes == on_pass and where == "map":
                inner_func = func

                def func(block, *a, inner=inner_func, kill=kill_once):
                    kill()
                    return inner(block, *a)
            return super().reduce(func, *args, combine=combine)

    return Killing


@pytest.mark.timeout(300)  # the watchdog: a hang fails
@pytest.mark.parametrize("where", ["sum", "map"])
def test_worker_killed_inside_a_pass_recovers(client, corpus, tmp_path,
                                              where):
    """A worker killed during a pass's tree sum ended the fit in
    FutureCancelledError ("lost dependencies": the pass's parameters were
    scattered data, which Dask cannot recompute)."""
    X, y, w, ref = corpus
    Xd, yd, wd = dask_inputs(X, y, w, rows=300)
    flag = str(tmp_path / "killed")
    est = EMNaiveBayes(**KW)
    est._validate_params()
    b = est._fit_source(killing_source(where, flag), Xd, yd, wd,
                        client=client)
    assert os.path.exists(flag)  # a worker did die
    assert_same_fit(ref, b, FITTED, atol=TOL, rtol=1e-7, bounds_rtol=TOL)
    # The nanny restarts the killed worker for the next tests; in a fresh
    # clone on 2 busy cores that took over 60 s (a new interpreter loading
    # probssl and its Numba kernels beside the test process).
    client.wait_for_workers(2, timeout=240)


def test_worker_lost_every_time_says_so(client, corpus, monkeypatch):
    from distributed.client import FutureCancelledError

    from probssl._dask import PASS_RETRIES, DaskSource

    X, y, w, _ = corpus
    Xd, yd, wd = dask_inputs(X, y, w)
    calls = []

    def lost(self, *args):
        calls.append(1)
        raise FutureCancelledError("add-1", reason="lost dependencies")

    monkeypatch.setattr(DaskSource, "_pass", lost)
    with pytest.raises(RuntimeError, match="a Dask worker was lost during a "
                                           "pass of the fit") as info:
        EMNaiveBayes(**KW).fit(Xd, yd, sample_weight=wd)
    assert isinstance(info.value.__cause__, FutureCancelledError)
    assert len(calls) == PASS_RETRIES + 1


def test_unknown_chunk_sizes_and_wrong_lengths(corpus):
    X, y, w, _ = corpus
    Xd, yd, wd = dask_inputs(X, y, w, rows=500)
    keep = da.from_array(np.arange(y.size) % 3 > 0, chunks=500)
    est = EMNaiveBayes(**KW)
    with pytest.raises(ValueError, match="X has unknown chunk sizes.*"
                                         "compute_chunk_sizes"):
        est.fit(Xd[keep], y[np.arange(y.size) % 3 > 0])
    with pytest.raises(ValueError, match="y has unknown chunk sizes"):
        est.fit(Xd, yd[yd > -5])
    with pytest.raises(ValueError, match="sample_weight has unknown chunk"):
        est.fit(Xd, yd, sample_weight=wd[wd > -1])
    for bad in (w[:-1], np.r_[w, w], da.from_array(w[:-7], chunks=500)):
        with pytest.raises(ValueError, match="X and sample_weight have "
                                             "inconsistent numbers of rows"):
            est.fit(Xd, yd, sample_weight=bad)
    with pytest.raises(ValueError, match="X and y have inconsistent"):
        est.fit(Xd, y[:-3])
    with pytest.raises(ValueError, match="y must be 1-D"):
        est.fit(Xd, np.c_[y, y])
    known = Xd[keep]
    known.compute_chunk_sizes()
    assert EMNaiveBayes(**KW).fit(
        known, y[np.arange(y.size) % 3 > 0]).n_iter_ > 0
