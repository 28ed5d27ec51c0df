"""probssl.active: pool-based active learning (McCallum & Nigam 1998)."""

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import xlogy
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import GaussianNB, MultinomialNB
from sklearn.svm import SVC

from probssl import EMNaiveBayes, MixtureOfExperts
from probssl.active import (
    ActiveLearner,
    SimulatedOracle,
    committee_disagreement,
    pool_density,
    uncertainty_scores,
)
from probssl.datasets import make_multinomial_mixture, mask_labels


@pytest.fixture(scope="module")
def counts():
    X, y = make_multinomial_mixture(n_samples=400, n_features=60,
                                    n_classes=3, doc_length=60,
                                    random_state=0)
    return sp.csr_matrix(X), y


def _unexplored_pool(rng, n_explored=40, n_new=10):
    """Labeled docs of 2 classes on words 0-9 / 10-19; the pool: docs like
    them, and docs on words 20-29, which no labeled doc has."""
    def docs(lo, n):
        X = np.zeros((n, 30))
        for i in range(n):
            X[i, lo + rng.randint(0, 10, size=20)] += 1
        return X

    X_lab = np.vstack([docs(0, 5), docs(10, 5)])
    y_lab = np.repeat([0, 1], 5)
    X_pool = np.vstack([docs(0, n_explored // 2), docs(10, n_explored // 2),
                        docs(20, n_new)])
    region = np.r_[np.zeros(n_explored, bool), np.ones(n_new, bool)]
    X = sp.csr_matrix(np.vstack([X_lab, X_pool]))
    y = np.r_[y_lab, np.full(X_pool.shape[0], -1)]
    return X, y, region


# -- QBC ---------------------------------------------------------------------
@pytest.mark.parametrize("estimator", [MultinomialNB(alpha=1.0),
                                       EMNaiveBayes(alpha=1.0,
                                                    unlabeled_weight=0.0)])
def test_qbc_picks_from_unexplored_region(estimator):
    X, y, region = _unexplored_pool(np.random.RandomState(0))
    learner = ActiveLearner(estimator, strategy="qbc", batch_size=5,
                            committee_size=5, density_weighting=False,
                            random_state=0).fit(X, y)
    picked = learner.query()
    pool = np.flatnonzero(y == -1)
    assert region[np.searchsorted(pool, picked)].all()
    # The unexplored documents disagree much more than the explored ones.
    assert learner.scores_[region].min() > 10 * learner.scores_[~region].max()


def test_qbc_gaussian_picks_far_region():
    # Mirror-image classes (equal variances): the far region (0, 12) lies
    # on the boundary, where the members' sampled means disagree most.
    rng = np.random.RandomState(0)
    half = rng.normal([-2, 0], 0.5, (10, 2))
    X_lab = np.vstack([half, half * [-1, 1]])
    X_pool = np.vstack([rng.normal([-2, 0], 0.5, (30, 2)),
                        rng.normal([2, 0], 0.5, (30, 2)),
                        rng.normal([0, 12], [0, 0.5], (5, 2))])
    X = np.vstack([X_lab, X_pool])
    y = np.r_[np.repeat([0, 1], 10), np.full(65, -1)]
    for est in (GaussianNB(), EMNaiveBayes(event_model="gaussian",
                                           unlabeled_weight=0.0)):
        learner = ActiveLearner(est, batch_size=5, committee_size=7,
                                density_weighting=False,
                                random_state=0).fit(X, y)
        assert set(learner.query()) == set(range(80, 85))


def test_dirichlet_committee_has_posterior_mean(counts):
    X, y_true = counts
    y = mask_labels(y_true, 5, random_state=0)
    nb = ActiveLearner(MultinomialNB(alpha=0.5)).fit(X, y)
    post = nb.posterior_committee()
    est = nb.estimator_
    np.testing.assert_allclose(post.concentration,
                               est.feature_count_ + 0.5)
    # For MultinomialNB the fitted probabilities are the posterior mean.
    np.testing.assert_allclose(post.posterior_mean,
                               np.exp(est.feature_log_prob_), rtol=1e-12)
    draws = np.exp(post.sample(np.random.RandomState(0), 20_000))
    np.testing.assert_allclose(draws.mean(axis=0), post.posterior_mean,
                               atol=4e-3, rtol=0.03)

    em = ActiveLearner(EMNaiveBayes(alpha=0.5, tol=1e-12, max_iter=2000)
                       ).fit(X, y)
    post = em.posterior_committee()
    # Counts X.T @ R from EM's own posteriors: at convergence the Dirichlet
    # mean is EM's word distribution.
    np.testing.assert_allclose(post.posterior_mean,
                               np.exp(em.estimator_.feature_log_prob_),
                               rtol=1e-6, atol=1e-9)
    # A member with the mean parameters is the fitted model.
    member = post.member_log_proba(X, np.log(post.posterior_mean)[None])[0]
    np.testing.assert_allclose(np.exp(member), em.predict_proba(X),
                               atol=1e-6)
    draws = np.exp(post.sample(np.random.RandomState(1), 20_000))
    np.testing.assert_allclose(draws.mean(axis=0), post.posterior_mean,
                               atol=4e-3, rtol=0.03)


def test_gaussian_committee_has_posterior_mean():
    rng = np.random.RandomState(0)
    X = np.vstack([rng.normal(-1, 1, (30, 3)), rng.normal(1, 1, (30, 3))])
    y = np.repeat([0, 1], 30)
    learner = ActiveLearner(GaussianNB()).fit(X, y)
    post = learner.posterior_committee()
    draws = post.sample(np.random.RandomState(0), 20_000)
    np.testing.assert_allclose(draws.mean(axis=0), learner.estimator_.theta_,
                               atol=0.01)
    np.testing.assert_allclose(draws.var(axis=0) * 30,
                               learner.estimator_.var_, rtol=0.05)


def test_moe_committee_mean_and_members(counts):
    X, y_true = counts
    y = mask_labels(y_true, 5, random_state=0)
    learner = ActiveLearner(MixtureOfExperts(alpha=0.5, tol=1e-12,
                                             max_iter=2000)).fit(X, y)
    post = learner.posterior_committee()
    est = learner.estimator_
    np.testing.assert_allclose(post.posterior_mean,
                               np.exp(est.component_feature_log_prob_),
                               rtol=1e-5, atol=1e-9)
    member = post.member_log_proba(X, np.log(post.posterior_mean)[None])[0]
    np.testing.assert_allclose(np.exp(member), est.predict_proba(X),
                               atol=1e-5)


# -- density -----------------------------------------------------------------
def test_pool_density_equals_pairwise_definition(counts):
    X, _ = counts
    X = X[:60]
    beta, s = 3.0, 0.5
    dense = X.toarray()
    dense = dense[:, dense.sum(axis=0) > 0]    # words of this pool only
    p = dense / dense.sum(axis=1, keepdims=True)
    P = dense.sum(axis=0) / dense.sum()
    # The n^2 definition: mean over h of KL(p_h || s p_i + (1 - s) P).
    q = s * p + (1 - s) * P
    kl = (xlogy(p, p).sum(axis=1)[:, None] - p @ np.log(q).T)  # [h, i]
    want = np.exp(-beta * kl.mean(axis=0))
    np.testing.assert_allclose(pool_density(X, "kl", beta, s),
                               want / want.max(), rtol=1e-10)
    cos = (dense / np.linalg.norm(dense, axis=1, keepdims=True))
    want = np.exp(-beta * (1 - (cos @ cos.T).mean(axis=0)))
    np.testing.assert_allclose(pool_density(X, "cosine", beta),
                               want / want.max(), rtol=1e-10)


def test_density_weighting_prefers_representative_documents():
    # Two classes on words 0 / 1, equal totals: every pool document with
    # equal counts of words 0 and 1 has posterior exactly (1/2, 1/2).
    labeled = [[4, 0, 0, 0, 0], [0, 4, 0, 0, 0]]
    outlier = [[2, 2, 0, 0, 6]]               # word 4: no one else has it
    typical = [[2, 2, 3, 3, 0]] * 30          # words 2, 3: the pool's own
    X = sp.csr_matrix(np.array(labeled + outlier + typical, float))
    y = np.r_[0, 1, np.full(31, -1)]
    kw = dict(strategy="uncertainty", batch_size=1, random_state=0)
    plain = ActiveLearner(MultinomialNB(), density_weighting=False, **kw)
    plain.fit(X, y)
    np.testing.assert_allclose(plain.score_pool(X[2:]), np.log(2))
    # a 31-way tie: broken at random under random_state, not by pool order
    picks = [ActiveLearner(MultinomialNB(), density_weighting=False,
                           strategy="uncertainty", batch_size=3,
                           random_state=seed).fit(X, y).query().tolist()
             for seed in (0, 0, 1, 2, 3)]
    assert picks[0] == picks[1]
    assert len({tuple(p) for p in picks}) >= 3
    assert not all(p == [2, 3, 4] for p in picks)
    weighted = ActiveLearner(MultinomialNB(), density_weighting=True, **kw)
    weighted.fit(X, y)
    assert weighted.query()[0] >= 3            # a typical document
    assert weighted.density_[0] < 0.5 * weighted.density_[1:].min()


# -- scores ------------------------------------------------------------------
def test_uncertainty_measures():
    proba = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.0], [0.6, 0.3, 0.1]])
    np.testing.assert_allclose(uncertainty_scores(proba, "entropy"),
                               [0, np.log(2), -xlogy(proba[2], proba[2]).sum()])
    np.testing.assert_allclose(uncertainty_scores(proba, "margin"),
                               [-1.0, 0.0, -0.3])
    np.testing.assert_allclose(uncertainty_scores(proba, "least_confidence"),
                               [0.0, 0.5, 0.4])
    with pytest.raises(ValueError, match="uncertainty"):
        uncertainty_scores(proba, "gini")


@pytest.mark.parametrize("kind", ["entropy", "margin", "least_confidence"])
def test_uncertainty_strategy_picks_ambiguous(kind):
    X = sp.csr_matrix(np.array([[5, 0], [0, 5], [5, 0], [3, 3], [0, 4.0]]))
    y = np.array([0, 1, -1, -1, -1])
    learner = ActiveLearner(MultinomialNB(), strategy="uncertainty",
                            uncertainty=kind, density_weighting=False).fit(X, y)
    assert learner.query().tolist() == [3]


def test_committee_disagreement():
    p = np.log(np.array([[[0.5, 0.5], [0.9, 0.1]]] * 3))
    np.testing.assert_allclose(committee_disagreement(p), 0, atol=1e-15)
    q = np.log(np.array([[[0.9, 0.1]], [[0.1, 0.9]]]))
    mean = np.array([0.5, 0.5])
    want = np.mean([np.sum(np.exp(m[0]) * (m[0] - np.log(mean))) for m in q])
    np.testing.assert_allclose(committee_disagreement(q), [want])


# -- warm start --------------------------------------------------------------
_HAS_WARM_START = "warm_start" in EMNaiveBayes().get_params()


@pytest.mark.skipif(not _HAS_WARM_START,
                    reason="EMNaiveBayes has no warm_start parameter yet")
@pytest.mark.parametrize("make", [
    lambda: EMNaiveBayes(alpha=0.1, tol=1e-12, max_iter=5000),
    lambda: MixtureOfExperts(alpha=0.1, tol=1e-12, max_iter=5000),
])
def test_warm_started_em_equals_cold(counts, make):
    X, y_true = counts
    y = mask_labels(y_true, 3, random_state=0)
    runs = {}
    for warm in (True, False):
        learner = ActiveLearner(make(), strategy="random", batch_size=10,
                                warm_start=warm, random_state=0).fit(X, y)
        learner.simulate(SimulatedOracle(y_true), 3)
        runs[warm] = learner
    warm, cold = runs[True], runs[False]
    assert warm.warm_started_ and not cold.warm_started_
    np.testing.assert_array_equal(warm.y_, cold.y_)    # same queries
    agree = np.mean(warm.predict(X) == cold.predict(X))
    assert agree >= 0.99
    np.testing.assert_allclose(warm.predict_proba(X), cold.predict_proba(X),
                               atol=1e-3)
    name = ("feature_log_prob_" if hasattr(warm.estimator_,
                                           "feature_log_prob_")
            else "component_feature_log_prob_")
    np.testing.assert_allclose(np.exp(getattr(warm.estimator_, name)),
                               np.exp(getattr(cold.estimator_, name)),
                               atol=1e-4)


def test_cold_refit_without_warm_start_parameter(counts):
    X, y_true = counts
    y = mask_labels(y_true, 3, random_state=0)
    learner = ActiveLearner(MultinomialNB(), warm_start=True).fit(X, y)
    assert not learner.warm_started_
    learner = ActiveLearner(EMNaiveBayes(), warm_start=False).fit(X, y)
    assert not learner.warm_started_
    assert "warm_start" not in learner.estimator_.get_params() or \
        not learner.estimator_.get_params()["warm_start"]


# -- determinism and plug-in -------------------------------------------------
@pytest.mark.parametrize("strategy,committee", [("random", "auto"),
                                                ("qbc", "auto"),
                                                ("qbc", "bootstrap")])
def test_determinism(counts, strategy, committee):
    X, y_true = counts
    y = mask_labels(y_true, 2, random_state=0)

    def queries(seed):
        learner = ActiveLearner(MultinomialNB(alpha=0.1), strategy=strategy,
                                committee=committee, batch_size=4,
                                random_state=seed).fit(X, y)
        learner.simulate(SimulatedOracle(y_true), 3)
        return np.flatnonzero(learner.y_ != -1)

    np.testing.assert_array_equal(queries(0), queries(0))
    assert not np.array_equal(queries(0), queries(1))


@pytest.mark.parametrize("estimator,kind", [
    (EMNaiveBayes(alpha=0.1), "posterior"),
    (EMNaiveBayes(alpha=0.1, n_components_per_class=2, random_state=0),
     "posterior"),
    (MixtureOfExperts(alpha=0.1, random_state=0), "posterior"),
    (MultinomialNB(alpha=0.1), "posterior"),
    (LogisticRegression(max_iter=300), "bootstrap"),
    (EMNaiveBayes(event_model="bernoulli"), "bootstrap"),
])
@pytest.mark.parametrize("strategy", ["qbc", "uncertainty", "random"])
def test_estimators_plug_in(counts, estimator, kind, strategy):
    X, y_true = counts
    y = mask_labels(y_true, 2, random_state=0)
    learner = ActiveLearner(estimator, strategy=strategy, batch_size=5,
                            random_state=0).fit(X, y)
    assert (learner.posterior_committee() is None) == (kind == "bootstrap")
    picked = learner.query()
    assert picked.size == 5 and np.unique(picked).size == 5
    assert np.all(learner.y_[picked] == -1)
    history = learner.simulate(SimulatedOracle(y_true), 2, X, y_true)
    assert [h["n_labeled"] for h in history] == [6, 11, 16]
    assert all(0 <= h["accuracy"] <= 1 for h in history)
    assert learner.predict_proba(X).shape == (X.shape[0], 3)


def test_semi_supervised_estimator_sees_pool(counts):
    X, y_true = counts
    y = mask_labels(y_true, 2, random_state=0)
    em = ActiveLearner(EMNaiveBayes()).fit(X, y)
    assert em.estimator_.transduction_.shape == (X.shape[0],)
    nb = ActiveLearner(MultinomialNB()).fit(X, y)
    assert nb.estimator_.class_count_.sum() == 6


def test_external_pool_and_teach(counts):
    X, y_true = counts
    lab = np.flatnonzero(mask_labels(y_true, 2, random_state=0) != -1)
    learner = ActiveLearner(MultinomialNB(), batch_size=3,
                            random_state=0).fit(X[lab], y_true[lab])
    idx = learner.query(X[:50])
    assert idx.size == 3 and idx.max() < 50
    learner.teach(X[idx], y_true[idx])
    assert learner.y_.size == lab.size + 3
    assert learner.query(X[:50], n_instances=7).size == 7


def test_progress_bar_and_verbose(counts, capsys, monkeypatch):
    X, y_true = counts
    y = mask_labels(y_true, 2, random_state=0)
    learner = ActiveLearner(MultinomialNB(), batch_size=2, verbose=1,
                            random_state=0).fit(X, y)
    learner.simulate(SimulatedOracle(y_true), 2, X, y_true)
    assert len(learner.history_) == 3
    assert "qbc rounds" in capsys.readouterr().err     # tqdm's bar
    # Without tqdm: one line per round.
    monkeypatch.setitem(__import__("sys").modules, "tqdm.auto", None)
    learner.simulate(SimulatedOracle(y_true), 2, X, y_true)
    out = capsys.readouterr().out
    assert "round 3: 12 labeled" in out and "round 4: 14 labeled" in out
    assert [h["round"] for h in learner.history_] == [0, 1, 2, 3, 4]


# -- errors ------------------------------------------------------------------
def _few_left(y, y_true):
    """Labels with only 3 rows of the pool left."""
    few = y.copy()
    rows = np.flatnonzero(few == -1)[3:]
    few[rows] = y_true[rows]
    return few


def _label_a_labeled_row(X, y, y_true):
    done = np.flatnonzero(y != -1)[:1]
    ActiveLearner(MultinomialNB()).fit(X, y).label(done, y_true[done])


ERRORS = [
    (ValueError, "pool is empty",
     lambda X, y, t: ActiveLearner(MultinomialNB()).fit(X, t).query()),
    (ValueError, "cannot query 5 rows from a pool of 3",
     lambda X, y, t: ActiveLearner(MultinomialNB(), batch_size=5).fit(
         X, _few_left(y, t)).query()),
    (TypeError, "predict_proba", lambda X, y, t: ActiveLearner(SVC()).fit(X, y)),
    (ValueError, "strategy", lambda X, y, t: ActiveLearner(
        MultinomialNB(), strategy="greedy").fit(X, y)),
    (ValueError, "batch_size", lambda X, y, t: ActiveLearner(
        MultinomialNB(), batch_size=0).fit(X, y)),
    (ValueError, "committee_size", lambda X, y, t: ActiveLearner(
        MultinomialNB(), committee_size=1).fit(X, y)),
    (ValueError, "(?i)at least one labeled row", lambda X, y, t: ActiveLearner(
        MultinomialNB()).fit(X, np.full(X.shape[0], -1))),
    (ValueError, "inconsistent numbers of rows", lambda X, y, t: ActiveLearner(
        MultinomialNB()).fit(X, y[:-1])),
    (ValueError, "already labeled", _label_a_labeled_row),
    (ValueError, "committee='bootstrap'", lambda X, y, t: ActiveLearner(
        LogisticRegression(), committee="posterior").fit(X, y).query()),
]


@pytest.mark.parametrize("exc, match, call", ERRORS,
                         ids=[e[1][:30] for e in ERRORS])
def test_errors(counts, exc, match, call):
    X, y_true = counts
    y = mask_labels(y_true, 2, random_state=0)
    with pytest.raises(exc, match=match):
        call(X, y, y_true)


def test_random_strategy_needs_no_probabilities(counts):
    X, y_true = counts
    y = mask_labels(y_true, 2, random_state=0)
    assert ActiveLearner(SVC(), strategy="random").fit(X, y).query().size == 1


# -- the protocol ------------------------------------------------------------
def test_mccallum1998_protocol_on_sample(tmp_path):
    from probssl.datasets import load_demo_sample
    from probssl.experiments import mccallum1998

    corpus = load_demo_sample()
    kw = dict(strategies=("random", "density-QBC"), seeds=1, n_rounds=2,
              batch_size=10, n_pool=300, out=str(tmp_path), verbose=False,
              corpus=corpus)
    rows = mccallum1998.run(**kw)
    assert len(rows) == 2 * 2 * 3
    for row in rows:
        assert {"strategy", "method", "n_labeled", "seed",
                "accuracy"} <= set(row)
    assert sorted({r["n_labeled"] for r in rows}) == [20, 30, 40]
    text = mccallum1998.summarize(rows)
    assert "Labels needed" in text and "density-QBC" in text
    assert (tmp_path / "results.md").exists()
    # A re-run reuses every finished curve (no refit: same rows).
    again = mccallum1998.run(**kw)
    assert [r["accuracy"] for r in again] == [r["accuracy"] for r in rows]
    assert [r["fit_time_s"] for r in again] == [r["fit_time_s"] for r in rows]


def test_labels_to_reach_interpolates():
    from probssl.active import labels_to_reach as labels_needed

    n = np.array([20, 40, 60])
    assert labels_needed(n, np.array([0.1, 0.3, 0.5]), 0.4) == 50
    assert labels_needed(n, np.array([0.5, 0.6, 0.7]), 0.4) == 20
    assert labels_needed(n, np.array([0.1, 0.2, 0.3]), 0.4) is None
    # The first crossing, on a curve that dips again after it.
    assert labels_needed(n, np.array([0.1, 0.5, 0.3]), 0.3) == 30
    assert labels_needed([20], [0.4], 0.4) == 20.0


@pytest.mark.parametrize("extra,message", [
    (["--labeled", "20"], "--labeled is not supported"),
    (["--strategies", "random,greedy"], "unknown strategy"),
    (["--methods", "NB,Hybrid"], "unknown method"),
])
def test_cli_mccallum1998_bad_arguments(newsgroups_archive, capsys, extra,
                                        message):
    from probssl.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["run", "mccallum1998", "--data", newsgroups_archive] + extra)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("covariance_type", ["tied_diag", "full", "tied"])
def test_gaussian_covariance_families_plug_in(covariance_type):
    """A shared diagonal gets the posterior committee of its means; full and
    tied (full) covariances are bootstrapped."""
    rng = np.random.RandomState(0)
    X = np.vstack([rng.normal(-2, 1, (40, 3)), rng.normal(2, 1, (40, 3))])
    y = np.full(80, -1)
    y[[0, 1, 40, 41]] = [0, 0, 1, 1]
    est = EMNaiveBayes(event_model="gaussian",
                       covariance_type=covariance_type, reg_covar=1e-3)
    learner = ActiveLearner(est, strategy="qbc", batch_size=3,
                            random_state=0).fit(X, y)
    picked = learner.query()
    assert len(picked) == 3 and len(set(picked.tolist())) == 3
    assert (learner.posterior_committee() is None) == (
        covariance_type != "tied_diag")


# -- the input contract ------------------------------------------------------
def test_text_labels_with_text_pool_marker(counts):
    """Labels of any type the estimators take: text, "-1" marks the pool."""
    X, y_true = counts
    names = np.array(["alt", "comp", "sci"])
    y = np.where(mask_labels(y_true, 2, random_state=0) == -1, "-1",
                 names[y_true])
    learner = ActiveLearner(EMNaiveBayes(alpha=0.1), batch_size=4,
                            random_state=0).fit(X, y)
    assert learner.classes_.tolist() == names.tolist()
    rows = learner.query()
    assert np.all(learner.y_[rows] == "-1")
    learner.label(rows, names[y_true[rows]])
    assert (learner.y_ != "-1").sum() == 10
    # a longer label than any seen is kept whole, not truncated
    learner.teach(X[:1], ["a-much-longer-name"])
    assert learner.y_[-1] == "a-much-longer-name"
    with pytest.raises(TypeError, match="text"):
        learner.label(learner.query(), [0, 1, 2, 0])


def test_answers_and_indices_are_not_silently_cast(counts):
    X, y_true = counts
    y = mask_labels(y_true, 2, random_state=0)
    learner = ActiveLearner(MultinomialNB(), batch_size=2,
                            random_state=0).fit(X, y)
    rows = learner.query()
    with pytest.raises(ValueError, match="1.7"):
        learner.label(rows, [1.7, 0.0])
    with pytest.raises(ValueError, match="indices must be integers"):
        learner.label(rows + 0.7, y_true[rows])
    with pytest.raises(ValueError, match="-1"):
        learner.label(rows, [-1, 0])
    assert np.all(learner.y_[rows] == -1)      # nothing was written
    learner.label(rows.astype(float), y_true[rows].astype(float))
    assert learner.y_.dtype.kind == "i"
    assert np.all(learner.y_[rows] == y_true[rows])


def test_semi_supervised_true_around_a_supervised_estimator(counts):
    X, y_true = counts
    y = mask_labels(y_true, 2, random_state=0)
    with pytest.raises(ValueError, match="learned the pool's marker -1"):
        ActiveLearner(MultinomialNB(), semi_supervised=True).fit(X, y)


def test_score_checks_y_and_ignores_the_pool(counts):
    X, y_true = counts
    learner = ActiveLearner(EMNaiveBayes(alpha=0.1), random_state=0).fit(
        X, mask_labels(y_true, 2, random_state=0))
    with pytest.raises(ValueError, match="inconsistent numbers of rows"):
        learner.score(X, y_true[:1])
    y = y_true.copy()
    y[::2] = -1
    expect = np.mean(learner.predict(X[1::2]) == y_true[1::2])
    assert learner.score(X, y) == pytest.approx(expect)


def test_wrong_width_pool_is_a_clear_error(counts):
    X, y_true = counts
    learner = ActiveLearner(MultinomialNB(), random_state=0).fit(
        X, mask_labels(y_true, 2, random_state=0))
    for call in (learner.query, learner.predict, learner.score_pool):
        with pytest.raises(ValueError, match="59 features, but ActiveLearner"
                                             " is expecting 60"):
            call(X[:, :59])


@pytest.mark.parametrize("dense", [False, True])
def test_empty_documents_are_never_the_densest(counts, dense):
    X, _ = counts
    X = sp.vstack([sp.csr_matrix((5, X.shape[1])), X[:50]], format="csr")
    density = pool_density(X.toarray() if dense else X)
    assert np.all(density[:5] == 0) and density[5:].max() == 1.0
    cos = pool_density(X.toarray() if dense else X, method="cosine")
    assert np.all(cos[:5] == 0) and cos[5:].max() == 1.0


def test_vmf_committee_from_the_models_posterior():
    """The vMF model's own posterior of its mean directions: members
    scatter about the fitted directions, and a member with the fitted
    directions is the fitted model."""
    rng = np.random.RandomState(0)
    centres = np.array([[1.0, 0, 0], [0, 1.0, 0]])
    X = np.repeat(centres, 40, axis=0) + 0.3 * rng.randn(80, 3)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    y = np.full(80, -1)
    y[[0, 1, 40, 41]] = [0, 0, 1, 1]
    learner = ActiveLearner(EMNaiveBayes(event_model="vmf"), batch_size=3,
                            random_state=0).fit(X, y)
    post = learner.posterior_committee()
    assert post is not None
    est = learner.estimator_
    draws = post.sample(np.random.RandomState(0), 2000)
    np.testing.assert_allclose(np.linalg.norm(draws, axis=2), 1.0)
    mean = draws.mean(axis=0)
    np.testing.assert_allclose(mean / np.linalg.norm(mean, axis=1,
                                                     keepdims=True),
                               est.means_, atol=0.01)
    member = post.member_log_proba(X, est.means_[None])[0]
    np.testing.assert_allclose(np.exp(member), est.predict_proba(X),
                               atol=1e-8)
    picked = learner.query()
    assert len(set(picked.tolist())) == 3
