"""The papers' protocols as the papers ran them: nigam2000 --protocol paper
(time split, draws, leave-one-out EM-lambda) and milleruyar1996."""

import json
import os

import numpy as np
import pytest
import scipy.sparse as sp

from probssl import EMNaiveBayes
from probssl.experiments import milleruyar1996
from probssl.experiments import nigam2000_paper as nigam2000
from probssl.experiments._nigam2000_tables import summarize_paper
from probssl.experiments.engine import run_protocol
from probssl.experiments.nigam2000_paper import PaperDraws


# -- nigam2000 --protocol paper: the pieces ------------------------------------


def test_paper_draws_balanced_non_overlapping_nested():
    rng = np.random.RandomState(0)
    y = rng.randint(4, size=2000)
    draws = PaperDraws(y, n_unlabeled=1000, split_seed=3)
    assert draws.unlabeled.size == 1000
    assert np.intersect1d(draws.unlabeled, draws.pool).size == 0
    smallest = min(p.size for p in draws.class_pool)
    assert draws.n_sets(40, max_sets=10) == min(10, smallest // 10)
    assert draws.n_sets(4 * smallest, max_sets=10) == 1
    assert draws.n_sets(4 * (smallest + 1), max_sets=10) == 0
    sets = [draws.labeled(40, t) for t in range(draws.n_sets(40))]
    for s in sets:
        assert np.bincount(y[s], minlength=4).tolist() == [10] * 4
        assert np.intersect1d(s, draws.unlabeled).size == 0
    everything = np.concatenate(sets)
    assert np.unique(everything).size == everything.size  # no overlap
    # Figure 3: nested unlabeled sets, Figure 2's set at 1,000, more from
    # the pool without the labeled posts, None beyond the pool.
    lab = sets[0]
    small = draws.unlabeled_set(300, lab)
    full = draws.unlabeled_set(1000, lab)
    more = draws.unlabeled_set(1500, lab)
    assert set(small) <= set(full) <= set(more)
    np.testing.assert_array_equal(full, np.sort(draws.unlabeled))
    assert np.intersect1d(more, lab).size == 0
    assert draws.unlabeled_set(2000 - lab.size + 1, lab) is None
    # Deterministic given the seed.
    again = PaperDraws(y, n_unlabeled=1000, split_seed=3)
    np.testing.assert_array_equal(again.labeled(40, 2), sets[2])
    with pytest.raises(ValueError, match="multiple"):
        draws.n_sets(42)


def _toy_counts(seed=0, n=120, V=30, C=3):
    rng = np.random.RandomState(seed)
    theta = rng.dirichlet(np.full(V, 0.3), size=C)
    y = rng.randint(C, size=n)
    X = np.vstack([rng.multinomial(rng.randint(5, 40), theta[c]) for c in y])
    return sp.csr_matrix(X.astype(float)), y


@pytest.mark.parametrize("prior", [0.0, 1.0])
def test_loo_equals_refitting_without_each_document_nb(prior):
    # lambda = 0: EM is naive Bayes, and the closed-form leave-one-out the
    # protocol's EM-lambda uses (leave_one_out_score) is exactly a refit
    # without the document.
    X, y = _toy_counts()
    lab, unl = np.arange(30), np.arange(30, 120)
    Xf = sp.vstack([X[lab], X[unl]], format="csr")
    yf = np.concatenate([y[lab], np.full(unl.size, -1)])
    model = EMNaiveBayes(alpha=1.0, prior_smoothing=prior,
                         unlabeled_weight=0.0).fit(Xf, yf)
    fast = model.leave_one_out_score(Xf, yf)
    hits = []
    for i in range(lab.size):
        keep = np.delete(lab, i)
        m = EMNaiveBayes(alpha=1.0, prior_smoothing=prior).fit(X[keep], y[keep])
        hits.append(m.predict(X[lab[i]])[0] == y[lab[i]])
    assert fast == pytest.approx(np.mean(hits))


def test_paper_constants_are_the_published_points():
    assert nigam2000.PAPER_FIG2[300] == (52.1, 66.3)
    assert nigam2000.PAPER_FIG2[20] == (20.3, 35.3)
    assert all(len(v) == len(nigam2000.FIG3_UNLABELED)
               for v in nigam2000.PAPER_FIG3.values())
    # Figure 3 at 10,000 unlabeled is Figure 2's EM point, at 0 its NB one.
    for n, curve in nigam2000.PAPER_FIG3.items():
        assert curve[0] == nigam2000.PAPER_FIG2[n][0]
        assert curve[-2] == nigam2000.PAPER_FIG2[n][1]
    assert set(nigam2000.PAPER_CHOICES) == set(nigam2000.MODERN_CHOICES)


def test_stop_list_file_and_its_label(tmp_path):
    path = tmp_path / "stop.txt"
    path.write_text("The a\nof  and the\n")
    from probssl.datasets import read_stop_list

    assert read_stop_list(str(path)) == ["a", "and", "of", "the"]
    label = nigam2000._stop_label(str(path))
    # Identified by its words, not by where the file lies.
    assert label.startswith("file:4 words:sha256=") and "stop.txt" not in label
    other = tmp_path / "other.txt"
    other.write_text("a and of the")
    assert nigam2000._stop_label(str(other)) == label
    assert nigam2000._stop_label("english") == "english"


def test_ablation_variants_switch_paper_choices_to_modern_ones():
    ablation = nigam2000.ABLATION
    for name in nigam2000.PAPER_CHOICES:
        assert ablation[name] == {name: nigam2000.MODERN_CHOICES[name]}
    assert ablation["length+smoothing"] == {"length": None,
                                            "smoothing": "0.01"}
    assert ablation["all"]["split"] == "bydate"
    assert "split" not in ablation["all but split"]


def _fake_rows():
    rows = []
    for n, acc in ((20, 0.3), (300, 0.6)):
        for t in range(2):
            for v, m, u, curve in (("paper", "NB", 0, "fig2"),
                                   ("paper", "EM", 10000, "fig2"),
                                   ("paper", "EM", 500, "fig3"),
                                   ("tokens", "NB", 0, "ablation"),
                                   ("tokens", "EM", 10000, "ablation"),
                                   ("length=500", "NB", 0, "length"),
                                   ("length=500", "EM", 10000, "length")):
                rows.append({"variant": v, "method": m, "n_labeled": n,
                             "n_unlabeled": u, "seed": t, "curve": curve,
                             "accuracy": acc + 0.1 * (m == "EM")
                             + 0.01 * t, "unlabeled_weight": 1.0})
    return rows


def test_summarize_paper_tables():
    text = summarize_paper(_fake_rows())
    # Figure 2 with published values and gaps: 20 labeled, NB 30.5 vs 20.3.
    assert "| 20 | 30.5 ± 0.5 | 40.5 ± 0.5 | 20.3 | 35.3 | +10.2 | +5.2 |" \
        in text
    assert "NB published: mean |gap| 9.3 points" in text
    assert "Figure 3" in text and "| 40 |" not in text
    assert "| tokens: letters → sklearn |" in text
    assert "L = 500" in text and "L = 1500" in text


# -- with the archive ------------------------------------------------------------


def test_time_split_by_article_number(newsgroups_archive, tmp_path,
                                      monkeypatch):
    from probssl.datasets import load_20newsgroups_by_article

    monkeypatch.setenv("PROBSSL_HOME", str(tmp_path))
    rest, test = load_20newsgroups_by_article(archive=newsgroups_archive)
    assert len(rest.data) + len(test.data) == 18846
    assert len(test.data) == 3770
    for c in range(20):
        r, t = rest.article[rest.target == c], test.article[test.target == c]
        n = r.size + t.size
        assert t.size == int(round(0.2 * n))
        assert r.max() < t.min()  # the test posts are the last ones
    assert rest.filenames.size == len(rest.data)


def test_run_paper_small_deterministic_and_reused(newsgroups_archive,
                                                  tmp_path, monkeypatch):
    monkeypatch.setenv("PROBSSL_HOME", str(tmp_path / "home"))
    out = str(tmp_path / "out")
    kw = dict(data=newsgroups_archive, labeled="20", sets="1",
              fig3_sets="0", ablation_sets="0", length_sets="0",
              lambda_sets="1", lambdas=(0.0, 1.0))

    def run(out=out, **more):
        return run_protocol(nigam2000.PROTOCOL, {**kw, **more}, out=out,
                            quiet=True)

    rows = run()
    by = {r["method"]: r for r in rows}
    assert set(by) == {"NB", "EM", "EM-lambda"}
    assert by["NB"]["n_unlabeled"] == 0 and by["EM"]["n_unlabeled"] == 10000
    assert by["EM"]["alpha"] == 1.0 and by["EM"]["prior_smoothing"] == 1.0
    assert by["EM"]["n_test"] == 3770
    assert by["EM"]["accuracy"] > by["NB"]["accuracy"]
    assert set(by["EM-lambda"]["loo_accuracy"]) == {"0.0", "1.0"}
    with open(os.path.join(out, "results.json")) as f:
        stored = json.load(f)
    assert {"method", "n_labeled", "seed", "accuracy"} <= set(stored[0])
    # Same settings: every row reused (same fit times); another length:
    # recomputed, and the same again from a fresh folder (deterministic).
    again = run()
    assert [r["fit_time_s"] for r in again] == [r["fit_time_s"] for r in rows]
    other = run(length="500")
    assert [r["fit_time_s"] for r in other] != [r["fit_time_s"] for r in rows]
    fresh = run(out=None)
    assert ([r["accuracy"] for r in fresh] == [r["accuracy"] for r in rows])
    text = summarize_paper(rows)
    assert "| 20 | " in text and "| 20.3 | 35.3 |" in text
    assert "λ chosen by leave-one-out (EM-lambda): 20: " in text
    assert "35.3" in open(os.path.join(out, "results.md")).read()


# -- milleruyar1996 ----------------------------------------------------------------


def test_milleruyar1996_small_run(tmp_path):
    out = str(tmp_path / "mu")
    kw = dict(labeled="9,90", subsets="2", inits="1")

    def run(out=out, proto=milleruyar1996.PROTOCOL, **more):
        return run_protocol(proto, {**kw, **more}, out=out, quiet=True)

    rows = run()
    assert len(rows) == 2 * 2 * len(milleruyar1996.METHODS)
    for r in rows:
        assert {"method", "n_labeled", "seed", "init", "trial",
                "accuracy"} <= set(r)
        assert 0.08 < r["bayes_error_test"] < 0.2
        assert r["error"] == pytest.approx(1 - r["accuracy"])
    tem = [r for r in rows if r["method"] == "TEM-I"]
    assert all(r["n_unlabeled"] == 2500 + 2500 - r["n_labeled"] for r in tem)
    sup = [r for r in rows if r["method"] == "supervised"]
    assert all(r["n_unlabeled"] == 0 for r in sup)
    # Deterministic, and reused when every setting is the same.
    again = run()
    assert [r["fit_time_s"] for r in again] == [r["fit_time_s"] for r in rows]
    # (recomputed from scratch: the same figures; every method, both
    # subsets, one labeled size)
    fresh = run(out=None, labeled="9")
    assert len(fresh) == 2 * len(milleruyar1996.METHODS)
    assert [r["accuracy"] for r in fresh] == [
        r["accuracy"] for r in rows if r["n_labeled"] == 9]
    import dataclasses

    looser = dataclasses.replace(milleruyar1996.PROTOCOL, constants={
        **milleruyar1996.CHOICES, "tol": 1e-4})
    # (one EM method is enough to see that a changed constant recomputes)
    other = run(proto=looser, methods="EM-I")
    assert len(other) == 4 and {r["method"] for r in other} == {"EM-I"}
    assert not {r["fit_time_s"] for r in other} & {
        r["fit_time_s"] for r in rows if r["method"] == "EM-I"}
    text = milleruyar1996.summarize(rows)
    assert "Bayes error" in text and "EM-I vs EM-II" in text
    assert os.path.exists(os.path.join(out, "results.md"))


def test_cli_milleruyar1996(tmp_path, capsys):
    from probssl.cli import main

    out = str(tmp_path / "cli")
    main(["run", "milleruyar1996", "--labeled", "30", "--subsets", "1",
          "--inits", "1", "--methods", "supervised,EM-I", "--out", out])
    text = capsys.readouterr().out
    assert "| 30 |" in text
    with pytest.raises(SystemExit) as exc:
        main(["run", "milleruyar1996", "--labeled", "31", "--out", out])
    assert exc.value.code == 2
    for argv in (["run", "seed", "--protocol", "paper"],
                 ["run", "milleruyar1996", "--seeds", "2"],
                 ["run", "nigam2000", "--protocol", "paper", "--seeds", "3"],
                 ["run", "nigam2000", "--protocol", "paper", "--length",
                  "nan"],
                 ["run", "nigam2000", "--protocol", "paper", "--labeled",
                  "30"]):
        with pytest.raises(SystemExit) as exc:
            main(argv + ["--out", out])
        assert exc.value.code == 2, argv
