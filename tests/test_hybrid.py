"""Tests of probssl.hybrid.HybridClassifier (Fujino, Ueda & Saito 2005)."""

import copy
import pickle
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning
from sklearn.naive_bayes import MultinomialNB

from probssl._events import make_event_model
from probssl.datasets import make_multinomial_mixture

from _helpers import few_labels_on_sparse_columns
from probssl.hybrid import HybridClassifier, _gamma_objective, _hybrid_scores


def corpus(seed=0, n=600, n_labeled=12, n_features=200, n_classes=3,
           doc_length=20, concentration=0.5):
    X, y = make_multinomial_mixture(
        n_samples=n, n_features=n_features, n_classes=n_classes,
        doc_length=doc_length, concentration=concentration, random_state=seed)
    y_semi = y.copy()
    rng = np.random.default_rng(seed)
    keep = np.concatenate([
        rng.choice(np.flatnonzero(y == k), n_labeled // n_classes,
                   replace=False) for k in range(n_classes)])
    mask = np.ones(n, dtype=bool)
    mask[keep] = False
    y_semi[mask] = -1
    return X, y, y_semi


def gaussian_data(seed=0, n=60, d=4, K=3):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % K
    X = rng.normal(size=(n, d)) + 2.0 * y[:, None] * np.arange(1, d + 1)
    return X, y


# -- reduction to naive Bayes --------------------------------------------------
def test_psi_equal_theta_gamma2_zero_is_naive_bayes():
    X, y, y_semi = corpus()
    clf = HybridClassifier(event_model="multinomial", alpha=1.0).fit(
        X, y_semi)
    lab = y_semi >= 0
    nb = MultinomialNB(alpha=1.0).fit(X[lab], y_semi[lab])
    clf.bias_correction_ = copy.deepcopy(clf.generative_)
    clf.weights_ = np.array([1.0, 0.0])
    clf.intercept_ = nb.class_log_prior_.copy()
    assert_allclose(clf.predict_proba(X), nb.predict_proba(X), atol=1e-10)
    assert_allclose(clf.generative_.feature_log_prob, nb.feature_log_prob_,
                    atol=1e-10)
    # Any (gamma1, mu) with gamma2 = 0: naive Bayes with a recalibrated prior.
    rng = np.random.default_rng(1)
    for _ in range(3):
        g1, mu = rng.uniform(0.1, 3.0), rng.normal(size=3)
        clf.weights_ = np.array([g1, 0.0])
        clf.intercept_ = mu
        expected = np.argmax(g1 * nb.feature_log_prob_ @ X.T.toarray()
                             + mu[:, None], axis=0)
        assert_array_equal(clf.predict(X), clf.classes_[expected])


# -- gradient of the Gamma-step -------------------------------------------------
@pytest.mark.parametrize("weighted", [False, True])
def test_gamma_gradient_matches_finite_differences(weighted):
    rng = np.random.default_rng(0)
    n, K = 30, 4
    A = rng.normal(scale=5.0, size=(n, K)) - 20.0
    B = rng.normal(scale=5.0, size=(n, K)) - 20.0
    y = rng.integers(K, size=n)
    w = rng.uniform(0.0, 3.0, size=n) if weighted else np.ones(n)
    for _ in range(3):
        params = rng.normal(size=K + 2)
        f, g = _gamma_objective(params, A, B, y, w, 0.7)
        h = 1e-6
        num = np.empty_like(params)
        for j in range(params.size):
            e = np.zeros_like(params)
            e[j] = h
            num[j] = (_gamma_objective(params + e, A, B, y, w, 0.7)[0]
                      - _gamma_objective(params - e, A, B, y, w, 0.7)[0]) / (
                          2 * h)
        assert_allclose(g, num, rtol=1e-5, atol=1e-5)


# -- leave-one-out theta -----------------------------------------------------------
LOO_CASES = [
    ("multinomial", {}),
    ("bernoulli", {}),
    ("gaussian", {"covariance_type": "diag"}),
    ("gaussian", {"covariance_type": "tied_diag"}),
    ("gaussian", {"covariance_type": "spherical"}),
]


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("name,kwargs", LOO_CASES)
def test_leave_one_out_equals_refit_without_row(name, kwargs, weighted):
    if name == "gaussian":
        X, y = gaussian_data()
    else:
        X, y, _ = corpus(n=40, n_features=30)
        X = X.toarray()
    n = X.shape[0]
    rng = np.random.default_rng(3)
    w = rng.uniform(0.5, 2.0, size=n) if weighted else np.ones(n)
    clf = HybridClassifier(event_model=name, alpha=1.0, **kwargs).fit(
        X, y, sample_weight=w)
    K = len(clf.classes_)
    A = clf._generative_features(X, y, w)[1]
    full = clf.generative_.log_prob(X)
    for i in [0, 5, 17, n - 1]:
        keep = np.arange(n) != i
        resp = np.zeros((n - 1, K))
        resp[np.arange(n - 1), y[keep]] = w[keep]
        ev = make_event_model(name, **kwargs)
        ev.fit(ev.prepare(X[keep]), resp)
        loo = ev.log_prob(X[i:i + 1])[0]
        assert_allclose(A[i, y[i]], loo[y[i]], rtol=1e-9, atol=1e-8)
        if kwargs.get("covariance_type") == "tied_diag":
            assert_allclose(A[i], loo, rtol=1e-9, atol=1e-8)
        else:
            others = np.arange(K) != y[i]
            assert_allclose(A[i, others], full[i, others], rtol=1e-12)
    # Without leave-one-out, the features are the full-data densities.
    clf.set_params(leave_one_out=False)
    assert_allclose(clf._generative_features(X, y, w)[1], full)


def test_leave_one_out_sparse_equals_dense():
    X, y, _ = corpus(n=40, n_features=30)
    w = np.linspace(0.5, 2.0, 40)
    clf = HybridClassifier(event_model="multinomial").fit(X, y)
    assert_allclose(clf._generative_features(X, y, w)[1],
                    clf._generative_features(X.toarray(), y, w)[1])


# -- objective ---------------------------------------------------------------
def test_gamma_step_never_decreases_and_alternation_converges():
    X, y, y_semi = corpus(seed=2)
    clf = HybridClassifier(tol=1e-6, max_iter=300).fit(X, y_semi)
    assert clf.converged_
    assert clf.n_iter_ == len(clf.objectives_) == len(clf.posterior_changes_)
    assert np.all(np.isfinite(clf.objectives_))
    assert clf.objective_ == clf.objectives_[-1]
    # The stopping rule: the soft labels of the unlabeled rows moved by at
    # most tol at the last iteration, by more before.
    changes = np.asarray(clf.posterior_changes_)
    assert changes[-1] <= 1e-6 and np.all(changes[:-1] > 1e-6)
    assert np.all((changes >= 0) & (changes <= 1))
    # The Gamma-step from any start never lowers the objective.
    lab = y_semi >= 0
    w = np.ones(lab.sum())
    A = clf._generative_features(X[lab], y_semi[lab], w)[1]
    B = clf.bias_correction_.log_prob(X[lab])
    rng = np.random.default_rng(0)
    for _ in range(5):
        start = rng.normal(size=5)
        before = -_gamma_objective(start, A, B, y_semi[lab], w, 1.0)[0]
        _, after = clf._gamma_step(start, A, B, y_semi[lab], w, False)
        assert after >= before - 1e-12
    # The fitted Gamma is (numerically) optimal for the final psi.
    params = np.concatenate([clf.weights_, clf.intercept_])
    f, g = _gamma_objective(params, A, B, y_semi[lab], w, 1.0)
    assert np.max(np.abs(g)) < 1e-3


def test_no_unlabeled_rows_keeps_psi_theta_and_gamma2_zero():
    X, y, _ = corpus(n=60)
    clf = HybridClassifier().fit(X, y)
    assert clf.weights_[1] == 0.0
    assert clf.n_iter_ == 1 and clf.converged_
    assert_allclose(clf.bias_correction_.log_theta, clf.generative_.log_theta)


def test_scores_are_stable_logsumexp():
    A = np.array([[-1e4, -1e4 - 5.0]])
    s = _hybrid_scores(A, A, np.array([1.0, 1.0, 0.0, 0.0]))
    f, g = _gamma_objective(np.array([1.0, 1.0, 0.0, 0.0]), A, A,
                            np.array([0]), np.ones(1), 1.0)
    assert np.isfinite(s).all() and np.isfinite(f) and np.isfinite(g).all()


# -- usefulness --------------------------------------------------------------
def test_hybrid_beats_supervised_naive_bayes():
    X, y = make_multinomial_mixture(
        n_samples=3000, n_features=500, n_classes=4, doc_length=15,
        concentration=0.5, random_state=0)
    X_tr, y_tr, X_te, y_te = X[:2000], y[:2000], X[2000:], y[2000:]
    gains = []
    for seed in range(3):
        rng = np.random.default_rng(seed)
        y_semi = np.full(2000, -1)
        lab = np.concatenate([rng.choice(np.flatnonzero(y_tr == k), 3,
                                         replace=False) for k in range(4)])
        y_semi[lab] = y_tr[lab]
        nb = MultinomialNB().fit(X_tr[lab], y_tr[lab]).score(X_te, y_te)
        hyb = HybridClassifier().fit(X_tr, y_semi).score(X_te, y_te)
        gains.append(hyb - nb)
    assert np.mean(gains) > 0.05, gains


# -- API ---------------------------------------------------------------------
def test_pickle_and_determinism():
    X, y, y_semi = corpus()
    a = HybridClassifier().fit(X, y_semi)
    b = HybridClassifier().fit(X, y_semi)
    assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    c = pickle.loads(pickle.dumps(a))
    assert_array_equal(a.predict_proba(X), c.predict_proba(X))


def test_not_converged_warns():
    X, y, y_semi = corpus()
    with pytest.warns(ConvergenceWarning):
        clf = HybridClassifier(max_iter=1, tol=0.0).fit(X, y_semi)
    assert not clf.converged_ and clf.n_iter_ == 1


@pytest.mark.parametrize("name", ["bernoulli", "gaussian"])
def test_other_event_models_fit(name):
    if name == "gaussian":
        X, y = gaussian_data(n=90)
        y_semi = np.where(np.arange(90) < 15, y, -1)
    else:
        X, y, y_semi = corpus()
    clf = HybridClassifier(event_model=name).fit(X, y_semi)
    assert clf.score(X, y) > 0.8


def test_verbose_reports_every_iteration_as_the_em_loops_do(capsys):
    """The hybrid's alternation keeps the engine's book-keeping: one line
    per iteration through the "probssl" logger, and a non-finite objective
    is an error that names the estimator, not a silent NaN model."""
    X, _, y = corpus()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = HybridClassifier(verbose=1, max_iter=5, tol=0.0).fit(X, y)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == clf.n_iter_ == len(clf.objectives_) == 5
    assert lines[0].startswith(
        "probssl: HybridClassifier iteration   1: posterior change")
    assert "nan" not in lines[0]
    clf = HybridClassifier(max_iter=3)
    clf._gamma_step = lambda params, *args, **kwargs: (params, np.nan)
    with pytest.raises(FloatingPointError, match="HybridClassifier"):
        clf.fit(X, y)


def test_tol_zero_runs_max_iter_and_the_change_rule_stops():
    X, _, y = corpus(seed=4)
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        clf = HybridClassifier(max_iter=7, tol=0.0).fit(X, y)
    assert clf.n_iter_ == 7 and not clf.converged_
    # A loose tol stops as soon as the posteriors move by less.
    loose = HybridClassifier(tol=0.05).fit(X, y)
    changes = np.asarray(loose.posterior_changes_)
    assert loose.converged_ and changes[-1] <= 0.05
    assert np.all(changes[:-1] > 0.05)


# -- the leave-one-out safeguard ----------------------------------------------
def test_safeguard_scores_naive_bayes_left_out_not_resubstituted():
    """The safeguard compared the hybrid with naive Bayes re-substituted
    (which has seen the rows: 100 % here, 99 % on 20 Newsgroups) and
    refitted ordinary fits on the plain features. Now both are scored on
    the labeled rows left out: naive Bayes' score is that of MultinomialNB
    refitted without each row."""
    X, y, y_semi = corpus(seed=3, n=500, n_labeled=24, n_features=400,
                          concentration=2.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        clf = HybridClassifier(alpha=0.1).fit(X, y_semi)
    lab = np.flatnonzero(y_semi >= 0)
    hits = []
    for i in lab:
        rest = lab[lab != i]
        nb = MultinomialNB(alpha=0.1).fit(X[rest], y[rest])
        hits.append(nb.predict(X[i])[0] == y[i])
    resub = MultinomialNB(alpha=0.1).fit(X[lab], y[lab]).score(X[lab], y[lab])
    scores = clf.leave_one_out_scores_
    assert scores["naive_bayes"] == pytest.approx(np.mean(hits))
    assert scores["naive_bayes"] < resub
    assert scores["chance"] == pytest.approx(1 / 3)
    assert clf.leave_one_out_ is True


def test_safeguard_skips_classes_with_one_labeled_row():
    """A class's only row has nothing left of its class: naive Bayes left
    out never gets it right, which is no evidence against the leave-one-out
    features (on 20 Newsgroups with one row a class the plain refit scored
    6 % on the test set, the leave-one-out fit 23-25 %)."""
    X, y, y_semi = corpus(seed=5, n_labeled=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        clf = HybridClassifier().fit(X, y_semi)
    assert clf.leave_one_out_ is True and clf.leave_one_out_scores_ is None


def test_bernoulli_on_a_million_sparse_columns_is_never_silently_bad():
    """The case that motivated the safeguard, at 10^6 columns and the
    default alpha: naive Bayes left out scores 0 % (a row's absence from
    its class lowers the probability of ~10^6 absent words there), so the
    weights are refitted on the plain features, with a warning, and the
    labeled rows are classified right."""
    X, y, y_true = few_labels_on_sparse_columns(300, 1_000_000)
    lab = y != -1
    with pytest.warns(UserWarning, match="mislead here; refitting them"):
        h = HybridClassifier(event_model="bernoulli").fit(X, y)
    assert h.leave_one_out_ is False
    assert h.leave_one_out_scores_["naive_bayes"] == 0.0
    assert h.score(X[lab], y_true[lab]) == 1.0


def test_hybrid_beats_naive_bayes_on_20_newsgroups(newsgroups_archive):
    """Nigam's 300-labeled split (seed 1 of ``probssl run fujino2005``'s
    draws): the safeguard fired on this ordinary text and the refit scored
    48.6 % against naive Bayes' 52.4 %; fixed, 61.2 %."""
    from sklearn.feature_extraction.text import CountVectorizer

    from probssl.datasets import load_20newsgroups
    from probssl.datasets import labeled_unlabeled_split as split_indices

    train = load_20newsgroups("train", archive=newsgroups_archive)
    test = load_20newsgroups("test", archive=newsgroups_archive)
    vectorizer = CountVectorizer(stop_words="english", min_df=2)
    X, X_test = (vectorizer.fit_transform(train.data),
                 vectorizer.transform(test.data))
    lab, unl = split_indices(train.target, 300, 10_000, 1)
    nb = MultinomialNB(alpha=0.01).fit(X[lab], train.target[lab])
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        hybrid = HybridClassifier(alpha=0.01).fit(
            X[np.concatenate([lab, unl])],
            np.concatenate([train.target[lab], np.full(unl.size, -1)]))
    assert hybrid.leave_one_out_
    gain = hybrid.score(X_test, test.target) - nb.score(X_test, test.target)
    assert gain >= 0.03, gain


# -- the fit at EM's cost (issue 27) ------------------------------------------
def _kkt_residual(params, A, B, y, w, C, fix_gamma2=False):
    """Largest violation of the Gamma-step's optimality conditions (gamma
    >= 0: a gradient may only push a gamma at 0 below it)."""
    _, g = _gamma_objective(params, A, B, y, w, C, fix_gamma2)
    ascent = -g
    at_bound = params[:2] <= 0.0
    ascent[:2] = np.where(at_bound, np.maximum(ascent[:2], 0.0), ascent[:2])
    return np.max(np.abs(ascent))


@pytest.mark.parametrize("fix_gamma2", [False, True])
def test_newton_gamma_step_reaches_the_optimum_of_lbfgs(fix_gamma2):
    """The Newton Gamma-step lands where L-BFGS-B at float64's tolerances
    does, also with gamma2 pinned at its bound 0 (B misleading) or fixed."""
    from scipy.optimize import minimize

    rng = np.random.default_rng(3)
    n, K = 80, 5
    y = rng.integers(K, size=n)
    A = rng.normal(scale=3.0, size=(n, K)) - 50.0
    A[np.arange(n), y] += 4.0  # A informative
    B = rng.normal(scale=3.0, size=(n, K)) - 50.0
    B[np.arange(n), y] -= 4.0  # B misleading: its best weight is below 0
    w = rng.uniform(0.5, 2.0, size=n)
    clf = HybridClassifier(C=2.0)
    start = np.concatenate([[1.0, 0.5 if fix_gamma2 else 0.0],
                            np.zeros(K)])
    params, f = clf._gamma_step(start, A, B, y, w, fix_gamma2)
    assert _kkt_residual(params, A, B, y, w, 2.0, fix_gamma2) < 1e-6
    if fix_gamma2:
        assert params[1] == 0.5
    else:
        assert params[1] == 0.0  # at its bound
    ref = minimize(_gamma_objective, start, jac=True, method="L-BFGS-B",
                   args=(A, B, y, w, 2.0, fix_gamma2),
                   bounds=[(0.0, None)] * 2 + [(None, None)] * K,
                   options={"maxiter": 5000, "gtol": 1e-12, "ftol": 1e-16})
    assert f >= -ref.fun - 1e-9 * abs(ref.fun)
    assert f == pytest.approx(-_gamma_objective(params, A, B, y, w, 2.0)[0])


@pytest.mark.parametrize("name", ["multinomial", "bernoulli"])
def test_psi_step_equals_the_event_models_fit(name):
    """The psi-step's fast multinomial path (statistics from X.T, the
    densities from log(alpha + S)) gives the event model's own fit and
    log-densities; Bernoulli takes the generic path."""
    from probssl.hybrid import _PsiStep

    X, _, y = corpus(seed=5)
    rng = np.random.default_rng(0)
    resp = rng.dirichlet(np.ones(3), size=X.shape[0])
    events = make_event_model(name, alpha=0.01)
    block, lab_block = events.prepare(X), events.prepare(X[y >= 0])
    step = _PsiStep(events, block, lab_block)
    assert step.fast == (name == "multinomial")
    B_unl, B_lab = step.step(resp)
    step.finish()
    reference = make_event_model(name, alpha=0.01).fit(events.prepare(X),
                                                       resp)
    assert_allclose(B_unl, reference.log_prob(X), rtol=1e-10)
    assert_allclose(B_lab, reference.log_prob(X[y >= 0]), rtol=1e-10)
    assert_allclose(events.log_prob(X), reference.log_prob(X), rtol=1e-10)


def test_random_state_is_deprecated():
    """random_state was stored and never read (issue 25): passing it now
    warns; the default does not, and the fit is the same."""
    X, _, y = corpus(seed=6)
    assert HybridClassifier().get_params()["random_state"] == "deprecated"
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        plain = HybridClassifier().fit(X, y)
    with pytest.warns(FutureWarning, match="random_state is unused"):
        seeded = HybridClassifier(random_state=0).fit(X, y)
    assert_array_equal(plain.weights_, seeded.weights_)
    assert_array_equal(plain.predict_proba(X), seeded.predict_proba(X))


def _saturated_gamma_problem(seed, n=300, K=20, scale=2000.0):
    """A Gamma-step's input where the softmax saturates: features of
    thousands of nats (as leave-one-out log-likelihoods of long documents),
    one row in ten with its class far from the best, the fit's start."""
    rng = np.random.RandomState(seed)
    y = np.arange(n) % K
    A = -scale * rng.gamma(2.0, 1.0, size=(n, K))
    B = -scale * rng.gamma(2.0, 1.0, size=(n, K))
    good = np.flatnonzero(rng.rand(n) > 0.1)
    for F in (A, B):
        F[good, y[good]] = (F[good].max(axis=1)
                            + scale * 0.05 * rng.rand(good.size))
    params = np.r_[1.0, 0.0, np.full(K, -np.log(K))]
    return params, A, B, y, np.ones(n)


@pytest.mark.parametrize("seed, most_steps", [(0, 20), (3, 20), (29, 1020)])
def test_gamma_step_reaches_the_optimum_where_the_softmax_saturates(
        monkeypatch, seed, most_steps):
    """Newton's direction stalls (seeds 0, 3: the step now takes 20
    L-BFGS-B steps, then Newton; before, L-BFGS-B's 1,000 to a worse point)
    or its step vanishes with the gradient far from zero (seed 29: before,
    reported as converged at an objective 70 times worse). The step
    reaches L-BFGS-B's optimum from the start."""
    from scipy import optimize

    import probssl.hybrid as hybrid

    params, A, B, y, w = _saturated_gamma_problem(seed)
    bounds = [(0.0, None)] * 2 + [(None, None)] * (params.size - 2)
    best = -optimize.minimize(
        hybrid._gamma_objective, params, jac=True, method="L-BFGS-B",
        args=(A, B, y, w, 1.0, False), bounds=bounds,
        options={"maxiter": 5000, "gtol": 1e-12, "ftol": 1e-16}).fun
    steps = []

    def counted(*args, **kwargs):
        result = optimize.minimize(*args, **kwargs)
        steps.append(result.nit)
        return result

    monkeypatch.setattr(hybrid, "minimize", counted)
    _, f = HybridClassifier(C=1.0)._gamma_step(params, A, B, y, w, False)
    assert f >= best - 1e-9 * abs(best)
    assert sum(steps) <= most_steps
