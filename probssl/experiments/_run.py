"""The engine's loop: draws (``--jobs``), the results store, progress and
the written outputs (see :mod:`.engine`)."""

import contextlib
import ctypes
import multiprocessing
import os
import signal
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool

import numpy as np
from sklearn.metrics import f1_score
from threadpoolctl import threadpool_limits

from ..metrics import breakeven
from ._protocol import parse_settings, store_settings


class RunFailed(RuntimeError):
    """A fit or prediction of a draw failed (not a usage error)."""


class InputError(ValueError):
    """The protocol's data could not be loaded (names the file)."""


def _breakeven(y, pred, proba, classes):
    # The positive class is the last one; no positive test row scores 0.
    positive = np.asarray(y) == classes[-1]
    return breakeven(positive, np.asarray(proba)[:, -1]) if positive.any() \
        else 0.0


# ``name: f(y_true, y_pred, proba, classes)``, each a float.
METRICS = {
    "accuracy": lambda y, pred, proba, classes: float(np.mean(
        np.asarray(pred) == np.asarray(y))),
    "macro_f1": lambda y, pred, proba, classes: float(f1_score(
        y, pred, average="macro")),
    "breakeven": _breakeven}


# -- one draw ----------------------------------------------------------------

_DATA = {}


class Context:
    """What a draw sees: the settings, the data (loaded once per process,
    on first use), the store."""

    def __init__(self, proto, s, store, quiet):
        self.proto, self.s, self.store, self.quiet = proto, s, store, quiet
        self.reused = 0
        self.add = store.add  # store a finished row; returns it as stored

    @property
    def data(self):
        key = repr(sorted(self.s.items()))  # s names its protocol
        if key not in _DATA:
            _DATA.clear()
            try:
                _DATA[key] = self.proto.load(self.s)
            except (FileNotFoundError, ValueError) as exc:
                raise InputError(str(exc)) from exc
        return _DATA[key]

    def get(self, key):
        row = self.store.get(key)
        self.reused += row is not None
        return row

    def log(self, text):
        if not self.quiet:
            print(f"  {text}", flush=True)


def generic_draw(ctx, draw):
    """Fit every selected method on one draw, predict, score."""
    proto, s = ctx.proto, ctx.s
    names = s.get("methods") or tuple(proto.methods)
    rows = {name: ctx.get({**draw, "method": name}) for name in names}
    if all(row is not None for row in rows.values()):
        return list(rows.values())
    data = ctx.data
    lab, unl = proto.split(data, draw, s)
    for name in [n for n in names if rows[n] is None]:
        method = proto.methods[name]
        if method.semi:
            X_fit = data.X[np.concatenate([lab, unl])]
            y_fit = np.concatenate([data.y[lab], np.full(len(unl), -1)])
        else:
            X_fit, y_fit = data.X[lab], data.y[lab]
        start = time.perf_counter()
        try:
            model = method.make(s)
            model.fit(X_fit, y_fit)
            fit_time = time.perf_counter() - start
            pred = model.predict(data.X_test)
            proba = (model.predict_proba(data.X_test)
                     if "breakeven" in proto.metrics else None)
            scores = {m: METRICS[m](data.y_test, pred, proba,
                                    model.classes_) for m in proto.metrics}
        except Exception as exc:
            raise RunFailed(f"{proto.name}: {name} failed on draw "
                            f"{_describe(draw)}: {type(exc).__name__}: "
                            f"{exc}") from exc
        rows[name] = ctx.add({
            **draw, "method": name,
            "n_labeled": int(draw.get("n_labeled", len(lab))),
            "n_unlabeled": int(len(unl)) if method.semi else 0,
            "n_test": int(len(data.y_test)), **scores,
            "fit_time_s": fit_time,
            "n_iter": int(getattr(model, "n_iter_", 0) or 0), **method.extra})
        ctx.log(f"{_describe(draw)} {name}: accuracy "
                f"{rows[name]['accuracy']:.4f} ({fit_time:.2f} s)")
    return list(rows.values())


def _describe(draw):
    return " ".join(f"{k}={v}" for k, v in draw.items())


def batch_draw(compute, keys=None):
    """A ``run_draw`` for a protocol whose draw makes every method's rows
    at once: ``compute(data, draw, s)`` returns them; it runs unless every
    row of ``keys(s)`` (default: one per selected method) is stored."""
    def run_draw(ctx, draw):
        wanted = (keys(ctx.s) if keys else
                  [{"method": m} for m in ctx.s["methods"]])
        done = [ctx.get({**draw, **k}) for k in wanted]
        if all(r is not None for r in done):
            return done
        rows = [ctx.add(r) for r in compute(ctx.data, draw, ctx.s)]
        metric = ctx.proto.metrics[0]
        ctx.log(f"{_describe(draw)}: " + ", ".join(
            f"{r['method']} {100 * r[metric]:.1f}" for r in rows))
        return rows
    return run_draw


def _execute(ctx, draw):
    if ctx.proto.run_draw is None:
        return generic_draw(ctx, draw)
    try:
        return ctx.proto.run_draw(ctx, draw)
    except (InputError, RunFailed, MemoryError, OSError):
        raise
    except Exception as exc:
        raise RunFailed(f"{ctx.proto.name}: draw {_describe(draw)} failed: "
                        f"{type(exc).__name__}: {exc}") from exc


# -- parallel draws ----------------------------------------------------------

_WORKER = {}


def _worker_init(threads):
    # Ctrl-C goes to the whole process group: the parent alone handles it
    # (and ends the workers), so no worker prints a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # The command's SIGTERM handler (``kill`` as Ctrl-C) is inherited by the
    # fork: a worker the parent terminates must just end, not raise
    # KeyboardInterrupt inside its queue read and print a traceback.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if sys.platform.startswith("linux"):
        # A worker dies with its parent (killed, not interrupted) instead
        # of finishing its draw as an orphan: prctl(PR_SET_PDEATHSIG).
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)
    numba = sys.modules.get("numba")
    if numba is None:
        # Read when Numba is imported; once it is, its thread count is
        # fixed and only set_num_threads may lower it.
        os.environ["NUMBA_NUM_THREADS"] = str(threads)
    else:
        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    _WORKER["limits"] = threadpool_limits(threads)


def _counted(ctx, draw):
    """The draw's rows and how many of them were stored already."""
    ctx.reused = 0
    return _execute(ctx, draw), ctx.reused


def _worker_draw(index):
    return index, _counted(_WORKER["ctx"], _WORKER["draws"][index])


def _run_draws(ctx, draws, jobs, progress):
    """``[(rows, n_reused)]`` per draw, in draw order."""
    if jobs == 1 or len(draws) <= 1:
        results = []
        for draw in draws:
            results.append(_counted(ctx, draw))
            progress.step()
        return results
    # fork: the workers inherit the settings, the store and any loaded
    # data without pickling them; only the draw's index and its rows cross.
    results = [None] * len(draws)
    _WORKER.update(ctx=ctx, draws=draws)
    pool = ProcessPoolExecutor(
        min(jobs, len(draws)), initializer=_worker_init,
        initargs=(max(1, (os.cpu_count() or 1) // jobs),),
        mp_context=multiprocessing.get_context(
            "fork" if "fork" in multiprocessing.get_all_start_methods()
            else None))
    try:
        futures = [pool.submit(_worker_draw, i) for i in range(len(draws))]
        for future in as_completed(futures):
            i, result = future.result()
            results[i] = result
            progress.step()
    except BrokenProcessPool as exc:
        raise RunFailed(f"{ctx.proto.name}: a worker process died (killed, "
                        "or out of memory?); the finished rows are kept"
                        ) from exc
    finally:
        # Finished, failed or interrupted: no worker outlives the run (a
        # worker busy with a draw is ended, not waited for).
        workers = list((pool._processes or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for worker in workers:
            if worker.is_alive():
                worker.terminate()
        for worker in workers:
            worker.join()
        # The pool's manager thread may have started a worker after the
        # snapshot above; waiting for it joins every worker it started
        # (the ended ones at once, an idle new one on its stop sentinel).
        pool.shutdown(wait=True)
        _WORKER.clear()
    return results


class Progress:
    """k of N draws, elapsed and ETA: a tqdm bar on a terminal or in a
    notebook, else one log line per finished draw."""

    def __init__(self, total, label, quiet=False):
        self.total, self.label, self.quiet = total, label, quiet
        self.k, self.start, self.bar = 0, time.perf_counter(), None
        interactive = sys.stdout.isatty() or "ipykernel" in sys.modules
        if not quiet and interactive and total > 1:
            with contextlib.suppress(ImportError):  # tqdm is optional
                from tqdm.auto import tqdm

                self.bar = tqdm(total=total, desc=label, unit="draw",
                                leave=False)

    def step(self):
        self.k += 1
        if self.bar is not None:
            self.bar.update(1)
        elif not self.quiet:
            elapsed = time.perf_counter() - self.start
            eta = elapsed / self.k * (self.total - self.k)
            print(f"{self.label}: {self.k} of {self.total} draws, "
                  f"{elapsed:.0f} s elapsed, ETA {eta:.0f} s", flush=True)

    def close(self):
        if self.bar is not None:
            self.bar.close()


# -- the run -----------------------------------------------------------------

def run_protocol(proto, options=None, out=None, jobs=1, fresh=False,
                 quiet=False):
    """Run ``proto`` with ``options`` (``{name: text or value}``).

    Parameters
    ----------
    proto : Protocol
    options : dict, default=None
        Option values by name (text as on the command line, or values);
        missing ones take the protocol's defaults.
    out : str, default=None
        Results folder; None keeps the rows in memory.
    jobs : int, default=1
        Draws run in this many processes.
    fresh : bool, default=False
        Recompute every row, even those stored with equal settings and code.
    quiet : bool, default=False
        No progress and no per-row lines.

    Returns
    -------
    rows : list of dict

    Raises
    ------
    ValueError
        A bad option (naming it), a damaged results file (naming it), data
        that cannot be read (:class:`InputError`).
    RunFailed
        A fit or prediction failed.
    """
    from ._output import write_outputs
    from ._report import ResultStore

    options = dict(options or {})
    # Settings parse_settings made already (the CLI checks them before
    # any work) are taken as they are.
    s = (options if options.get("protocol") == proto.name
         else parse_settings(proto, options))
    store = ResultStore(out, store_settings(proto, s), key=proto.key,
                        fresh=fresh)
    draws = (proto.draws(s) if proto.draws else
             [{"n_labeled": int(n), "seed": int(k)}
              for n in s["labeled"] for k in range(s["seeds"])])
    start = time.perf_counter()
    progress = Progress(len(draws), proto.name, quiet)
    try:
        results = _run_draws(Context(proto, s, store, quiet), draws, jobs,
                             progress)
    finally:
        progress.close()
    rows = [row for draw_rows, _ in results for row in draw_rows]
    reused = sum(n for _, n in results)
    if not quiet:
        if store.path is not None and (reused or store.other_rows):
            print(f"reused {reused} of {len(rows)} rows from {store.path}"
                  + (f" ({len(store.other_rows)} stored rows of other "
                     "settings or code not reused)" if store.other_rows
                     else ""), flush=True)
        print(f"{proto.name}: {len(rows)} rows in "
              f"{time.perf_counter() - start:.0f} s", flush=True)
    if out is not None:
        write_outputs(proto, s, rows, out, store.settings, quiet=quiet)
    return rows
