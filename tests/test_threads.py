"""Thread control: n_jobs, threadpoolctl, and the default choice."""

import os
import subprocess
import sys
import textwrap

import numba
import numpy as np
import pytest
from numpy.testing import assert_array_equal
from threadpoolctl import threadpool_info, threadpool_limits

from probssl import _threads
from probssl._gaussian import FullGaussianEvents
from probssl._kernels._numba import parallel_kernel

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _ids(out):
    """The Numba thread that ran each iteration (each ~10 us of work, so
    that a second thread, when there is one, wakes in time to take some);
    the loop runs over the first argument, as every kernel's does."""
    for i in numba.prange(out.shape[0]):
        acc = 0.0
        for j in range(20_000):
            acc += np.sqrt(j + i)
        out[i] = numba.get_thread_id() + (0 if acc > 0 else 100)


_kernel = parallel_kernel(_ids)


def thread_ids(n):
    out = np.full(n, -1, dtype=np.int64)
    _kernel(out)
    return out


def _isolate(monkeypatch):
    """No limit left by an earlier test of the session: in the whole suite
    (after the Dask and engine tests, on a loaded machine) the OpenMP limit
    read at launch was 1 now and then; the limits these tests set still
    reach the kernels through the Numba controller (and a fresh process
    checks the OpenMP route below)."""
    monkeypatch.setattr(_threads, "_NUMBA_LIMIT", [None])
    monkeypatch.setattr(_threads, "_openmp_limit", lambda: None)


def _with_threads(monkeypatch, n):
    """Make the default choice ``n`` threads, whatever the machine's load."""
    _isolate(monkeypatch)
    monkeypatch.setattr(_threads, "busy_cores", lambda now=None: 0.0)
    monkeypatch.setattr(_threads, "cpu_count", lambda: n)


needs_two = pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2,
                               reason="one Numba thread")


@needs_two
def test_threadpool_limits_reaches_the_kernels(monkeypatch):
    _with_threads(monkeypatch, 2)
    assert set(thread_ids(4096)) == {0, 1}      # both threads, when free
    with threadpool_limits(1):
        assert set(thread_ids(4096)) == {0}
    assert set(thread_ids(4096)) == {0, 1}      # the limit is lifted


@needs_two
def test_numba_controller_is_listed_and_limits(monkeypatch):
    _with_threads(monkeypatch, 2)
    thread_ids(8)  # Numba's threading layer is loaded
    numba_libs = [i for i in threadpool_info() if i["user_api"] == "numba"]
    assert len(numba_libs) == 1
    assert numba_libs[0]["num_threads"] == numba.config.NUMBA_NUM_THREADS
    with threadpool_limits(1, user_api="numba"):
        assert [i["num_threads"] for i in threadpool_info()
                if i["user_api"] == "numba"] == [1]
        assert set(thread_ids(4096)) == {0}
    assert _threads._NUMBA_LIMIT[0] is None


@needs_two
def test_n_jobs_and_numba_set_num_threads_cap_a_launch(monkeypatch):
    _with_threads(monkeypatch, 2)
    with _threads.limit(1):
        assert set(thread_ids(4096)) == {0}
    before = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        assert set(thread_ids(4096)) == {0}
        assert numba.get_num_threads() == 1     # the user's setting kept
    finally:
        numba.set_num_threads(before)
    chunk = numba.get_parallel_chunksize()
    thread_ids(4096)
    assert numba.get_parallel_chunksize() == chunk
    assert numba.get_num_threads() == before


def test_busy_cores_leave_one_thread_to_an_equal_split(monkeypatch):
    _isolate(monkeypatch)
    monkeypatch.setattr(_threads, "cpu_count", lambda: 2)
    monkeypatch.setattr(_threads, "busy_cores", lambda now=None: 1.0)
    assert _threads.choose(dealt=False) == 1
    assert _threads.choose(dealt=True) == 2    # work dealt piece by piece
    with _threads.limit(2):       # an explicit n_jobs is obeyed as given
        assert _threads.choose(dealt=False) == 2
    monkeypatch.setattr(_threads, "busy_cores", lambda now=None: 0.3)
    assert _threads.choose(dealt=False) == 2
    monkeypatch.setattr(_threads, "busy_cores", lambda now=None: 5.0)
    assert _threads.choose(dealt=False) == 1


def test_diagonal_gaussian_products_leave_busy_cores(monkeypatch):
    from probssl._events import SMALL_PRODUCT, blas_threads

    monkeypatch.setattr(_threads, "cpu_count", lambda: 2)
    monkeypatch.setattr(_threads, "busy_cores", lambda now=None: 1.0)
    if (_threads.blas_limit() or 1) < 2:
        pytest.skip("one BLAS thread")
    with blas_threads(10 * SMALL_PRODUCT):
        assert _threads.blas_limit() == 1
    monkeypatch.setattr(_threads, "busy_cores", lambda now=None: 0.0)
    with blas_threads(10 * SMALL_PRODUCT):
        assert _threads.blas_limit() == 2


def test_an_inner_fit_keeps_the_outer_limit():
    with _threads.limit(1):
        with _threads.limit(None) as n:
            assert n == 1
        with _threads.limit(3) as n:
            assert n == 1
    with _threads.limit(3):
        with _threads.limit(2) as n:
            assert n == 2
    assert getattr(_threads._FIT, "n_jobs", None) is None


def test_busy_cores_counts_other_processes_only(monkeypatch):
    hz = os.sysconf("SC_CLK_TCK")
    readings = iter([(1000, 0, 3), (1000 + hz * 1.5, hz * 1.0, 1)])
    monkeypatch.setattr(_threads, "_read_proc_stat", lambda: next(readings))
    monkeypatch.setitem(_threads._STATE, "sample", None)
    monkeypatch.setitem(_threads._STATE, "at", -1.0)
    # First reading: the tasks running at that instant, less the caller.
    assert _threads.busy_cores(now=10.0) == 2.0
    assert _threads.busy_cores(now=10.1) == 2.0   # kept for 0.2 s
    # Then 1.5 CPU-seconds in 1 s, 1.0 of them this process's own.
    assert _threads.busy_cores(now=11.0) == pytest.approx(0.5)


@pytest.mark.parametrize("n_jobs, expected", [(1, 1), (3, 3), (-1, 4),
                                              (-2, 3), (-9, 1), (None, None)])
def test_n_jobs_counts_as_scikit_learn(monkeypatch, n_jobs, expected):
    monkeypatch.setattr(_threads, "cpu_count", lambda: 4)
    assert _threads.resolve_n_jobs(n_jobs) == expected


@pytest.mark.parametrize("n_jobs, error", [(0, ValueError),
                                           ("2", TypeError),
                                           (1.5, TypeError),
                                           (True, TypeError)])
def test_bad_n_jobs(n_jobs, error):
    with pytest.raises(error, match="n_jobs"):
        _threads.resolve_n_jobs(n_jobs)


def test_run_tasks_raises_and_restores_blas():
    before = [lib.get_num_threads()
              for lib in _threads.blas_controller().lib_controllers]
    seen = []

    def task(i):
        seen.append(_threads.blas_limit())
        if i == 3:
            raise KeyError("task 3")

    with pytest.raises(KeyError, match="task 3"):
        _threads.run_tasks(task, 8, n_threads=2)
    assert set(seen) == {1}                        # one BLAS thread each
    assert [lib.get_num_threads() for lib in
            _threads.blas_controller().lib_controllers] == before


@pytest.mark.parametrize("covariance_type, shrinkage",
                         [("full", None), ("full", "auto"), ("full", 0.5),
                          ("tied", None), ("tied", "auto")])
def test_gaussian_results_do_not_depend_on_threads(monkeypatch,
                                                   covariance_type,
                                                   shrinkage):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(4500, 12)) + 5.0      # 3 row blocks (tied)
    R = rng.dirichlet(np.full(4, 0.5), X.shape[0])
    out = []
    for n in (1, 2, 3):
        monkeypatch.setattr(_threads, "choose",
                            lambda blas=False, dealt=True, n=n: n)
        ev = FullGaussianEvents(covariance_type, 1e-4, shrinkage)
        ev.shift = X.mean(axis=0)
        stats = ev.new_stats(4, 12)
        ev.add_stats(stats, ev.prepare(X), R)
        ev.m_step(stats)
        out.append((ev.covariances, ev.log_prob(X)))
    for cov, lp in out[1:]:
        assert_array_equal(cov, out[0][0])
        assert_array_equal(lp, out[0][1])
    # ... and agree with the direct formulas.
    from sklearn.mixture._gaussian_mixture import (
        _compute_precision_cholesky, _estimate_log_gaussian_prob)
    prec = _compute_precision_cholesky(out[0][0], covariance_type)
    ref = _estimate_log_gaussian_prob(X, ev.means, prec, covariance_type)
    np.testing.assert_allclose(out[0][1], ref, rtol=1e-9, atol=1e-9)


def test_limit_before_the_kernels_load():
    """``threadpool_limits(1)`` entered before the kernels' first use (a
    fresh process) still keeps a multinomial EM fit on one thread."""
    code = textwrap.dedent("""
        import numpy as np, scipy.sparse as sp
        from threadpoolctl import threadpool_limits
        import probssl
        from probssl import EMNaiveBayes, _threads
        _threads.busy_cores = lambda now=None: 0.0
        rng = np.random.default_rng(0)
        X = sp.csr_matrix(rng.poisson(0.3, size=(400, 60)).astype(float))
        y = np.full(400, -1); y[:20] = np.arange(20) % 2
        with threadpool_limits(1):
            EMNaiveBayes(max_iter=3).fit(X, y)
        print(sorted(_threads.LAUNCHES))
    """)
    env = dict(os.environ, PYTHONPATH=ROOT)
    out = subprocess.run([sys.executable, "-c", code], env=env, check=True,
                         capture_output=True, text=True).stdout
    assert out.strip().splitlines()[-1] == "[1]"


@needs_two
@pytest.mark.parametrize("name", ["EMNaiveBayes", "MixtureOfExperts",
                                  "HybridClassifier"])
def test_estimators_n_jobs(monkeypatch, name):
    import scipy.sparse as sp

    import probssl

    _with_threads(monkeypatch, 2)
    rng = np.random.default_rng(0)
    X = sp.csr_matrix(rng.poisson(0.3, size=(300, 40)).astype(float))
    y = np.full(300, -1)
    y[:20] = np.arange(20) % 2
    for n_jobs, expected in ((1, [1]), (None, [2]), (-1, [2])):
        _threads.LAUNCHES.clear()
        est = getattr(probssl, name)(n_jobs=n_jobs, max_iter=3)
        with pytest.warns(Warning):   # no convergence in 3 iterations
            est.fit(X, y)
        est.predict_proba(X)
        assert sorted(_threads.LAUNCHES) == expected
    with pytest.raises(ValueError, match="n_jobs"):
        getattr(probssl, name)(n_jobs=0).fit(X, y)


@pytest.mark.parametrize("covariance_type", ["full", "tied"])
def test_gaussian_statistics_skip_rows_of_weight_zero(covariance_type):
    """A start from 200 labeled rows of 3,000 (the others weigh 0 for every
    component) gives scikit-learn's estimates on those rows."""
    from sklearn.mixture._gaussian_mixture import (
        _estimate_gaussian_parameters)

    rng = np.random.default_rng(1)
    X = rng.normal(size=(3000, 6)) + 2.0
    R = np.zeros((3000, 3))
    rows = rng.choice(3000, 200, replace=False)
    R[rows, np.arange(200) % 3] = 1.0
    ev = FullGaussianEvents(covariance_type, 1e-4)
    ev.shift = X.mean(axis=0)
    stats = ev.new_stats(3, 6)
    ev.add_stats(stats, ev.prepare(X), R)
    ev.m_step(stats)
    _, means, covs = _estimate_gaussian_parameters(X[rows], R[rows], 1e-4,
                                                   covariance_type)
    np.testing.assert_allclose(ev.means, means, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ev.covariances, covs, rtol=1e-10, atol=1e-12)


@needs_two
def test_kernel_launches_leave_out_a_busy_core(monkeypatch):
    """A kernel launch ends at a join that a thread descheduled on a busy
    core holds up: with one of two cores busy, launches take one thread
    (before: two, no faster than one on Nigam's split); n_jobs still wins."""
    import scipy.sparse as sp

    from probssl import EMNaiveBayes

    _with_threads(monkeypatch, 2)
    rng = np.random.default_rng(0)
    X = sp.csr_matrix(rng.poisson(0.3, size=(300, 40)).astype(float))
    y = np.full(300, -1)
    y[:20] = np.arange(20) % 2
    fits = {}
    for busy, n_jobs, expected in ((0.0, None, [2]), (1.0, None, [1]),
                                   (1.0, 2, [2])):
        monkeypatch.setattr(_threads, "busy_cores", lambda now=None: busy)
        _threads.LAUNCHES.clear()
        model = EMNaiveBayes(max_iter=5, tol=0, n_jobs=n_jobs)
        with pytest.warns(Warning):
            fits[busy, n_jobs] = model.fit(X, y)
        assert sorted(_threads.LAUNCHES) == expected
    # One thread (one column range for the scatter) or two: same numbers.
    assert_array_equal(fits[0.0, None].feature_log_prob_,
                       fits[1.0, None].feature_log_prob_)
