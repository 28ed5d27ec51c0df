"""One convergence rule for every loop (probssl._em.has_converged), its
warnings pointing at the caller's fit line, and verbose output through the
"probssl" logger."""

import logging
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.naive_bayes import MultinomialNB

from probssl import CoEM, EMNaiveBayes, HybridClassifier, MixtureOfExperts
from probssl._em import has_converged
from probssl._events import MultinomialEvents
from probssl.datasets import make_multinomial_mixture


def corpus(seed=0, n=300, n_features=60):
    X, y = make_multinomial_mixture(n_samples=n, n_features=n_features,
                                    n_classes=3, doc_length=30,
                                    random_state=seed)
    y_semi = np.where(np.random.RandomState(seed).rand(n) < 0.1, y, -1)
    y_semi[:3] = [0, 1, 2]
    return X, y_semi


# -- the rule -----------------------------------------------------------------
def test_rule_on_an_objective():
    assert not has_converged([-100.0], 1e-2)
    assert has_converged([-100.0, -99.999], 1e-4)
    assert not has_converged([-100.0, -99.0], 1e-4)
    # tol=0: never, even when nothing moves.
    assert not has_converged([-100.0, -100.0], 0.0)
    # Within rounding a fall is no change.
    assert has_converged([-100.0, -100.0 - 1e-12], 1e-6)
    with pytest.warns(RuntimeWarning, match=r"decreased by 0\.5 "):
        assert not has_converged([-100.0, -100.5], 1e-2, owner="X")


def test_rule_on_a_change():
    assert has_converged([0.3, 1e-5], 1e-4, kind="change")
    assert not has_converged([0.3, 1e-3], 1e-4, kind="change")
    assert not has_converged([0.0], 0.0, kind="change")
    assert not has_converged([1.0, 0.0], 1e-4, kind="change",
                             comparable=False)


# -- tol=0 runs max_iter ------------------------------------------------------
def test_tol_zero_runs_exactly_max_iter_everywhere():
    """EM stopped once the (signed) gain reached <= 0: with tol=0 a run
    that had settled (gain 0) stopped after 3 iterations."""
    X, y = corpus()
    fits = [EMNaiveBayes(tol=0, max_iter=40),
            MixtureOfExperts(tol=0, max_iter=40),
            HybridClassifier(tol=0, max_iter=25)]
    for est in fits:
        with pytest.warns(ConvergenceWarning, match="did not converge"):
            est.fit(X, y)
        assert est.n_iter_ == est.max_iter and not est.converged_
    em = fits[0]
    # It had settled long before: the rule, not the data, kept it going.
    assert len(em.lower_bounds_) == 40
    assert em.lower_bounds_[-1] - em.lower_bounds_[-5] <= 1e-9 * abs(
        em.lower_bounds_[-1])
    with pytest.warns(ConvergenceWarning):
        co = CoEM(MultinomialNB(), views="random", random_state=0,
                  tol=0, max_iter=6).fit(X.toarray(), y)
    assert co.n_iter_ == 6 and not co.converged_


def test_a_decreasing_objective_is_never_converged(monkeypatch):
    """A bug that lowers the objective must not look like convergence:
    EM warns with by how much and goes on to max_iter."""
    X, y = corpus(seed=1)
    calls = []

    def falling(self):
        calls.append(1)
        return -1e6 * len(calls)  # far lower at every M-step

    monkeypatch.setattr(MultinomialEvents, "log_prior", falling)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        clf = EMNaiveBayes(tol=1e-2, max_iter=6).fit(X, y)
    assert clf.n_iter_ == 6 and not clf.converged_
    falls = [w for w in caught if issubclass(w.category, RuntimeWarning)]
    assert len(falls) == 5
    assert "EMNaiveBayes: the objective decreased by" in str(falls[0].message)
    assert all(w.filename == __file__ for w in falls)


# -- warnings point at the caller ---------------------------------------------
@pytest.mark.parametrize("make", [
    lambda: EMNaiveBayes(max_iter=1),
    lambda: MixtureOfExperts(max_iter=1),
    lambda: HybridClassifier(max_iter=1, tol=0),
])
def test_convergence_warning_points_at_the_fit_line(make):
    X, y = corpus(seed=2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        make().fit(X, y)
    ours = [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    assert ours and all(w.filename == __file__ for w in ours), [
        (w.filename, w.lineno) for w in ours]


def test_co_em_warning_points_at_the_fit_line():
    X, y = corpus(seed=3)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        CoEM(MultinomialNB(), views="random", random_state=0, tol=0,
             max_iter=2).fit(X.toarray(), y)
    ours = [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    assert ours and ours[0].filename == __file__


# -- verbose through logging --------------------------------------------------
def test_verbose_goes_through_the_probssl_logger(caplog, capsys):
    X, y = corpus(seed=4)
    with caplog.at_level(logging.INFO, logger="probssl"):
        clf = EMNaiveBayes(verbose=1).fit(X, y)
    records = [r for r in caplog.records if r.name == "probssl"]
    assert len(records) == clf.n_iter_
    assert all(r.levelno == logging.INFO for r in records)
    first = records[0].getMessage()
    assert first.startswith("EMNaiveBayes iteration   1: objective")
    assert "nan" not in first and "change" not in first
    assert "(change +" in records[1].getMessage()
    # Printed by default, one format: "probssl: <message>".
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "probssl: " + first
    # Silent without verbose.
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="probssl"):
        EMNaiveBayes().fit(X, y)
    assert not [r for r in caplog.records if r.name == "probssl"]
