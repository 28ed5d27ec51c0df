"""The WebKB / co-training / Reuters / user-corpus protocols' parts:
splits, metrics and the baselines run (the per-class component EM and the
word selection: tests/test_feature_selection.py)."""

import csv
import json
import os
from pathlib import Path

import numpy as np
import pytest

from probssl.cli import main as cli_main
from probssl.experiments import baselines, blummitchell1998
from probssl.experiments import nigam2000_webkb
from probssl.experiments.engine import Protocol, breakeven
from probssl.experiments._output import markdown


def test_breakeven_is_precision_at_the_number_of_positives():
    y = np.array([1, 0, 1, 0, 0, 1])
    assert breakeven(y, [6, 5, 4, 3, 2, 1]) == pytest.approx(2 / 3)
    assert breakeven(y, [9, 0, 8, 0, 0, 7]) == 1.0
    assert breakeven(y, -np.array([9, 0, 8, 0, 0, 7])) == 0.0
    with pytest.raises(ValueError, match="positive"):
        breakeven([0, 0], [1, 2])


def test_published_and_reference_columns_with_gaps():
    rows = [{"method": "NB", "n_labeled": 10, "accuracy": a, "breakeven": b}
            for a, b in ((0.5, 0.2), (0.7, 0.4))]
    proto = Protocol("toy", "toy", metrics=("accuracy", "breakeven"),
                     published={"NB": {10: 0.55}},
                     references=(("ref", "breakeven", {"NB": {10: 0.25}},
                                  "ours before"),))
    text = markdown(proto, rows)
    assert "| 10 | 60.0 ± 10.0 | 55.0 | +5.0 |" in text
    assert "NB published: mean |gap| 5.0 points" in text
    text = markdown(proto, rows, "breakeven")
    assert "| 10 | 30.0 ± 10.0 | 25.0 | +5.0 |" in text
    assert "ref: ours before" in text and "NB ref: mean |gap| 5.0" in text


def test_blum_mitchell_split():
    y = np.r_[np.ones(230, int), np.zeros(821, int)]
    test, lab, unl = blummitchell1998.split(y, 3)
    assert len(test) == 263 and len(lab) == 12 and len(unl) == 776
    assert y[lab].sum() == 3
    assert not set(test) & set(lab) and not set(unl) & (set(test) | set(lab))
    again = blummitchell1998.split(y, 3)
    assert all((a == b).all() for a, b in zip((test, lab, unl), again))


def test_webkb_draw_leaves_one_university_out():
    rng = np.random.RandomState(0)
    y = rng.randint(4, size=600)
    univ = np.array(["misc", "cornell", "texas"])[rng.randint(3, size=600)]
    test, lab, unl = nigam2000_webkb.draw(y, univ, "cornell", 10, 1, 300)
    assert set(univ[test]) == {"cornell"} and (univ == "cornell").sum() == len(test)
    assert "cornell" not in set(univ[lab]) | set(univ[unl])
    assert len(unl) == 300 and not set(lab) & set(unl)
    assert sorted(np.bincount(y[lab], minlength=4)) == [2, 2, 3, 3]


def _write_csv(path, rows):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["text", "label"])
        w.writerows(rows)
    return path


def _corpus_rows(n, seed):
    rng = np.random.RandomState(seed)
    words = {"sport": "goal match team score league coach ball".split(),
             "space": "orbit rocket nasa moon launch star planet".split(),
             "cars": "engine wheel brake fuel motor drive speed".split()}
    common = "the a of and to in is it".split()
    rows = []
    for i in range(n):
        label = sorted(words)[i % 3]
        toks = list(rng.choice(words[label], 6)) + list(rng.choice(common, 4))
        rows.append((" ".join(toks), label))
    return rows


def test_draw_labeled_balanced_where_possible():
    y = np.r_[np.zeros(20, int), np.ones(3, int), -np.ones(5, int)]
    lab = baselines.draw_labeled(y, 10, 0)
    assert np.bincount(y[lab]).tolist() == [7, 3]
    with pytest.raises(ValueError, match="24 labeled rows asked"):
        baselines.draw_labeled(y, 24, 0)


@pytest.mark.parametrize("layout", ["csv", "jsonl", "folder"])
def test_baselines_on_every_layout(tmp_path, layout):
    train, test = _corpus_rows(150, 0), _corpus_rows(60, 1)
    train += [("the a rocket of goal", "")] * 20          # unlabeled rows
    if layout == "csv":
        data = _write_csv(tmp_path / "train.csv", train)
        test_path = _write_csv(tmp_path / "test.csv", test)
    elif layout == "jsonl":
        data, test_path = tmp_path / "train.jsonl", tmp_path / "test.jsonl"
        for path, rows in ((data, train), (test_path, test)):
            path.write_text("\n".join(json.dumps({"text": t, "label": lab})
                                      for t, lab in rows), encoding="utf-8")
    else:
        data, test_path = tmp_path / "train", tmp_path / "test"
        for root, rows in ((data, train), (test_path, test)):
            for i, (t, lab) in enumerate(rows):
                folder = root / (lab or "unlabeled")
                folder.mkdir(parents=True, exist_ok=True)
                (folder / f"{i}.txt").write_text(t, encoding="utf-8")
    out = tmp_path / "out"
    cli_main(["run", "baselines", "--data", str(data), "--test", str(test_path),
              "--labeled", "6,12", "--seeds", "1", "--out", str(out), "-q",
              "--methods", "NB,EM,EM-λ,self-training,label spreading,"
              "logistic regression"])
    rows = json.loads((out / "results.json").read_text())
    methods = {r["method"] for r in rows}
    assert len(methods) == 6 and {"NB", "EM", "EM-λ"} <= methods
    assert {r["n_labeled"] for r in rows} == {6, 12}
    for r in rows:
        assert 0 <= r["accuracy"] <= 1 and r["representation"] == "counts"
    md = (out / "results.md").read_text()
    assert "| representation | n_labeled | NB | EM | EM-λ |" in md
    assert "| counts | 6 |" in md and "| counts | 12 |" in md


def test_baselines_refuse_bad_input(tmp_path, capsys):
    data = _write_csv(tmp_path / "d.csv", [("only one", "x"), ("class", "x")])
    with pytest.raises(SystemExit) as exc:
        cli_main(["run", "baselines", "--data", str(data), "--test-size",
                  "0.5", "--out", str(tmp_path / "o")])
    assert exc.value.code == 2
    assert "d.csv" in capsys.readouterr().err
    good = _write_csv(tmp_path / "g.csv", _corpus_rows(30, 0))
    with pytest.raises(SystemExit) as exc:
        cli_main(["run", "baselines", "--data", str(good), "--out",
                  str(tmp_path / "o2")])
    assert exc.value.code == 2
    assert "--test-size" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        cli_main(["run", "baselines", "--data", str(good), "--test-size",
                  "0.3", "--length", "5"])
    assert exc.value.code == 2
    assert "--length is not supported by baselines" in capsys.readouterr().err


def _real(name):
    env = os.environ.get("PROBSSL_DATA")
    folder = Path(env).expanduser() if env else (
        Path(__file__).resolve().parent.parent.parent / "shared" / "data")
    folder = folder.parent if folder.is_file() else folder
    if not (folder / name).is_file():
        pytest.skip(f"{name} not found in {folder}")
    return folder / name


def test_real_cotraining_beats_supervised_on_one_split():
    from probssl.datasets import load_cotrain_pages

    bunch = load_cotrain_pages(_real("course-cotrain-data.tar.gz"))
    rows = blummitchell1998.run_split(bunch, 0, methods=("NB", "co-training"))
    err = {r["method"]: r["error"] for r in rows}
    assert err["combined co-training"] < err["combined NB"]
    assert err["combined co-training"] < 0.10


@pytest.mark.parametrize("argv", [
    ["blummitchell1998"], ["nigam2000", "--dataset", "webkb"],
    ["nigam2000", "--dataset", "reuters"]])
def test_archive_with_another_checksum_exits_2_naming_it(tmp_path, capsys, argv):
    fake = tmp_path / "fake.tar.gz"
    fake.write_bytes(b"not the archive")
    with pytest.raises(SystemExit) as exc:
        cli_main(["run", *argv, "--data", str(fake), "--seeds", "1",
                  "--out", str(tmp_path / "out")])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "fake.tar.gz" in err and "SHA-256" in err
