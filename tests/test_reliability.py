"""Data integrity and interrupted runs (issue 14): the checksummed caches,
corrupt archives, result files written after every row, and the CLI's
handling of absurd arguments and interrupts."""

import json
import os
import re
import warnings

import numpy as np
import pytest

from probssl._cache import (CacheWarning, atomic_write, read_entry,
                            write_entry)
from probssl.experiments._report import ResultStore, settings_id

from _helpers import write_tiny_archive

SETTINGS = {"data": {"sha256": "ab" * 32, "size": 10}, "alpha": 0.01,
            "version": "test"}


def _row(method, seed, acc, **extra):
    return {"method": method, "n_labeled": 20, "seed": seed,
            "accuracy": acc, **extra}


# --------------------------------------------------------------------------
# ResultStore
# --------------------------------------------------------------------------


def test_store_writes_after_every_row(tmp_path):
    store = ResultStore(tmp_path, SETTINGS)
    assert store.rows == [] and store.get({"method": "NB"}) is None
    store.add(_row("NB", 0, 0.5))
    on_disk = json.loads((tmp_path / "results.json").read_text())
    assert [r["method"] for r in on_disk] == ["NB"]
    assert on_disk[0]["settings"] == SETTINGS
    store.add(_row("EM", 0, np.float64(0.75)))
    on_disk = json.loads((tmp_path / "results.json").read_text())
    assert [r["accuracy"] for r in on_disk] == [0.5, 0.75]
    csv_lines = (tmp_path / "results.csv").read_text().splitlines()
    assert csv_lines[0] == "method,n_labeled,seed,accuracy,settings_id"
    assert len(csv_lines) == 3 and csv_lines[1].endswith(settings_id(SETTINGS))
    assert [r["method"] for r in store.rows] == ["NB", "EM"]
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".tmp")]


def test_store_reuses_rows_with_same_settings_only(tmp_path):
    ResultStore(tmp_path, SETTINGS).add(_row("NB", 0, 0.5))
    again = ResultStore(tmp_path, SETTINGS)
    assert again.get({"method": "NB", "n_labeled": 20, "seed": 0}) == \
        _row("NB", 0, 0.5)
    assert again.get({"method": "NB", "seed": 1}) is None
    other = ResultStore(tmp_path, {**SETTINGS, "data": {"sha256": "cd" * 32}})
    assert other.get({"method": "NB", "seed": 0}) is None
    assert other.rows == [] and len(other.other_rows) == 1
    # The other settings' row is kept in the file, next to the new one.
    other.add(_row("NB", 0, 0.25))
    stored = json.loads((tmp_path / "results.json").read_text())
    assert sorted(r["accuracy"] for r in stored) == [0.25, 0.5]
    assert ResultStore(tmp_path, SETTINGS).get({"method": "NB"})["accuracy"] \
        == 0.5


def test_store_rerun_with_fewer_settings_keeps_rows(tmp_path):
    store = ResultStore(tmp_path, SETTINGS)
    for seed in range(3):
        store.add(_row("NB", seed, 0.1 * seed))
    small = ResultStore(tmp_path, SETTINGS)
    assert small.get({"method": "NB", "seed": 0}) is not None
    small.add(_row("EM", 0, 0.9))  # a run asking for seed 0 only
    stored = json.loads((tmp_path / "results.json").read_text())
    assert [(r["method"], r["seed"]) for r in stored] == [
        ("NB", 0), ("NB", 1), ("NB", 2), ("EM", 0)]


def test_store_replaces_same_key(tmp_path):
    store = ResultStore(tmp_path, SETTINGS)
    store.add(_row("NB", 0, 0.5))
    store.add(_row("NB", 1, 0.6))
    store.add(_row("NB", 0, 0.7))
    assert [r["accuracy"] for r in store.rows] == [0.7, 0.6]
    assert len(json.loads((tmp_path / "results.json").read_text())) == 2


def test_store_old_rows_without_settings_are_kept_not_reused(tmp_path):
    # A results.json of an older probssl: rows without settings.
    old = [_row("NB", 0, 0.5)]
    (tmp_path / "results.json").write_text(json.dumps(old))
    with pytest.warns(UserWarning, match="1 row.*without their settings"):
        store = ResultStore(tmp_path, SETTINGS)
    assert store.get({"method": "NB", "seed": 0}) is None
    store.add(_row("NB", 0, 0.6))
    stored = json.loads((tmp_path / "results.json").read_text())
    assert stored[0] == old[0] and stored[1]["accuracy"] == 0.6


@pytest.mark.parametrize("content", [
    b'[{"method": "NB", "seed": 0, "accu',  # truncated mid-write
    b"",
    b"\xff\xfe garbage",
    b'{"method": "NB"}',  # valid JSON, not a list of rows
    b"[1, 2]",
])
def test_store_damaged_results_json_names_the_file(tmp_path, content):
    path = tmp_path / "results.json"
    path.write_bytes(content)
    with pytest.raises(ValueError, match="results file .*results.json"):
        ResultStore(tmp_path, SETTINGS)
    assert path.read_bytes() == content  # never overwritten nor deleted


def test_store_out_is_a_file(tmp_path):
    target = tmp_path / "file.txt"
    target.write_text("x")
    with pytest.raises(ValueError, match="existing file"):
        ResultStore(target, SETTINGS)
    with pytest.raises(ValueError, match="is a file"):
        ResultStore(target / "sub", SETTINGS)


def test_store_in_memory(tmp_path):
    store = ResultStore(None, SETTINGS)
    store.add(_row("NB", 0, 0.5))
    assert store.get({"seed": 0})["accuracy"] == 0.5
    assert os.listdir(tmp_path) == []


def test_store_rejects_settings_field_and_non_json(tmp_path):
    store = ResultStore(tmp_path, SETTINGS)
    with pytest.raises(ValueError, match="settings"):
        store.add({"method": "NB", "settings": {}})
    with pytest.raises(TypeError):
        store.add({"method": "NB", "model": object()})
    assert not (tmp_path / "results.json").exists()


def test_store_merges_concurrent_writers(tmp_path):
    # Two stores on one folder (two processes, --jobs): neither loses the
    # other's rows.
    a, b = ResultStore(tmp_path, SETTINGS), ResultStore(tmp_path, SETTINGS)
    a.add(_row("NB", 0, 0.5))
    b.add(_row("NB", 1, 0.6))
    a.add(_row("NB", 2, 0.7))
    seeds = [r["seed"] for r in
             json.loads((tmp_path / "results.json").read_text())]
    assert seeds == [0, 1, 2]


def test_store_keeps_rows_when_file_vanishes(tmp_path):
    store = ResultStore(tmp_path, SETTINGS)
    store.add(_row("NB", 0, 0.5))
    os.remove(tmp_path / "results.json")
    store.add(_row("NB", 1, 0.6))
    seeds = [r["seed"] for r in
             json.loads((tmp_path / "results.json").read_text())]
    assert seeds == [0, 1]


# --------------------------------------------------------------------------
# probssl run: interrupted at random points, then resumed
# --------------------------------------------------------------------------

import random  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402


# A small, fast configuration of the seed protocol: 340 real posts,
# scikit-learn methods only (a fit takes milliseconds, so most of a run is
# the start of the process and the writing of the result files, where an
# interrupt is most likely to do damage).
SEEDS = 8
METHODS = "MultinomialNB,SelfTraining(MultinomialNB)"
N_ROWS = SEEDS * 2


def _run_argv(archive, out):
    return [sys.executable, "-m", "probssl", "run", "seed", "--data", archive,
            "--representation", "counts", "--seeds", str(SEEDS),
            "--labeled", "60", "--test-size", "100", "--methods", METHODS,
            "--out", str(out)]


def _env(tmp_path):
    env = dict(os.environ, PROBSSL_HOME=str(tmp_path / "home"))
    env.pop("PROBSSL_DATA", None)
    return env


def _table(rows):
    """The result table: every row's key and figures, fit time left out."""
    return sorted((r["representation"], r["method"], r["seed"],
                   r["n_labeled"], r["n_unlabeled"], r["n_test"],
                   r["accuracy"], r["macro_f1"]) for r in rows)


def _interrupted_run(argv, env, sig, after_rows, delay):
    """Start a run, send ``sig`` ``delay`` s after its ``after_rows``-th
    row line; return (returncode, stderr, whether it was still running)."""
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    err = []
    reader = threading.Thread(target=lambda: err.append(proc.stderr.read()))
    reader.start()
    seen = 0
    while seen < after_rows:
        line = proc.stdout.readline()
        if not line:
            break
        seen += "seed=" in line
    time.sleep(delay)
    running = proc.poll() is None
    if running:
        proc.send_signal(sig)
    proc.stdout.read()
    proc.wait(timeout=60)
    reader.join()
    return proc.returncode, err[0], running


def _check_resumed(argv, env, out, kept, reference, ref_md):
    """Run to completion; the table is the uninterrupted one."""
    done = subprocess.run(argv, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    final = json.loads((out / "results.json").read_text())
    assert _table(final) == _table(reference)
    for row in final:  # the rows finished before were reused as they are
        key = (row["method"], row["seed"])
        if key in kept:
            assert row == kept[key]
    assert len((out / "results.csv").read_text().splitlines()) == N_ROWS + 1
    md = (out / "results.md").read_text()
    table = [line for line in md.splitlines() if line.startswith("| counts")]
    assert [line.rsplit("|", 4)[0] for line in table] == \
        [line.rsplit("|", 4)[0] for line in ref_md.splitlines()
         if line.startswith("| counts")]


def test_run_interrupted_at_random_points_loses_nothing(tmp_path):
    archive = write_tiny_archive(tmp_path / "20news-bydate.tar.gz")
    env = _env(tmp_path)
    ref = subprocess.run(_run_argv(archive, tmp_path / "ref"), env=env,
                         capture_output=True, text=True, timeout=120)
    assert ref.returncode == 0, ref.stderr
    reference = json.loads((tmp_path / "ref" / "results.json").read_text())
    ref_md = (tmp_path / "ref" / "results.md").read_text()
    assert len(reference) == N_ROWS

    rng = random.Random(14)
    interrupts = {signal.SIGINT: 0, signal.SIGKILL: 0}
    folders = 0
    while sum(interrupts.values()) < 10 or min(interrupts.values()) < 4:
        assert folders < 4, interrupts
        out = tmp_path / f"out{folders}"
        folders += 1
        argv = _run_argv(archive, out)
        kept = {}  # finished rows seen so far, by key, with their fit times
        while len(kept) < N_ROWS:
            sig = min(interrupts, key=interrupts.get)
            # SIGKILL anywhere (imports included); SIGINT once the command
            # runs (a Ctrl-C during `import probssl` is Python's own).
            first = 0 if sig == signal.SIGKILL else 1
            after = rng.randrange(first, max(first + 1, N_ROWS - len(kept)))
            code, err, running = _interrupted_run(argv, env, sig, after,
                                                  rng.uniform(0, 0.03))
            if running and code == 0:
                # The run ended as the signal was sent (its last rows were
                # written): nothing was left to interrupt.
                running = False
            if running:
                interrupts[sig] += 1
            if running and sig == signal.SIGINT:
                assert code == 130, err
                lines = err.strip().splitlines()
                assert len(lines) == 1 and "interrupted" in lines[0], err
                assert "results.json" in lines[0]
            elif running:
                assert code == -signal.SIGKILL
            else:
                assert code == 0, err
            path = out / "results.json"
            if not path.exists():
                continue
            rows = json.loads(path.read_text())  # never truncated
            now = {(r["method"], r["seed"]): r for r in rows}
            assert len(now) == len(rows)
            for k, row in kept.items():  # no finished row lost or redone
                assert now.get(k) == row, k
            kept = now
        _check_resumed(argv, env, out, kept, reference, ref_md)


def test_store_brings_a_stale_csv_up_to_date(tmp_path):
    # Killed between the JSON and the CSV replacement: the CSV lags.
    store = ResultStore(tmp_path, SETTINGS)
    store.add(_row("NB", 0, 0.5))
    stale = (tmp_path / "results.csv").read_text()
    store.add(_row("NB", 1, 0.6))
    (tmp_path / "results.csv").write_text(stale)
    ResultStore(tmp_path, SETTINGS)
    assert len((tmp_path / "results.csv").read_text().splitlines()) == 3


# --------------------------------------------------------------------------
# probssl._cache: checksummed entries
# --------------------------------------------------------------------------


def _read_quiet(path, kind="k", meta=None):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        payload = read_entry(str(path), kind, meta)
    return payload, [w for w in caught if issubclass(w.category, CacheWarning)]


def test_entry_round_trip(tmp_path):
    path = tmp_path / "sub" / "e.bin"
    assert write_entry(str(path), b"payload \x00\xff", "k", {"a": (1, 2)})
    payload, warned = _read_quiet(path, "k", {"a": [1, 2]})
    assert payload == b"payload \x00\xff" and not warned
    assert _read_quiet(tmp_path / "missing", "k") == (None, [])


def test_entry_any_changed_byte_or_truncation_is_refused(tmp_path):
    path = tmp_path / "e.bin"
    write_entry(str(path), bytes(range(256)) * 2, "k", {"m": 1})
    good = path.read_bytes()
    for pos in range(len(good)):
        blob = bytearray(good)
        blob[pos] ^= 0x01
        path.write_bytes(bytes(blob))
        payload, warned = _read_quiet(path, "k", {"m": 1})
        # Only the JSON trailer's insignificant bytes could pass, and then
        # the payload is intact.
        assert payload is None or payload == bytes(range(256)) * 2, pos
        assert payload is not None or (warned and str(path) in
                                       str(warned[0].message)), pos
    for n in range(len(good)):
        path.write_bytes(good[:n])
        payload, warned = _read_quiet(path, "k", {"m": 1})
        assert payload is None and warned, n


@pytest.mark.parametrize("kind, meta, why", [
    ("other", {"m": 1}, "expected 'k'"),
    ("k", {"m": 2}, "other data or settings"),
])
def test_entry_foreign_is_refused(tmp_path, kind, meta, why):
    path = tmp_path / "e.bin"
    write_entry(str(path), b"x", kind, meta)
    payload, warned = _read_quiet(path, "k", {"m": 1})
    assert payload is None and why in str(warned[0].message)


def test_entry_unwritable_folder_warns_naming_it(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.warns(UserWarning, match=re.escape(str(blocker / "d"))):
        assert not write_entry(str(blocker / "d" / "e.bin"), b"x", "k")


def test_atomic_write_leaves_old_file_on_failure(tmp_path, monkeypatch):
    path = tmp_path / "f"
    atomic_write(str(path), b"old")

    def broken(fd):
        raise OSError("disk full (test)")

    monkeypatch.setattr(os, "fsync", broken)
    with pytest.raises(OSError, match="disk full"):
        atomic_write(str(path), b"new")
    assert path.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["f"]


def test_store_results_json_is_a_folder(tmp_path):
    (tmp_path / "results.json").mkdir()
    with pytest.raises(ValueError, match="results file .*results.json"):
        ResultStore(tmp_path, SETTINGS)


def test_seed_rows_from_parallel_draws_all_reach_the_file(tmp_path,
                                                          monkeypatch):
    # With --jobs the draws add their rows from worker processes: the
    # store's lock and merge keep every one of them.
    from probssl.experiments import seed

    monkeypatch.setenv("PROBSSL_HOME", str(tmp_path / "home"))
    archive = write_tiny_archive(tmp_path / "20news-bydate.tar.gz")
    from probssl.experiments.engine import run_protocol

    options = {"data": str(archive), "representation": "counts", "seeds": 4,
               "test_size": 100, "labeled": 60, "methods": (
                   "MultinomialNB", "SelfTraining(MultinomialNB)")}

    def run(out, jobs=1):
        return run_protocol(seed.PROTOCOL, options, out=out, jobs=jobs,
                            quiet=True)

    serial = run(tmp_path / "serial")
    parallel = run(tmp_path / "parallel", jobs=2)
    assert _table(parallel) == _table(serial)
    stored = json.loads((tmp_path / "parallel" / "results.json").read_text())
    assert _table(stored) == _table(serial)
    # Re-run: every row reused as stored (same fit times).
    again = run(tmp_path / "parallel", jobs=2)
    assert again == [{k: v for k, v in r.items()
                      if k not in ("settings", "checksum")}
                     for r in sorted(stored, key=lambda r: (r["seed"],
                                                            r["method"]))]


def test_store_removes_temporary_files_of_killed_writers(tmp_path):
    old = tmp_path / ".tmp-abc123-results.json"
    fresh = tmp_path / ".tmp-def456-results.csv"
    other = tmp_path / ".tmp-keep-notes.txt"
    for p in (old, fresh, other):
        p.write_text("partial")
    os.utime(old, (time.time() - 3600, time.time() - 3600))
    ResultStore(tmp_path, SETTINGS)
    assert not old.exists()
    assert fresh.exists() and other.exists()  # maybe still being written


def test_cache_write_removes_temporary_files_of_killed_writers(tmp_path):
    target = tmp_path / "entry.pkl"
    old = tmp_path / ".tmp-abc123-entry.pkl"
    other = tmp_path / ".tmp-abc123-other.pkl"
    for p in (old, other):
        p.write_bytes(b"partial")
        os.utime(p, (time.time() - 3600, time.time() - 3600))
    assert write_entry(str(target), b"x", "k")
    assert not old.exists() and other.exists()
