import warnings

import numpy as np
import pytest
from sklearn.model_selection import (GridSearchCV, KFold, StratifiedKFold,
                                     cross_val_score, cross_validate)
from sklearn.naive_bayes import MultinomialNB

from probssl import EMNaiveBayes, HybridClassifier
from probssl.active import ActiveLearner
from probssl.datasets import make_multinomial_mixture
from probssl.model_selection import (
    LabeledKFold,
    LabeledStratifiedKFold,
    labeled_scorer,
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


# -- scoring that respects -1 ---------------------------------------------------
def test_labeled_scorer_scores_labeled_rows_only(data):
    X, y, y_true = data
    clf = EMNaiveBayes().fit(X, y)
    mixed = np.where(np.arange(y.size) % 2 == 0, y_true, -1)
    labeled = mixed != -1
    # A plain scikit-learn scorer counts every -1 row as an error ...
    plain = __import__("sklearn.metrics", fromlist=["get_scorer"]).get_scorer(
        "accuracy")(clf, X, mixed)
    assert plain < 0.6
    # ... the wrapped one scores the labeled rows, as the estimator's score.
    ours = labeled_scorer("accuracy")(clf, X, mixed)
    assert ours == pytest.approx(clf.score(X[labeled], y_true[labeled]))
    assert ours == pytest.approx(clf.score(X, mixed))
    f1 = labeled_scorer("f1_macro")(clf, X, mixed)
    assert 0.8 < f1 <= 1.0
    w = np.linspace(0.5, 2.0, y.size)
    weighted = labeled_scorer("accuracy")(clf, X, mixed, sample_weight=w)
    assert weighted == pytest.approx(clf.score(X, mixed, sample_weight=w))
    assert labeled_scorer(labeled_scorer("accuracy")) is not None
    with pytest.raises(ValueError, match="all unlabeled"):
        labeled_scorer("accuracy")(clf, X, np.full(y.size, -1))


def test_grid_search_recipe_against_the_trap(data):
    """scikit-learn's defaults over -1 rows: stratified folds take -1 as a
    class and "accuracy" counts every unlabeled test row as an error; the
    recipe (labeled folds, labeled_scorer) scores as the estimator does."""
    X, y, _ = data
    grid = {"alpha": [0.1, 0.01]}
    trap = GridSearchCV(EMNaiveBayes(), grid, cv=StratifiedKFold(3),
                        scoring="accuracy").fit(X, y)
    recipe = GridSearchCV(EMNaiveBayes(), grid, cv=LabeledStratifiedKFold(3),
                          scoring=labeled_scorer("accuracy")).fit(X, y)
    assert trap.best_score_ < 0.2
    assert recipe.best_score_ > 0.8
    result = cross_validate(HybridClassifier(), X, y, cv=LabeledKFold(3),
                            scoring={"acc": labeled_scorer("accuracy"),
                                     "f1": labeled_scorer("f1_macro")})
    assert result["test_acc"].min() > 0.7


def test_select_em_params_wraps_a_scorer_and_searches_alpha(data):
    X, y, _ = data
    own = select_em_params(X, y, unlabeled_weight=(0.0, 1.0), cv=3,
                           random_state=0)
    acc = select_em_params(X, y, unlabeled_weight=(0.0, 1.0), cv=3,
                           random_state=0, scoring="accuracy")
    assert acc.best_score_ == pytest.approx(own.best_score_)
    search = select_em_params(X, y, unlabeled_weight=(1.0,),
                              alpha=(1.0, 0.01), cv=3, random_state=0)
    assert set(search.best_params_) == {"alpha", "unlabeled_weight",
                                        "n_components_per_class"}


def test_select_em_params_warns_when_folds_test_unlabeled_rows(data):
    X, y, _ = data
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        select_em_params(X, y, unlabeled_weight=(1.0,), cv=KFold(3),
                         scoring="accuracy")
    ours = [w for w in caught if "unlabeled row(s)" in str(w.message)]
    assert len(ours) == 1 and "LabeledKFold" in str(ours[0].message)
    assert ours[0].filename == __file__  # points at the call above
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        select_em_params(X, y, unlabeled_weight=(1.0,), cv=LabeledKFold(3))


def test_select_em_params_readme_example_is_sensible(newsgroups_archive):
    """The README's example inherited alpha=1: a best CV score of 0.17 on
    20 Newsgroups with 5 labels a class. (On smooth synthetic word
    distributions alpha=1 wins instead: the default is chosen for text.)"""
    from sklearn.feature_extraction.text import CountVectorizer

    from probssl.datasets import load_20newsgroups
    from probssl.datasets import labeled_unlabeled_split as split_indices

    train = load_20newsgroups("train", archive=newsgroups_archive)
    X = CountVectorizer(stop_words="english", min_df=2).fit_transform(
        train.data)
    lab, unl = split_indices(train.target, 100, 2000, 0)
    X = X[np.concatenate([lab, unl])]
    y = np.concatenate([train.target[lab], np.full(unl.size, -1)])
    kwargs = dict(unlabeled_weight=(0.0, 1.0), cv=5, random_state=0)
    old = select_em_params(X, y, estimator=EMNaiveBayes(alpha=1.0), **kwargs)
    new = select_em_params(X, y, **kwargs)
    assert old.best_score_ < 0.25
    assert new.best_score_ > 0.35


def test_active_learner_score_ignores_unlabeled_rows(data):
    X, y, y_true = data
    learner = ActiveLearner(MultinomialNB(alpha=0.5)).fit(X, y)
    mixed = np.where(np.arange(y.size) % 3 == 0, y_true, -1)
    rows = mixed != -1
    expected = learner.estimator_.score(X[rows], y_true[rows])
    assert learner.score(X, mixed) == pytest.approx(expected)
    with pytest.raises(ValueError, match="labeled row"):
        learner.score(X, np.full(y.size, -1))
