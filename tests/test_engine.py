"""The experiment engine: declarations, the results store keyed by code,
stored rows checked, parallel draws that end cleanly, tables and figures."""

import json
import multiprocessing
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from probssl.experiments import engine
from probssl.experiments._run import RunFailed
from probssl.experiments.engine import (Data, Method, Option, Protocol,
                                        labeled_option, methods_option,
                                        number, run_protocol, seeds_option)


def _load(s):
    rng = np.random.RandomState(0)
    X = np.vstack([rng.normal(c, 1.0, size=(60, 3)) for c in (0, 3)])
    y = np.repeat([0, 1], 60)
    return Data(X=X[::2], y=y[::2], X_test=X[1::2], y_test=y[1::2])


def _split(data, draw, s):
    rng = np.random.RandomState(draw["seed"])
    lab = np.concatenate([rng.choice(np.flatnonzero(data.y == c),
                                     draw["n_labeled"] // 2, replace=False)
                          for c in (0, 1)])
    return lab, np.setdiff1d(np.arange(data.y.size), lab)


class _Broken:
    def fit(self, X, y):
        raise ValueError("the fit went wrong")


def _toy(**kw):
    from sklearn.naive_bayes import GaussianNB

    from probssl import EMNaiveBayes

    return Protocol(**{
        "name": "toy", "title": "toy protocol",
        "options": (labeled_option((4, 10)), seeds_option(2),
                    methods_option(("GNB", "EM", "broken"), ("GNB", "EM")),
                    Option("reg", 1e-3, number(0, 1), "variance floor")),
        "load": _load, "split": _split,
        "methods": {
            "GNB": Method(lambda s: GaussianNB(), semi=False),
            "EM": Method(lambda s: EMNaiveBayes(event_model="gaussian",
                                                reg_covar=s["reg"])),
            "broken": Method(lambda s: _Broken())},
        "metrics": ("accuracy", "macro_f1", "breakeven"),
        "published": {"GNB": {4: 0.9, 10: 0.95}},
        "published_label": "a made-up paper", **kw})


def test_declared_protocol_runs_writes_and_reuses(tmp_path, capsys):
    out = str(tmp_path / "toy")
    rows = run_protocol(_toy(), {"seeds": 2}, out=out)
    assert len(rows) == 2 * 2 * 2
    for r in rows:
        assert {"method", "n_labeled", "seed", "accuracy", "macro_f1",
                "breakeven", "n_unlabeled", "fit_time_s"} <= set(r)
        assert 0.5 < r["accuracy"] <= 1
    assert {r["n_unlabeled"] for r in rows if r["method"] == "GNB"} == {0}
    text = capsys.readouterr().out
    assert "4 of 4 draws" in text and "ETA" in text  # log lines: no tty
    for name in ("results.json", "results.csv", "results.md", "table.csv",
                 "table.tex", "accuracy.png", "accuracy.pdf"):
        assert os.path.getsize(os.path.join(out, name)) > 0, name
    md = open(os.path.join(out, "results.md")).read()
    assert "GNB published" in md and "| 90.0 |" in md and "gap GNB" in md
    assert engine.code_identity()["source_sha256"] in md
    assert r"\toprule" in open(os.path.join(out, "table.tex")).read()
    assert "GNB mean" in open(os.path.join(out, "table.csv")).read()
    stored = json.load(open(os.path.join(out, "results.json")))
    assert all(r["settings"]["code"] == engine.code_identity()
               for r in stored)
    # Same settings and code: every row reused, and said so.
    again = run_protocol(_toy(), {"seeds": 2}, out=out)
    assert again == rows
    assert f"reused 8 of 8 rows from {out}" in capsys.readouterr().out
    # More seeds: the stored ones reused, the new ones computed.
    more = run_protocol(_toy(), {"seeds": 3}, out=out, quiet=True)
    assert more[:2] == rows[:2] and len(more) == 12
    assert capsys.readouterr().out == ""  # -q: no progress, no table
    # --fresh recomputes every row (new fit times).
    fresh = run_protocol(_toy(), {"seeds": 2}, out=out, fresh=True)
    assert [r["accuracy"] for r in fresh] == [r["accuracy"] for r in rows]
    assert [r["fit_time_s"] for r in fresh] != [r["fit_time_s"] for r in rows]
    assert "reused" not in capsys.readouterr().out.split("ETA")[-1]


def test_a_changed_setting_is_not_reused(tmp_path):
    out = str(tmp_path / "toy")
    rows = run_protocol(_toy(), {"seeds": 1, "reg": "0.001"}, out=out,
                        quiet=True)
    other = run_protocol(_toy(), {"seeds": 1, "reg": "0.01"}, out=out,
                         quiet=True)
    em = [i for i, r in enumerate(rows) if r["method"] == "EM"]
    assert [other[i]["fit_time_s"] for i in em] != \
        [rows[i]["fit_time_s"] for i in em]


def test_changed_package_source_is_not_silently_reused(tmp_path):
    """Issue 23: run, change a source file of (a copy of) the package, run
    again: nothing reused, and the new rows say which code made them."""
    import probssl

    root = tmp_path / "copy"
    shutil.copytree(os.path.dirname(probssl.__file__), root / "probssl",
                    ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path / "out"
    argv = [sys.executable, "-m", "probssl", "run", "milleruyar1996",
            "--labeled", "9", "--subsets", "1", "--inits", "1", "--methods",
            "supervised J=3", "--out", str(out)]
    # No matplotlib in the runs: the figure, not under test here, was
    # half of each run's time (the CLI writes the tables without it).
    no_plots = tmp_path / "no_plots" / "matplotlib"
    no_plots.mkdir(parents=True)
    (no_plots / "__init__.py").write_text("raise ImportError('no figures')\n")
    env = {**os.environ,
           "PYTHONPATH": os.pathsep.join([str(root), str(no_plots.parent)])}

    def run():
        # cwd: ``python -m`` puts it first on the path (not the checkout).
        result = subprocess.run(argv, capture_output=True, text=True,
                                env=env, timeout=300, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        return result.stdout, json.loads((out / "results.json").read_text())

    first, rows1 = run()
    second, rows2 = run()
    assert "reused 1 of 1 rows" in second and rows2 == rows1
    with open(root / "probssl" / "mixture_of_experts.py", "a") as f:
        f.write("\n# a change to the package\n")
    third, rows3 = run()
    assert "reused 0 of 1 rows" in third
    assert "1 stored rows of other settings or code not reused" in third
    codes = [r["settings"]["code"]["source_sha256"] for r in rows3]
    assert len(set(codes)) == 2 and len(rows3) == 2


@pytest.mark.parametrize("edit, why", [
    (lambda r: r.update(accuracy=5.0), "checksum"),
    (lambda r: r.update(accuracy="high"), "checksum"),
    (lambda r: r.pop("accuracy"), "checksum"),
    (lambda r: r.update(seed=-1), "checksum"),
])
def test_damaged_store_is_named_and_refused(tmp_path, edit, why):
    out = tmp_path / "toy"
    run_protocol(_toy(), {"seeds": 1}, out=str(out), quiet=True)
    path = out / "results.json"
    rows = json.loads(path.read_text())
    edit(rows[1])
    damaged = json.dumps(rows)
    path.write_text(damaged)
    with pytest.raises(ValueError, match=why) as info:
        run_protocol(_toy(), {"seeds": 1}, out=str(out), quiet=True)
    assert str(path) in str(info.value) and "row 1" in str(info.value)
    assert path.read_text() == damaged  # refused, not overwritten


@pytest.mark.parametrize("value, why", [
    (5.0, "not a fraction"), ("high", "not a fraction"),
    (float("nan"), "not a fraction"), (None, "not a fraction"),
    (-0.1, "not a fraction"), (True, "not a fraction")])
def test_unsound_row_with_a_valid_checksum_is_refused(tmp_path, value, why):
    # Even a row whose checksum was recomputed (a buggy writer) is checked.
    from probssl.experiments._report import row_checksum

    out = tmp_path / "toy"
    run_protocol(_toy(), {"seeds": 1}, out=str(out), quiet=True)
    path = out / "results.json"
    rows = json.loads(path.read_text())
    rows[0]["accuracy"] = value
    rows[0]["checksum"] = row_checksum(rows[0])
    path.write_text(json.dumps(rows))
    with pytest.raises(ValueError, match=why):
        run_protocol(_toy(), {"seeds": 1}, out=str(out), quiet=True)


def test_missing_accuracy_is_refused_naming_the_file(tmp_path):
    from probssl.experiments._report import row_checksum

    out = tmp_path / "toy"
    run_protocol(_toy(), {"seeds": 1}, out=str(out), quiet=True)
    path = out / "results.json"
    rows = json.loads(path.read_text())
    del rows[2]["accuracy"]
    rows[2]["checksum"] = row_checksum(rows[2])
    path.write_text(json.dumps(rows))
    with pytest.raises(ValueError, match="no accuracy") as info:
        run_protocol(_toy(), {"seeds": 1}, out=str(out), quiet=True)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("jobs", [1, 2])
def test_failed_fit_is_a_run_failure_and_leaves_no_worker(tmp_path, jobs):
    before = {p.pid for p in multiprocessing.active_children()}
    with pytest.raises(RunFailed, match="broken failed .*the fit went "
                       "wrong"):
        run_protocol(_toy(), {"methods": "GNB,broken"},
                     out=str(tmp_path / "x"), jobs=jobs, quiet=True)
    # Processes of this run still running. multiprocessing's own records
    # can keep a worker "started" after the pool's manager thread reaped
    # it (one waitpid wins, the other sees no child), so ask the system.
    left = [p.pid for p in multiprocessing.active_children()
            if p.pid not in before and _running(p.pid)]
    assert left == []


def _running(pid):
    """Whether process ``pid`` exists and is not a zombie (Linux /proc;
    elsewhere whether it can be signalled)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
    except OSError:  # pragma: no cover - no /proc
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True


def test_parallel_draws_equal_serial_ones(tmp_path):
    serial = run_protocol(_toy(), {"seeds": 3}, quiet=True)
    parallel = run_protocol(_toy(), {"seeds": 3}, out=str(tmp_path / "p"),
                            jobs=2, quiet=True)
    key = [(r["method"], r["n_labeled"], r["seed"], r["accuracy"])
           for r in serial]
    assert [(r["method"], r["n_labeled"], r["seed"], r["accuracy"])
            for r in parallel] == key
    assert multiprocessing.active_children() == []
    stored = json.load(open(tmp_path / "p" / "results.json"))
    assert len(stored) == len(serial)


@pytest.mark.parametrize("options, message", [
    ({"length": "5"}, "--length is not an option of toy"),
    ({"reg": "nan"}, "--reg: expected a finite number"),
    ({"reg": "2"}, "--reg: expected a number ≤ 1"),
    ({"labeled": "0"}, "--labeled: expected an integer ≥ 1"),
    ({"labeled": "4,4"}, "--labeled: a value is repeated"),
    ({"seeds": "1001"}, "--seeds: expected an integer ≤ 1,000"),
    ({"methods": "GNB,SVM"}, "--methods: unknown method 'SVM'"),
    ({"methods": ","}, "--methods: expected one or more"),
])
def test_options_checked_naming_them(options, message):
    with pytest.raises(ValueError) as info:
        run_protocol(_toy(), options, quiet=True)
    assert message in str(info.value)


def test_breakeven_is_precision_at_the_number_of_positives():
    from probssl.experiments.engine import METRICS

    y = np.array([0, 1, 1, 0, 1, 0])
    proba = np.array([.9, .8, .7, .6, .2, .1])[:, None] * [-1, 1] + [1, 0]
    # Top 3 scores: rows 0, 1, 2; two of them positive.
    assert METRICS["breakeven"](y, None, proba, np.array([0, 1])) == \
        pytest.approx(2 / 3)


def test_every_protocol_declares_help_and_refuses_foreign_options():
    from probssl.cli import protocol_parser
    from probssl.experiments.engine import protocols, resolve

    found = protocols()
    assert {"demo", "nigam2000", "fujino2005", "seed", "milleruyar1996",
            "mccallum1998"} <= set(found)
    for name, top in found.items():
        proto = resolve(top, {})
        text = protocol_parser(name, proto).format_help()
        assert "--out" in text and "--jobs" in text and "--fresh" in text
        for opt in proto.options:
            if opt.cli:
                assert f"--{opt.flag}" in text, (name, opt.name)
