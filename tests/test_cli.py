import json
import os
import subprocess
import sys

import pytest

from probssl.cli import main
from probssl.datasets import load_demo_sample


def test_demo_runs_offline_on_the_shipped_sample(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("PROBSSL_DATA", raising=False)
    monkeypatch.setenv("PROBSSL_HOME", str(tmp_path / "home"))
    out = tmp_path / "demo"
    main(["demo", "--out", str(out)])
    text = capsys.readouterr().out
    assert "shipped with probssl" in text
    assert "| labeled docs |" in text
    for name in ("results.csv", "results.json", "results.md"):
        assert (out / name).stat().st_size > 0
    rows = json.loads((out / "results.json").read_text())
    assert {r["method"] for r in rows} == {"NB", "EM"}
    assert len(rows) == 2 * 3 * 3  # methods x labeled counts x seeds
    assert all(0 <= r["accuracy"] <= 1 for r in rows)
    # Better than chance (5%) with 200 labeled posts, for both methods.
    assert min(r["accuracy"] for r in rows if r["n_labeled"] == 200) > 0.3


def test_demo_rerun_reuses_rows(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("PROBSSL_DATA", raising=False)
    out = tmp_path / "demo"
    main(["demo", "--out", str(out)])
    first = json.loads((out / "results.json").read_text())
    main(["demo", "--out", str(out)])
    second = json.loads((out / "results.json").read_text())
    assert first == second  # identical numbers, fit times included (reused)


def test_shipped_sample_is_small_and_real():
    path = os.path.join(os.path.dirname(__import__("probssl").__file__),
                        "data", "20news_sample.json.gz")
    assert os.path.getsize(path) < 2 * 2**20
    train, test = load_demo_sample()
    assert len(train.data) == 1200 and len(test.data) == 500
    assert len(train.target_names) == 20
    assert not any(t.startswith("From:") for t in train.data[:50])


@pytest.mark.parametrize("argv, message", [
    (["run", "bogus", "--data", "x"], "unknown protocol"),
    (["run", "nigam2000", "--data", "/no/such/file.tar.gz"], "not found"),
    (["run", "nigam2000", "--labeled", "abc"], "comma-separated"),
    (["run", "nigam2000", "--seeds", "0"], "positive integer"),
    (["frobnicate"], "invalid choice"),
    ([], "required"),
])
def test_bad_arguments_exit_2_with_one_line(argv, message):
    result = subprocess.run([sys.executable, "-m", "probssl", *argv],
                            capture_output=True, text=True)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert "Traceback" not in result.stderr


def test_run_rejects_bad_settings_with_the_archive(newsgroups_archive):
    for argv, message in [
        (["--methods", "NB,XX"], "unknown method"),
        (["--labeled", "5000"], "exceeds"),
        (["--labeled", "25", "--seeds", "1"], "multiple"),
    ]:
        result = subprocess.run(
            [sys.executable, "-m", "probssl", "run", "nigam2000",
             "--data", newsgroups_archive, *argv],
            capture_output=True, text=True)
        assert result.returncode == 2, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and message in lines[0], result.stderr
