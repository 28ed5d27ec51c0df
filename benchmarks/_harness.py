"""What the quiet / busy benchmark scripts share.

* :func:`busy_core`: a second process spinning on one core for the length
  of a block (started here, always killed, also when the run is stopped:
  :func:`exit_on_sigterm` makes SIGTERM unwind the ``finally`` blocks);
* :func:`timed` and :func:`interleaved_best`: wall seconds, best of
  interleaved rounds (each fit meets the same load as its neighbours);
* :func:`run_elsewhere`: the same measurement with another source tree
  first on ``PYTHONPATH`` (``--before DIR``), in a subprocess that prints
  its result as JSON on its last line;
* :func:`markdown_table`.
"""

import contextlib
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
STATES = ("quiet", "busy")


def exit_on_sigterm():
    """SIGTERM raises SystemExit, so that ``finally`` blocks (the busy
    process, a ``--before`` child) run when the benchmark is stopped."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


@contextlib.contextmanager
def busy_core(busy=True, settle=0.5):
    """Within the block, another process spins on one core (``busy``);
    ``settle`` seconds first, so that it shows in ``/proc/stat``."""
    if not busy:
        yield None
        return
    proc = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(settle)
        yield proc
    finally:
        proc.kill()
        proc.wait()


def timed(fn, cpu=None):
    """Wall seconds of ``fn()``; its process CPU seconds into ``cpu``."""
    start, start_cpu = time.perf_counter(), time.process_time()
    fn()
    if cpu is not None:
        cpu.append(time.process_time() - start_cpu)
    return time.perf_counter() - start


def interleaved_best(fits, repeat, slow=10.0, log=None):
    """``{name: (best seconds, what the last call returned)}`` of the
    callables in ``fits`` over ``repeat`` interleaved rounds; a fit that
    took more than ``slow`` seconds is not repeated. ``log``: a file to
    write each time to as it comes (progress of long runs)."""
    best, out = {}, {}
    for round_ in range(repeat):
        for name, fit in fits.items():
            if round_ and best[name] > slow:
                continue
            start = time.perf_counter()
            out[name] = fit()
            t = time.perf_counter() - start
            best[name] = min(best.get(name, float("inf")), t)
            if log is not None:
                print(f"    {name}: {t:.3f} s", file=log, flush=True)
    return {name: (best[name], out[name]) for name in fits}


def run_elsewhere(source, code):
    """Run ``code`` (Python) in a subprocess with ``source`` (a checkout of
    other code) first on ``PYTHONPATH`` and this folder importable; returns
    the JSON value the code prints on its last line of output."""
    source = os.path.abspath(source)
    code = f"import sys; sys.path[:0] = [{source!r}, {HERE!r}]\n" + code
    env = dict(os.environ, PYTHONPATH=source)
    run = subprocess.run([sys.executable, "-c", code], env=env,
                         capture_output=True, text=True)
    if run.returncode:
        raise RuntimeError(f"the run with {source} failed:\n{run.stderr}")
    return json.loads(run.stdout.strip().splitlines()[-1])


def dgemm_rate(n=2048, repeat=5):
    """Flops per second of this machine's dgemm (NumPy's BLAS)."""
    a = np.random.default_rng(0).standard_normal((n, n))
    best = np.inf
    for _ in range(repeat):
        start = time.perf_counter()
        a @ a
        best = min(best, time.perf_counter() - start)
    return 2.0 * n**3 / best


def markdown_table(header, rows):
    """A Markdown table: ``header`` (names; a name ending in ``>`` is a
    right-aligned column, shown without the ``>``) and rows of cells."""
    names = [h.rstrip(">") for h in header]
    align = ["---:" if h.endswith(">") else "---" for h in header]
    lines = ["| " + " | ".join(names) + " |", "|" + "|".join(align) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)
