import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV, cross_val_score

from probssl import EMNaiveBayes
from probssl.datasets import make_multinomial_mixture
from probssl.model_selection import (
    LabeledKFold,
    LabeledStratifiedKFold,
    select_em_params,
)


@pytest.fixture(scope="module")
def data():
    X, y = make_multinomial_mixture(
        600, 80, 3, doc_length=40, random_state=0
    )
    y_ssl = y.copy()
    rng = np.random.RandomState(0)
    y_ssl[rng.rand(y.size) < 0.9] = -1
    return X, y_ssl, y


@pytest.mark.parametrize("cv", [LabeledKFold(4), LabeledStratifiedKFold(4),
                                LabeledKFold(3, shuffle=True, random_state=1)])
def test_unlabeled_rows_always_train_never_test(data, cv):
    X, y, _ = data
    unlabeled = np.flatnonzero(y == -1)
    seen = []
    for train, test in cv.split(X, y):
        assert np.all(y[test] != -1)
        assert np.isin(unlabeled, train).all()
        assert np.intersect1d(train, test).size == 0
        assert train.size + test.size == y.size
        seen.append(test)
    # Every labeled row is tested exactly once.
    seen = np.sort(np.concatenate(seen))
    np.testing.assert_array_equal(seen, np.flatnonzero(y != -1))


def test_stratified_keeps_class_balance():
    y = np.array([0] * 8 + [1] * 4 + [-1] * 10)
    for _, test in LabeledStratifiedKFold(4).split(None, y):
        assert np.bincount(y[test]).tolist() == [2, 1]


def test_no_unlabeled_row_is_scored(data):
    X, y, _ = data
    scored = []

    def scorer(estimator, X_test, y_test):
        scored.append(np.asarray(y_test))
        return estimator.score(X_test, y_test)

    scores = cross_val_score(EMNaiveBayes(alpha=0.1), X, y,
                             cv=LabeledStratifiedKFold(3), scoring=scorer)
    assert len(scores) == 3 and np.all((0 <= scores) & (scores <= 1))
    assert all(np.all(t != -1) for t in scored)
    assert sum(t.size for t in scored) == np.sum(y != -1)


def test_plain_kfold_would_score_unlabeled_rows(data):
    # The control: scikit-learn's own KFold puts -1 rows in the test folds,
    # which is what the labeled splitters exist to prevent.
    from sklearn.model_selection import KFold

    _, y, _ = data
    assert any(np.any(y[test] == -1) for _, test in KFold(3).split(y))


def test_grid_search_and_select_em_params(data):
    X, y, y_true = data
    search = GridSearchCV(EMNaiveBayes(alpha=0.1),
                          {"unlabeled_weight": [0.0, 1.0]},
                          cv=LabeledKFold(3))
    search.fit(X, y)
    assert search.best_params_["unlabeled_weight"] in (0.0, 1.0)

    best = select_em_params(X, y, unlabeled_weight=(0.0, 0.1, 1.0),
                            n_components_per_class=(1, 2), cv=3,
                            random_state=0)
    assert set(best.best_params_) == {"unlabeled_weight",
                                      "n_components_per_class"}
    assert len(best.cv_results_["params"]) == 6
    # The refitted model uses all rows and the chosen parameters.
    assert (best.best_estimator_.unlabeled_weight
            == best.best_params_["unlabeled_weight"])
    assert best.best_score_ == max(best.cv_results_["mean_test_score"])


def test_select_em_params_prefers_em_when_unlabeled_rows_help():
    # Overlapping classes, 4% labeled: supervised NB scores ~0.73 in
    # cross-validation, EM ~0.91; the search must see it.
    X, y = make_multinomial_mixture(1000, 300, 4, doc_length=10,
                                    concentration=1.0, random_state=0)
    y_ssl = y.copy()
    y_ssl[np.random.RandomState(0).rand(y.size) < 0.96] = -1
    best = select_em_params(X, y_ssl, unlabeled_weight=(0.0, 1.0), cv=3,
                            random_state=0)
    scores = best.cv_results_["mean_test_score"]
    assert best.best_params_["unlabeled_weight"] == 1.0
    assert scores[1] > scores[0] + 0.1
    assert best.best_estimator_.score(X, y) > 0.9


def test_select_em_params_leave_one_out():
    X, y = make_multinomial_mixture(200, 40, 2, doc_length=30, random_state=1)
    y[12:] = -1
    search = select_em_params(X, y, unlabeled_weight=(0.0, 1.0), cv="loo")
    assert search.n_splits_ == 12


def test_errors(data):
    X, y, _ = data
    with pytest.raises(ValueError, match="needs y"):
        next(LabeledKFold(2).split(X))
    with pytest.raises(ValueError, match="labeled rows"):
        next(LabeledKFold(5).split(X, np.array([0, 1, -1, -1])))
    with pytest.raises(ValueError, match="cv must be"):
        select_em_params(X, y, cv="bogus")
