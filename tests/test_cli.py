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


# --------------------------------------------------------------------------
# Issue 14: absurd arguments are refused at once, with one line
# --------------------------------------------------------------------------


def _probssl(*argv, **kwargs):
    return subprocess.run([sys.executable, "-m", "probssl", *argv],
                          capture_output=True, text=True, timeout=120,
                          **kwargs)


def _main_exit(capsys, *argv):
    """Run the command in this process; (exit status, stderr)."""
    with pytest.raises(SystemExit) as info:
        main(list(argv))
    return info.value.code, capsys.readouterr().err


def _one_line_exit_2(result, message):
    code, err = ((result.returncode, result.stderr)
                 if hasattr(result, "returncode") else result)
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], err
    assert "Traceback" not in err


@pytest.mark.parametrize("argv, message", [
    (["--seeds", "1e20"], "positive integer number of seeds"),
    (["--seeds", "100000000000000000000"], "at most 1,000"),
    (["--seeds", "1001"], "at most 1,000"),
    (["--seeds", "-3"], "positive integer number of seeds"),
    (["--jobs", "0"], "positive integer number of processes"),
    (["--jobs", "-1"], "positive integer number of processes"),
    (["--jobs", "two"], "positive integer number of processes"),
    (["--jobs", "1000000"], "at most 256"),
])
def test_absurd_counts_exit_2(argv, message, capsys):
    for protocol in ("nigam2000", "seed"):
        _one_line_exit_2(_main_exit(capsys, "run", protocol, *argv), message)


@pytest.mark.parametrize("command", [["run", "nigam2000"], ["run", "seed"],
                                     ["demo"]])
def test_out_naming_a_file_exits_2_before_any_work(tmp_path, command, capsys,
                                                   monkeypatch):
    target = tmp_path / "results.txt"
    target.write_text("keep me")
    # No archive anywhere: the --out check comes first.
    monkeypatch.setenv("PROBSSL_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PROBSSL_DATA", str(tmp_path / "nowhere"))
    code, err = _main_exit(capsys, *command, "--out", str(target))
    _one_line_exit_2((code, err), "existing file")
    assert str(target) in err
    assert target.read_text() == "keep me"
    below = _main_exit(capsys, *command, "--out", str(target / "sub"))
    _one_line_exit_2(below, "is a file")


def test_damaged_results_json_exits_2_naming_it(tmp_path, capsys,
                                                monkeypatch):
    from test_reliability import write_tiny_archive

    archive = write_tiny_archive(tmp_path / "20news-bydate.tar.gz")
    out = tmp_path / "out"
    out.mkdir()
    damaged = b'[{"representation": "counts", "method": "Multi'
    (out / "results.json").write_bytes(damaged)
    monkeypatch.setenv("PROBSSL_HOME", str(tmp_path / "home"))
    result = _main_exit(capsys, "run", "seed", "--data", archive,
                        "--representation", "counts", "--seeds", "1",
                        "--labeled", "60", "--test-size", "100",
                        "--methods", "MultinomialNB", "--out", str(out))
    _one_line_exit_2(result, str(out / "results.json"))
    assert "damaged" in result[1]
    assert (out / "results.json").read_bytes() == damaged


def test_seed_rejects_unknown_method_and_sizes(tmp_path, capsys, monkeypatch):
    from test_reliability import write_tiny_archive

    archive = write_tiny_archive(tmp_path / "20news-bydate.tar.gz")
    monkeypatch.setenv("PROBSSL_HOME", str(tmp_path / "home"))
    base = ("run", "seed", "--data", archive, "--representation", "counts",
            "--out", str(tmp_path / "out"))
    _one_line_exit_2(_main_exit(capsys, *base, "--methods", "NB"),
                     "unknown method")
    _one_line_exit_2(_main_exit(capsys, *base, "--labeled", "60,80"),
                     "one count")
    _one_line_exit_2(_main_exit(capsys, *base, "--test-size", "400"),
                     "no unlabeled")


def test_damaged_archive_exits_2_naming_it(tmp_path, capsys, monkeypatch):
    from test_reliability import write_tiny_archive

    archive = write_tiny_archive(tmp_path / "20news-bydate.tar.gz")
    blob = bytearray(open(archive, "rb").read())
    blob[len(blob) // 2] ^= 0x01
    open(archive, "wb").write(bytes(blob))
    monkeypatch.setenv("PROBSSL_HOME", str(tmp_path / "home"))
    for protocol in ("seed", "nigam2000"):
        code, err = _main_exit(capsys, "run", protocol, "--data", archive,
                               "--out", str(tmp_path / "out"))
        _one_line_exit_2((code, err), archive)
        assert "checksum" in err or "damaged" in err
    assert not (tmp_path / "home").exists() or not any(
        (tmp_path / "home").rglob("*.pkl"))


def test_unwritable_results_exit_1_with_one_line(tmp_path, capsys,
                                                 monkeypatch):
    from test_reliability import write_tiny_archive
    import probssl._cache

    archive = write_tiny_archive(tmp_path / "20news-bydate.tar.gz")
    monkeypatch.setenv("PROBSSL_HOME", str(tmp_path / "home"))

    def full(path, data, mode=0o644):
        raise OSError(28, "No space left on device", path)

    monkeypatch.setattr(probssl._cache, "atomic_write", full)
    monkeypatch.setattr("probssl.experiments._report.atomic_write", full)
    code, err = _main_exit(capsys, "run", "seed", "--data", archive,
                           "--representation", "counts", "--seeds", "1",
                           "--labeled", "60", "--test-size", "100",
                           "--methods", "MultinomialNB",
                           "--out", str(tmp_path / "out"))
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "No space left" in lines[0], err


def test_protocol_scripts_end_as_probssl_run(tmp_path, capsys):
    """``python -m probssl.experiments.<protocol>`` refuses a bad --out in
    one line with exit 2, as ``probssl run`` does (milleruyar1996's script
    ended in a traceback), through the one ending they share."""
    from probssl.experiments import milleruyar1996

    path = tmp_path / "a_file"
    path.write_text("x")
    with pytest.raises(SystemExit) as exit_:
        milleruyar1996.main(["--out", str(path), "--labeled", "30",
                             "--subsets", "1", "--inits", "1"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: out ") and "existing file" in err
    assert err.count("\n") == 1
