"""How many threads a kernel launch or a BLAS product may use.

Three limits, the smallest wins:

1. ``n_jobs`` of the fit in progress (:func:`limit`, a context manager the
   estimators enter; ``None``: no limit, ``-1``: all CPUs, ``-2``: all but
   one, as scikit-learn counts);
2. :func:`threadpoolctl.threadpool_limits`: the kernels run on Numba's
   threading layer, for which this module registers a threadpoolctl
   controller (``user_api="numba"``, listed by ``threadpool_info()`` once a
   kernel has run); before that, and for ``user_api="openmp"``, the limit
   threadpoolctl set on the OpenMP runtimes already loaded is read at
   launch (Numba's layer is OpenMP); BLAS products keep to the BLAS limit;
   ``numba.set_num_threads`` counts too;
3. the machine: the CPUs this process may run on (its affinity mask).

Work split in equal shares across threads runs at the pace of the
slowest: on a 2-core machine with one core taken by another process, two
threads are no faster than one, multi-threaded BLAS slower. So the
Gaussian models' products, seconds of work, are dealt to the threads
piece by piece as they come free (:func:`run_tasks`): a thread on a busy
core takes fewer pieces, and its share of that core adds to the others'
rather than holding them up; that work takes every thread the limits
allow. Work that cannot be dealt (a multi-threaded BLAS product) and the
kernels' launches, milliseconds each and ended by a join that a
descheduled thread holds up for a scheduler time slice, leave out, when
left to the defaults, the cores other processes keep busy
(:func:`busy_cores`: the CPU time the machine spent outside this process
over the last fraction of a second, from ``/proc/stat``). An explicit
``n_jobs`` or thread limit is obeyed as given. Results do not depend on
the thread count (the kernels sum in a fixed order; each task writes its
own outputs, row blocks are fixed).
"""

from __future__ import annotations

import collections
import contextlib
import numbers
import os
import threading
import time

from ._typing import MethodT

__all__ = ["limit", "uses_n_jobs", "ceiling", "choose", "busy_cores",
           "blas_controller", "single_blas", "run_tasks"]

_FIT = threading.local()      # .n_jobs of the fit in this Python thread
_NUMBA_LIMIT = [None]         # set through threadpoolctl's controller
_OPENMP = []                  # omp_get_max_threads of the loaded runtimes
_BLAS = []                    # threadpoolctl's BLAS controllers (one scan)
_SAMPLE_EVERY = 0.2           # seconds between two readings of /proc/stat
_STATE = {"sample": None, "busy": None, "at": -1.0}
_LOCK = threading.Lock()
# Parallel launches (kernels) and task runs (BLAS) by thread count, for
# benchmarks and tests to see what a fit used.
LAUNCHES = collections.Counter()
TASK_RUNS = collections.Counter()


def cpu_count():
    """CPUs this process may run on (its affinity mask where known)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def resolve_n_jobs(n_jobs):
    """``n_jobs`` as a thread count (None: no limit), scikit-learn's way:
    -1 all CPUs, -2 all but one; 0 is an error."""
    if n_jobs is None:
        return None
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, numbers.Integral):
        raise TypeError(f"n_jobs must be None or an int, got {n_jobs!r}.")
    n_jobs = int(n_jobs)
    if n_jobs == 0:
        raise ValueError("n_jobs must be None, a positive int or a negative "
                         "int (-1: all CPUs), got 0.")
    n = cpu_count()
    return max(1, n + 1 + n_jobs) if n_jobs < 0 else n_jobs


@contextlib.contextmanager
def limit(n_jobs):
    """Within the block, kernels and BLAS products of this Python thread
    use at most ``n_jobs`` threads (None: no further limit; a block inside
    another keeps the outer limit when it is smaller, so that a model
    fitted inside another's fit stays within the outer ``n_jobs``)."""
    n = resolve_n_jobs(n_jobs)
    previous = getattr(_FIT, "n_jobs", None)
    _FIT.n_jobs = previous if n is None else (
        n if previous is None else min(n, previous))
    try:
        yield _FIT.n_jobs
    finally:
        _FIT.n_jobs = previous


def uses_n_jobs(method: MethodT) -> MethodT:
    """Run an estimator method under ``limit(self.n_jobs)`` (None for an
    estimator without ``n_jobs``)."""
    import functools

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        with limit(getattr(self, "n_jobs", None)):
            return method(self, *args, **kwargs)

    return wrapper


def _openmp_limit():
    """The smallest OpenMP thread limit of the runtimes seen at the first
    scan (threadpoolctl's ``omp_set_num_threads`` applies per calling
    thread, as do the launches)."""
    if not _OPENMP:
        _scan()
    funcs = _OPENMP[0]
    return min((f() for f in funcs), default=None)


def _scan():
    """One threadpoolctl scan of the loaded libraries (tens of ms): the
    OpenMP runtimes' ``omp_get_max_threads`` and the BLAS controllers."""
    from threadpoolctl import ThreadpoolController

    ctl = ThreadpoolController()
    funcs = []
    for lib in ctl.select(user_api="openmp").lib_controllers:
        f = getattr(lib.dynlib, "omp_get_max_threads", None)
        if f is not None:
            funcs.append(f)
    _OPENMP[:] = [funcs]
    _BLAS[:] = [ctl.select(user_api="blas")]


def blas_controller():
    """threadpoolctl's controller of the loaded BLAS libraries (made once)."""
    if not _BLAS:
        _scan()
    return _BLAS[0]


def blas_limit():
    """The BLAS thread limit in force (threadpool_limits, or the default)."""
    libs = blas_controller().lib_controllers
    counts = [lib.get_num_threads() for lib in libs]
    counts = [c for c in counts if c]
    return min(counts) if counts else None


def ceiling(blas=False):
    """The most threads allowed now: n_jobs, the CPUs of the affinity mask
    and threadpoolctl's limits: the Numba controller's and OpenMP's for a
    kernel launch, the BLAS limit for ``blas`` (products)."""
    limits = [cpu_count()]
    n_jobs = getattr(_FIT, "n_jobs", None)
    if n_jobs is not None:
        limits.append(n_jobs)
    if blas:
        limits.append(blas_limit() or limits[0])
    else:
        if _NUMBA_LIMIT[0] is not None:
            limits.append(_NUMBA_LIMIT[0])
        limits.append(_openmp_limit() or limits[0])
    return max(1, min(limits))


def _read_proc_stat():
    """(busy ticks of all CPUs, ticks of this process, running tasks)."""
    with open("/proc/stat", "rb") as f:
        text = f.read(4096).split(b"\n")
    fields = [int(v) for v in text[0].split()[1:9]]
    busy = sum(fields) - fields[3] - fields[4]    # minus idle and iowait
    running = 0
    for line in text:
        if line.startswith(b"procs_running"):
            running = int(line.split()[1])
    t = os.times()
    own = (t.user + t.system) * os.sysconf("SC_CLK_TCK")
    return busy, own, running


def busy_cores(now=None):
    """Cores other processes keep busy (a float), or None where unknown.

    The CPU time the machine spent outside this process per second of the
    window since the previous reading (read at most every 0.2 s and kept
    meanwhile); the first reading counts the tasks running at that instant
    other than the caller. Costs a read of ``/proc/stat`` (~20 us) when a
    new reading is due, nothing otherwise.
    """
    now = time.monotonic() if now is None else now
    with _LOCK:
        if now - _STATE["at"] < _SAMPLE_EVERY and _STATE["busy"] is not None:
            return _STATE["busy"]
        try:
            busy, own, running = _read_proc_stat()
        except (OSError, ValueError, IndexError):
            return None
        previous = _STATE["sample"]
        _STATE["sample"] = (now, busy, own)
        _STATE["at"] = now
        if previous is None or now - previous[0] > 5.0:
            # No window yet (or a stale one): the instant's running tasks
            # but this one; our own idle threads are asleep, not running.
            value = float(max(running - 1, 0))
        else:
            ticks = (now - previous[0]) * os.sysconf("SC_CLK_TCK")
            value = max(0.0, ((busy - previous[1]) - (own - previous[2]))
                        / max(ticks, 1e-9))
        _STATE["busy"] = value
        return value


def choose(blas=False, dealt=True):
    """Threads for the next launch (or, with ``blas``, BLAS work).

    ``dealt``: the work is handed to the threads piece by piece as they
    come free (the kernels, :func:`run_tasks`): then every thread the
    ceiling allows (:func:`ceiling`), since a thread on a busy core only
    takes fewer pieces, and its share of that core still adds to the
    others'. Otherwise (a product BLAS splits in equal shares, where the
    slowest share sets the time) the ceiling less the cores other
    processes keep busy, a core counting as busy from half its time on;
    never fewer than 1. An explicit ``n_jobs`` is obeyed as given.
    """
    top = ceiling(blas)
    if dealt or top == 1 or getattr(_FIT, "n_jobs", None) is not None:
        return top
    busy = busy_cores()
    if busy is None:
        return top
    free = cpu_count() - int(busy + 0.5)
    return max(1, min(top, free))


# -- Python threads over BLAS tasks -------------------------------------------
_POOL = []  # one executor per process, made on first use


def _forget_pool():
    _POOL.clear()  # its threads did not survive the fork


os.register_at_fork(after_in_child=_forget_pool)


@contextlib.contextmanager
def single_blas():
    """BLAS on one thread within the block (threadpoolctl's limit, set
    back after): the parallelism is the caller's."""
    libs = blas_controller().lib_controllers
    before = [lib.get_num_threads() for lib in libs]
    for lib, n in zip(libs, before):
        if n != 1:
            lib.set_num_threads(1)
    try:
        yield
    finally:
        for lib, n in zip(libs, before):
            if n != 1:
                lib.set_num_threads(n)


def run_tasks(func, n_tasks, n_threads=None):
    """``func(0) ... func(n_tasks - 1)`` on ``n_threads`` Python threads
    (the caller's among them; default :func:`choose` for BLAS), BLAS on
    one thread each. Tasks are handed out one at a time, so a thread on a
    busy core does fewer; each task must write only its own outputs, which
    then do not depend on the thread count or the timing."""
    if n_threads is None:
        n_threads = choose(blas=True, dealt=True)
    n_threads = max(1, min(n_threads, n_tasks))
    TASK_RUNS[n_threads] += 1
    with single_blas():
        if n_threads == 1:
            for i in range(n_tasks):
                func(i)
            return
        import itertools
        from concurrent.futures import ThreadPoolExecutor

        if not _POOL:
            _POOL.append(ThreadPoolExecutor(
                max(1, cpu_count() - 1), thread_name_prefix="probssl"))
        counter = itertools.count()   # next() is atomic under the GIL
        failed = []

        def worker():
            for i in counter:
                if i >= n_tasks or failed:
                    return
                try:
                    func(i)
                except BaseException as exc:  # re-raised in the caller
                    failed.append(exc)
                    return

        futures = [_POOL[0].submit(worker) for _ in range(n_threads - 1)]
        worker()
        for f in futures:
            f.result()
        if failed:
            raise failed[0]


# -- threadpoolctl ------------------------------------------------------------
def _register():
    try:
        from threadpoolctl import LibController, register
    except ImportError:  # pragma: no cover - threadpoolctl comes with sklearn
        return

    class NumbaController(LibController):
        """probssl's kernels on Numba's threading layer: the limit set here
        caps every probssl launch (in all Python threads)."""

        user_api = "numba"
        internal_api = "numba"
        filename_prefixes = ("omppool", "tbbpool", "workqueue")
        check_symbols = ("do_scheduling_signed", "get_parallel_chunksize")

        def get_num_threads(self):
            import numba

            top = numba.config.NUMBA_NUM_THREADS
            return top if _NUMBA_LIMIT[0] is None else min(_NUMBA_LIMIT[0],
                                                           top)

        def set_num_threads(self, num_threads):
            import numba

            n = int(num_threads)
            # Set back to the maximum (threadpool_limits' exit) = no limit.
            _NUMBA_LIMIT[0] = (None if n >= numba.config.NUMBA_NUM_THREADS
                               else max(1, n))

        def get_version(self):
            import numba

            return numba.__version__

    register(NumbaController)


_register()
