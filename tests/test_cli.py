import json
import os
import signal
import subprocess
import sys
import time

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
    assert "| n_labeled | NB | EM |" in text
    for name in ("results.csv", "results.json", "results.md", "table.tex"):
        assert (out / name).stat().st_size > 0
    rows = json.loads((out / "results.json").read_text())
    assert {r["method"] for r in rows} == {"NB", "EM"}
    assert len(rows) == 2 * 3 * 3  # methods x labeled counts x seeds
    assert all(0 <= r["accuracy"] <= 1 for r in rows)
    # Better than chance (5%) with 200 labeled posts, for both methods.
    assert min(r["accuracy"] for r in rows if r["n_labeled"] == 200) > 0.3
    # A re-run reuses every row, and says so.
    main(["demo", "--out", str(out)])
    assert f"reused 18 of 18 rows from {out}" in capsys.readouterr().out
    assert json.loads((out / "results.json").read_text()) == rows


def test_shipped_sample_is_small_and_real():
    path = os.path.join(os.path.dirname(__import__("probssl").__file__),
                        "data", "20news_sample.json.gz")
    assert os.path.getsize(path) < 2 * 2**20
    train, test = load_demo_sample()
    assert len(train.data) == 1200 and len(test.data) == 500
    assert len(train.target_names) == 20
    assert not any(t.startswith("From:") for t in train.data[:50])


def _probssl(*argv, **kwargs):
    return subprocess.run([sys.executable, "-m", "probssl", *argv],
                          capture_output=True, text=True, timeout=300,
                          **kwargs)


def _main_exit(capsys, *argv):
    """Run the command in this process; (exit status, stderr)."""
    with pytest.raises(SystemExit) as info:
        main(list(argv))
    return info.value.code, capsys.readouterr().err


def _one_line_exit(result, message, code=2):
    status, err = ((result.returncode, result.stderr)
                   if hasattr(result, "returncode") else result)
    assert status == code, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], err
    assert "Traceback" not in err


def test_version_and_help(capsys):
    from probssl.experiments.engine import code_identity

    result = _probssl("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == (
        f"probssl {code_identity()['version']} (source "
        f"{code_identity()['source_sha256']})")
    for argv, shown in ((["run", "milleruyar1996", "--help"],
                         ["--subsets", "(default: 7)", "--inits",
                          "(default: 2)", "--fresh", "--quiet"]),
                        (["run", "nigam2000", "--protocol", "paper",
                          "--help"], ["--length", "(default: 1500.0)",
                                      "--stop-list", "--sets"])):
        with pytest.raises(SystemExit) as info:
            main(argv)
        assert info.value.code == 0
        text = capsys.readouterr().out
        for s in shown:
            assert s in text, (argv, s)
        assert "--seeds" not in text
    result = _probssl("run")
    assert result.returncode == 2 and "milleruyar1996" in result.stdout


# -- issue 26, CLI arguments: checked before any work, naming the argument --

ARGUMENT_CASES = [
    # The cases.
    (["run", "nigam2000", "--protocol", "paper", "--length", "nan"],
     "--length: expected a finite number"),
    (["run", "nigam2000", "--protocol", "paper", "--length", "inf"],
     "--length: expected a finite number"),
    (["run", "nigam2000", "--protocol", "paper", "--length", "-5"],
     "--length: expected a number ≥ 0"),
    (["run", "milleruyar1996", "--subsets", "100000000000"],
     "--subsets: expected an integer ≤ 100"),
    (["run", "milleruyar1996", "--inits", "1000000000"],
     "--inits: expected an integer ≤ 100"),
    (["run", "milleruyar1996", "--subsets", "0"],
     "--subsets: expected an integer ≥ 1"),
    (["demo", "--out", ""], "--out: folder '': expected a folder name"),
    (["run", "milleruyar1996", "--out", ""], "--out: folder ''"),
    # More of our own.
    (["run", "nigam2000", "--labeled", "20,20"], "--labeled: a value is "
     "repeated"),
    (["run", "nigam2000", "--labeled", "0"], "--labeled: expected an "
     "integer ≥ 1"),
    (["run", "nigam2000", "--labeled", "abc"], "--labeled: expected an "
     "integer"),
    (["run", "nigam2000", "--labeled", "25"], "multiples of 20"),
    (["run", "nigam2000", "--alpha", "nan"], "--alpha: expected a finite"),
    (["run", "nigam2000", "--alpha", "0"], "--alpha: expected a number > 0"),
    (["run", "nigam2000", "--n-unlabeled", "-1"], "--n-unlabeled: "),
    (["run", "nigam2000", "--seeds", "1e20"], "--seeds: expected an "
     "integer"),
    (["run", "nigam2000", "--seeds", "1001"], "--seeds: expected an "
     "integer ≤ 1,000"),
    (["run", "seed", "--seeds", "-3"], "--seeds: expected an integer ≥ 1"),
    (["run", "nigam2000", "--jobs", "0"], "--jobs: expected an integer ≥ 1"),
    (["run", "seed", "--jobs", "two"], "--jobs: expected an integer"),
    (["run", "nigam2000", "--jobs", "1000000"], "--jobs: expected an "
     "integer ≤ 256"),
    (["run", "nigam2000", "--methods", "NB,XX"], "unknown method 'XX'"),
    (["run", "mccallum1998", "--rounds", "-1"], "--rounds: expected an "
     "integer ≥ 0"),
    (["run", "mccallum1998", "--batch-size", "0"], "--batch-size: "),
    (["run", "mccallum1998", "--committee-size", "1"],
     "--committee-size: expected an integer ≥ 2"),
    (["run", "mccallum1998", "--strategies", "random,greedy"],
     "unknown strategy 'greedy'"),
    (["run", "seed", "--representation", "words"], "--representation: "
     "expected one of counts, embeddings, both"),
    (["run", "seed", "--test-size", "0"], "--test-size: expected an "
     "integer ≥ 1"),
    (["run", "nigam2000", "--protocol", "paper", "--fig3-sets", "101"],
     "--fig3-sets: expected an integer ≤ 100"),
    (["run", "nigam2000", "--dataset", "imdb"], "--dataset: expected one "
     "of 20news, webkb, reuters"),
    (["run", "nigam2000", "--protocol", "papers"], "--protocol: expected "
     "one of bydate, paper"),
    # An option a protocol does not declare.
    (["run", "fujino2005", "--length", "5"], "--length is not supported by "
     "fujino2005"),
    (["run", "nigam2000", "--protocol", "paper", "--seeds", "3"],
     "--seeds is not supported by nigam2000"),
    (["run", "nigam2000", "--subsets", "3"], "--subsets is not supported"),
    (["run", "milleruyar1996", "--data", "x"], "--data is not supported by "
     "milleruyar1996"),
    (["run", "mccallum1998", "--labeled", "20"], "--labeled is not "
     "supported by mccallum1998"),
    (["demo", "--labeled", "20"], "--labeled is not supported by demo"),
    (["run", "bogus"], "unknown protocol 'bogus'"),
    (["frobnicate"], "invalid choice"),
    ([], "required"),
]


@pytest.mark.parametrize("argv, message", ARGUMENT_CASES)
def test_bad_arguments_exit_2_naming_them_before_any_work(argv, message,
                                                          capsys, tmp_path,
                                                          monkeypatch):
    monkeypatch.chdir(tmp_path)
    start = time.perf_counter()
    _one_line_exit(_main_exit(capsys, *argv), message)
    # Before any work: no corpus loaded, nothing written.
    assert time.perf_counter() - start < 10
    assert os.listdir(tmp_path) == []


def test_stop_list_files_checked_naming_them(tmp_path, capsys):
    binary = tmp_path / "stop.bin"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe\x00\x01")
    nul = tmp_path / "stop.nul"
    nul.write_bytes(b"a\x00b\n")
    base = ("run", "nigam2000", "--protocol", "paper", "--stop-list")
    for path, why in ((binary, "is not UTF-8 text"), (nul, "is a binary file"),
                      (tmp_path / "missing.txt", "does not exist"),
                      (tmp_path, "is not a file")):
        code, err = _main_exit(capsys, *base, str(path))
        _one_line_exit((code, err), f"--stop-list: {str(path)!r} {why}")


def test_run_checks_settings_against_the_archive(newsgroups_archive, capsys):
    _one_line_exit(_main_exit(capsys, "run", "nigam2000", "--data",
                              newsgroups_archive, "--labeled", "5000"),
                   "exceeds the 11,314 training posts")
    _one_line_exit(_main_exit(capsys, "run", "nigam2000", "--data",
                              "/no/such/file.tar.gz"), "does not exist")


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
    _one_line_exit((code, err), "existing file")
    assert str(target) in err
    assert target.read_text() == "keep me"
    below = _main_exit(capsys, *command, "--out", str(target / "sub"))
    _one_line_exit(below, "is a file")


# -- issue 26, stored results: checked, a damaged store named and refused --

def _miller(out, *extra):
    return ("run", "milleruyar1996", "--labeled", "9", "--subsets", "1",
            "--inits", "1", "--methods", "supervised J=3,supervised",
            "--out", str(out), "-q", *extra)


@pytest.mark.parametrize("edit, message", [
    (lambda rows: rows[0].update(accuracy="high"), "row 0"),
    (lambda rows: rows[1].pop("accuracy"), "row 1"),
    (lambda rows: rows[0].update(accuracy=5.0), "checksum does not match"),
    (lambda rows: rows[0].update(accuracy=float("nan")), "checksum"),
    (lambda rows: rows[1].update(n_labeled=-9), "row 1"),
    (lambda rows: rows[0].update(method=None), "row 0"),
    (lambda rows: rows[0].update(checksum="0" * 16), "checksum"),
    (lambda rows: rows.append(7), "not a list of result rows"),
])
def test_damaged_results_refused_naming_the_file(tmp_path, capsys, edit,
                                                 message):
    out = tmp_path / "out"
    main(list(_miller(out)))
    path = out / "results.json"
    rows = json.loads(path.read_text())
    edit(rows)
    damaged = json.dumps(rows)
    path.write_text(damaged)
    code, err = _main_exit(capsys, *_miller(out))
    _one_line_exit((code, err), str(path))
    assert message in err
    assert path.read_text() == damaged


def test_truncated_or_folder_results_refused(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "results.json").write_bytes(b'[{"method": "supervised", "acc')
    code, err = _main_exit(capsys, *_miller(out))
    _one_line_exit((code, err), "damaged")
    folder = tmp_path / "f"
    (folder / "results.json").mkdir(parents=True)
    code, err = _main_exit(capsys, *_miller(folder))
    _one_line_exit((code, err), "cannot be read")


def test_damaged_archive_exits_2_naming_it(tmp_path, capsys, monkeypatch):
    from _helpers import write_tiny_archive

    archive = write_tiny_archive(tmp_path / "20news-bydate.tar.gz")
    blob = bytearray(open(archive, "rb").read())
    blob[len(blob) // 2] ^= 0x01
    open(archive, "wb").write(bytes(blob))
    monkeypatch.setenv("PROBSSL_HOME", str(tmp_path / "home"))
    for protocol in ("seed", "nigam2000"):
        code, err = _main_exit(capsys, "run", protocol, "--data", archive,
                               "--labeled", "20", "--seeds", "1",
                               "--out", str(tmp_path / "out"), "-q")
        _one_line_exit((code, err), archive)
        assert "checksum" in err or "damaged" in err


def test_seed_sizes_checked_against_the_corpus(tmp_path, capsys, monkeypatch):
    from _helpers import write_tiny_archive

    archive = write_tiny_archive(tmp_path / "20news-bydate.tar.gz")
    monkeypatch.setenv("PROBSSL_HOME", str(tmp_path / "home"))
    code, err = _main_exit(capsys, "run", "seed", "--data", archive,
                           "--representation", "counts", "--test-size",
                           "400", "--out", str(tmp_path / "out"), "-q")
    _one_line_exit((code, err), "no unlabeled posts")


def test_unwritable_results_exit_1_with_one_line(tmp_path, capsys,
                                                 monkeypatch):
    def full(path, data, mode=0o644):
        raise OSError(28, "No space left on device", path)

    monkeypatch.setattr("probssl.experiments._report.atomic_write", full)
    code, err = _main_exit(capsys, *_miller(tmp_path / "out"))
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "No space left" in lines[0], err


def test_a_failed_fit_is_not_a_usage_error(tmp_path, capsys, monkeypatch):
    import probssl

    def broken(self, X, y=None):
        raise ValueError("Input contains NaN")

    monkeypatch.setattr(probssl.MixtureOfExperts, "fit", broken)
    code, err = _main_exit(capsys, *_miller(tmp_path / "out"))
    _one_line_exit((code, err), "failed: ValueError: Input contains NaN",
                   code=1)
    assert "error: milleruyar1996: draw n_labeled=9" in err


# -- issue 26, CLI processes: every child gone, whatever the output is -----

def _children_of(marker):
    """Processes whose command line holds ``marker`` (a unique folder)."""
    result = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True,
                            text=True)
    return [line for line in result.stdout.splitlines()
            if marker in line and "ps -eo" not in line]


def _shm():
    return set(os.listdir("/dev/shm")) if os.path.isdir("/dev/shm") else set()


def _ours(entries, pid=None):
    """The /dev/shm entries a probssl run could have left: multiprocessing's
    semaphores, and anything named with its pid (on a shared machine other
    processes' loky/joblib entries come and go meanwhile)."""
    return {e for e in entries if e.startswith("sem.mp-")
            or (pid is not None and str(pid) in e)}


PIPED = ("{exe} -m probssl run milleruyar1996 --labeled 9,30 --subsets 2 "
         "--inits 1 --methods 'supervised J=3' --jobs 2 --out {out}")


@pytest.mark.parametrize("sink", ["| cat", "> {out}.log", "| head -c 10"])
def test_parallel_run_ends_and_leaves_nothing(tmp_path, sink):
    out = tmp_path / "par"
    before = _shm()
    command = (PIPED + " " + sink).format(exe=sys.executable, out=out)
    result = subprocess.run(["bash", "-c", command], capture_output=True,
                            text=True, timeout=240)
    assert result.returncode == 0, result.stderr
    if "head" not in sink:
        rows = json.loads((out / "results.json").read_text())
        assert len(rows) == 4
    assert _children_of(str(out)) == []
    assert _ours(_shm() - before) == set()


def test_nigam2000_jobs_2_piped_ends(newsgroups_archive, tmp_path):
    out = tmp_path / "nigam"
    before = _shm()
    command = (f"{sys.executable} -m probssl run nigam2000 --labeled 20 "
               f"--seeds 2 --jobs 2 --data {newsgroups_archive} --out {out}"
               " | cat")
    result = subprocess.run(["bash", "-c", command], capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "| 20 |" in result.stdout
    assert _children_of(str(out)) == []
    assert _ours(_shm() - before) == set()


def test_failed_parallel_run_leaves_no_child(tmp_path):
    out = tmp_path / "failed"
    code = ("import sys, probssl\n"
            "def broken(self, X, y=None):\n"
            "    raise ValueError('boom')\n"
            "probssl.MixtureOfExperts.fit = broken\n"
            "from probssl.cli import console_main\n"
            f"sys.argv = ['probssl', 'run', 'milleruyar1996', '--labeled', "
            f"'9,30', '--subsets', '2', '--inits', '1', '--jobs', '2', "
            f"'--out', {str(out)!r}]\n"
            "console_main()\n")
    result = subprocess.run([sys.executable, "-c", code],
                            capture_output=True, text=True, timeout=240)
    assert result.returncode == 1, result.stderr
    assert "ValueError: boom" in result.stderr
    assert "Traceback" not in result.stderr
    assert _children_of(str(out)) == []


@pytest.mark.parametrize("how", ["Ctrl-C", "kill", "kill -9"])
def test_interrupted_parallel_run_leaves_no_child(tmp_path, how):
    out = tmp_path / "interrupted"
    before = _shm()
    proc = subprocess.Popen(
        [sys.executable, "-m", "probssl", "run", "milleruyar1996",
         "--labeled", "9,30,90,300", "--subsets", "3", "--inits", "2",
         "--jobs", "2", "--out", str(out)], stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, start_new_session=True)
    for line in proc.stdout:  # wait for the first finished draw
        if "draws" in line:
            break
    if how == "Ctrl-C":
        os.killpg(proc.pid, signal.SIGINT)  # the terminal's whole group
    else:
        proc.send_signal(signal.SIGTERM if how == "kill" else signal.SIGKILL)
    _, err = proc.communicate(timeout=120)
    if how == "kill -9":
        assert proc.returncode == -signal.SIGKILL
    else:
        assert proc.returncode == 130, err
        assert "probssl: interrupted; the finished rows are kept" in err
        assert "Traceback" not in err
    assert json.loads((out / "results.json").read_text())
    time.sleep(1)
    assert _children_of(str(out)) == []
    assert _ours(_shm() - before, proc.pid) == set()
