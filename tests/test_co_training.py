"""Tests of CoTraining (Blum & Mitchell 1998) and CoEM (Nigam & Ghani 2000)."""

import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.naive_bayes import GaussianNB, MultinomialNB
from sklearn.svm import SVC

from _helpers import one_blas_thread  # noqa: F401 (fixture)
from probssl import EMNaiveBayes
from probssl.co_training import VIEW_WEIGHT_GRID, CoEM, CoTraining, MultiView

N_TRAIN = 800


# -- synthetic data: two views, conditionally independent given the class ----
def make_two_view_counts(seed, n=1200, n_words=40, length=6, prior=(0.25, 0.75)):
    """Each view: a separate multinomial per class, drawn independently of
    the other view given the class (sparse counts)."""
    rng = np.random.RandomState(seed)
    y = rng.choice(2, size=n, p=prior)
    views = []
    for _ in range(2):
        theta = rng.dirichlet(np.ones(n_words), size=2) + 1e-3
        theta /= theta.sum(axis=1, keepdims=True)
        views.append(sp.csr_matrix(np.vstack([rng.multinomial(length, theta[c]) for c in y])))
    return views, y


def mask(y, n_per_class, seed):
    """Keep n_per_class[c] labels of class c, the rest -1."""
    rng = np.random.RandomState(seed)
    out = np.full(y.shape[0], -1)
    for c, k in enumerate(n_per_class):
        idx = rng.choice(np.flatnonzero(y == c), k, replace=False)
        out[idx] = c
    return out


@pytest.fixture(scope="module")
def counts_data():
    (A, B), y = make_two_view_counts(0)
    y_lab = mask(y[:N_TRAIN], (1, 3), seed=0)  # the paper's 1:3 labeled set
    return (A, B), y, y_lab


def supervised_pair(Xs, y_lab, ests=(MultinomialNB(), MultinomialNB())):
    lab = y_lab >= 0
    return [e.fit(X[lab], y_lab[lab]) for e, X in zip(ests, Xs)]


def gaussian_two_views(seed=0, n=300, d=3):
    rng = np.random.RandomState(seed)
    y = np.repeat([0, 1], n // 2)
    X = rng.normal(size=(n, 2 * d)) + 1.5 * y[:, None]
    return X, y


# -- co-training ----------------------------------------------------------
def test_cotraining_improves_each_view(counts_data):
    (A, B), y, y_lab = counts_data
    train = (A[:N_TRAIN], B[:N_TRAIN])
    test, y_test = (A[N_TRAIN:], B[N_TRAIN:]), y[N_TRAIN:]
    sup = supervised_pair(train, y_lab)
    clf = CoTraining(random_state=0).fit(train, y_lab)
    for v in range(2):
        before = sup[v].score(test[v], y_test)
        after = clf.estimators_[v].score(test[v], y_test)
        assert after > before + 0.05, (v, before, after)
    assert clf.score(test, y_test) > 0.95
    assert clf.n_iter_ == 30 and clf.termination_condition_ == "max_iter"
    assert isinstance(clf.estimators_[0], MultinomialNB)


def test_labeled_per_round_respects_n_per_class_and_pool(counts_data):
    (A, B), y, y_lab = counts_data
    train = (A[:N_TRAIN], B[:N_TRAIN])
    clf = CoTraining(n_per_class=2, pool_size=20, max_iter=8, random_state=1)
    clf.fit(train, y_lab)
    # 1:3 labeled prior -> k = (2, 6) per view per round.
    assert_array_equal(clf.n_per_class_, [2, 6])
    assert_array_equal(clf.labeled_iter_[y_lab >= 0], 0)
    assert_array_equal(clf.labeled_by_view_[y_lab >= 0], -1)
    labels = clf.transduction_
    assert len(clf.pools_) == clf.n_iter_ == 8
    for r in range(1, clf.n_iter_ + 1):
        rows = np.flatnonzero(clf.labeled_iter_ == r)
        assert np.isin(rows, clf.pools_[r - 1]).all()
        assert len(clf.pools_[r - 1]) == 20
        for v in range(2):
            mine = rows[clf.labeled_by_view_[rows] == v]
            counts = np.bincount(labels[mine], minlength=2)
            assert (counts <= clf.n_per_class_).all()
        assert 0 < rows.size <= 2 * clf.n_per_class_.sum()
    # Never labeled: -1 in labeled_iter_ and transduction_.
    never = clf.labeled_iter_ == -1
    assert never.any()
    assert_array_equal(labels[never], -1)
    assert_array_equal(labels[y_lab >= 0], y_lab[y_lab >= 0])


def test_threshold_limits_labels(counts_data):
    (A, B), _, y_lab = counts_data
    train = (A[:N_TRAIN], B[:N_TRAIN])
    clf = CoTraining(threshold=1.0, random_state=0).fit(train, y_lab)
    assert clf.termination_condition_ == "no_change"
    assert clf.n_iter_ == 1 and (clf.labeled_iter_ > 0).sum() == 0


def test_all_labeled_termination():
    X, y = gaussian_two_views(n=40)
    y_lab = y.copy()
    y_lab[[1, 2, 30, 31]] = -1
    clf = CoTraining(views="random", random_state=0).fit(X, y_lab)
    assert clf.termination_condition_ == "all_labeled"
    assert (clf.labeled_iter_ >= 0).all()
    assert clf.n_iter_ == 1


def test_max_iter_zero_is_supervised_product(counts_data):
    (A, B), _, y_lab = counts_data
    train = (A[:N_TRAIN], B[:N_TRAIN])
    clf = CoTraining(max_iter=0).fit(train, y_lab)
    h1, h2 = supervised_pair(train, y_lab)
    p = h1.predict_proba(train[0]) * h2.predict_proba(train[1])
    p /= p.sum(axis=1, keepdims=True)
    assert_allclose(clf.predict_proba(train), p, rtol=1e-10, atol=1e-12)
    assert clf.n_iter_ == 0


def test_sparse_and_dense_views_pair():
    (A, _), y = make_two_view_counts(3, n=400)
    rng = np.random.RandomState(0)
    dense = rng.normal(size=(400, 3)) + y[:, None]
    y_lab = mask(y, (4, 4), seed=0)
    for X in [(A, dense), [A, dense], MultiView(A, dense)]:
        clf = CoTraining(max_iter=5, random_state=0).fit(X, y_lab)
        assert isinstance(clf.estimators_[0], MultinomialNB)
        assert isinstance(clf.estimators_[1], LogisticRegression)
        assert clf.predict(X).shape == (400,)
        assert clf.score(X, y) > 0.7
    # A MultiView works with scikit-learn's splitters.
    scores = cross_val_score(
        CoTraining(max_iter=3, random_state=0), MultiView(A, dense), y_lab, cv=3
    )
    assert scores.shape == (3,)


def test_views_by_columns_and_random():
    X, y = gaussian_two_views()
    y_lab = mask(y, (3, 3), seed=1)
    # (GaussianNB, a few rounds: the views are what is tested, and the
    # default LogisticRegression over all rounds took 27 s)
    kw = dict(estimator=GaussianNB(), max_iter=5, random_state=0)
    a = CoTraining(views=([0, 1, 2], [3, 4, 5]), **kw).fit(X, y_lab)
    b = CoTraining(views=(slice(0, 3), slice(3, 6)), **kw).fit(X, y_lab)
    c = CoTraining(**kw).fit((X[:, :3], X[:, 3:]), y_lab)
    assert a.n_iter_ > 1  # rounds ran (rows labeled by each view)
    assert_allclose(a.predict_proba(X), b.predict_proba(X))
    assert_allclose(a.predict_proba(X), c.predict_proba((X[:, :3], X[:, 3:])))
    assert_array_equal(a.transduction_, c.transduction_)
    r = CoTraining(views="random", **kw).fit(X, y_lab)
    cols = np.sort(np.concatenate(r.views_))
    assert_array_equal(cols, np.arange(6))
    assert len(r.views_[0]) == 3
    assert r.score(X, y) > 0.8
    assert r.n_features_in_ == 6


def test_emnaivebayes_as_base_estimator(counts_data):
    (A, B), y, y_lab = counts_data
    train = (A[:N_TRAIN], B[:N_TRAIN])
    clf = CoTraining(EMNaiveBayes(), max_iter=5, random_state=0).fit(train, y_lab)
    assert isinstance(clf.estimators_[1], EMNaiveBayes)
    assert clf.score((A[N_TRAIN:], B[N_TRAIN:]), y[N_TRAIN:]) > 0.8


def test_view_weights_tempering(counts_data):
    (A, B), _, y_lab = counts_data
    train = (A[:N_TRAIN], B[:N_TRAIN])
    plain = CoTraining(max_iter=3, random_state=0).fit(train, y_lab)
    ones = CoTraining(max_iter=3, random_state=0, view_weights=(1, 1)).fit(train, y_lab)
    assert ones.view_weights_ == (1.0, 1.0)
    assert_allclose(plain.predict_proba(train), ones.predict_proba(train))
    w = CoTraining(max_iter=3, random_state=0, view_weights=(0.5, 0.0)).fit(train, y_lab)
    h1 = w.estimators_[0]
    p = np.sqrt(h1.predict_proba(train[0]))
    assert_allclose(w.predict_proba(train), p / p.sum(axis=1, keepdims=True))


def test_view_weights_auto_picks_from_grid():
    X, y = gaussian_two_views(n=200)
    y_lab = mask(y, (6, 6), seed=0)
    clf = CoTraining(views="random", view_weights="auto", max_iter=3, random_state=0)
    clf.fit(X, y_lab)
    a, b = clf.view_weights_
    assert a in VIEW_WEIGHT_GRID and b in VIEW_WEIGHT_GRID
    assert np.isfinite(clf.view_weights_cv_score_)
    # Too few labels per class for CV: falls back to (1, 1) with a warning.
    with pytest.warns(UserWarning, match="at least 2 labeled rows"):
        clf.fit(X, mask(y, (1, 3), seed=0))
    assert clf.view_weights_ == (1.0, 1.0)


def test_pickle_and_determinism(counts_data):
    (A, B), _, y_lab = counts_data
    train = (A[:N_TRAIN], B[:N_TRAIN])
    a = CoTraining(max_iter=5, random_state=3).fit(train, y_lab)
    b = CoTraining(max_iter=5, random_state=3).fit(train, y_lab)
    assert_array_equal(a.labeled_iter_, b.labeled_iter_)
    assert_allclose(a.predict_proba(train), b.predict_proba(train))
    c = pickle.loads(pickle.dumps(a))
    assert_allclose(a.predict_proba(train), c.predict_proba(train))


def test_string_labels():
    X, y = gaussian_two_views(n=60)
    names = np.array(["neg", "pos"], dtype=object)[y]
    y_lab = names.copy()
    y_lab[np.arange(60) % 5 != 0] = -1
    clf = CoTraining(views="random", max_iter=3, random_state=0).fit(X, y_lab)
    assert set(clf.predict(X)) <= {"neg", "pos"}
    assert set(clf.transduction_) <= {"neg", "pos", -1}


@pytest.mark.parametrize("Est", [CoTraining, CoEM])
def test_bad_input(Est):
    X, y = gaussian_two_views(n=40)
    with pytest.raises(ValueError, match="pair"):
        Est(views=([0], [1], [2])).fit(X, y)
    with pytest.raises(ValueError, match="same number of rows"):
        Est().fit((X[:, :3], X[:-1, 3:]), y)
    with pytest.raises(ValueError, match="no labeled rows"):
        Est(views="random").fit(X, np.full(40, -1))
    with pytest.raises(ValueError, match="views must say"):
        Est().fit(X, y)
    with pytest.raises(ValueError, match="leave views=None"):
        Est(views="random").fit((X[:, :3], X[:, 3:]), y)
    with pytest.raises((TypeError, ValueError), match="predict_proba"):
        Est(SVC(), views="random").fit(X, y)
    with pytest.raises(ValueError, match="view_weights"):
        Est(views="random", view_weights=(1, 2, 3)).fit(X, y)
    fitted = Est(views="random", max_iter=1).fit(X, y)
    with pytest.raises(ValueError, match="pair"):
        fitted.predict((X[:, :3], X[:, 3:]))


def test_coem_needs_sample_weight():
    class NoWeights(GaussianNB):
        def fit(self, X, y):
            return super().fit(X, y)

    X, y = gaussian_two_views(n=40)
    with pytest.raises(TypeError, match="sample_weight"):
        CoEM(NoWeights(), views="random").fit(X, y)


# -- co-EM ----------------------------------------------------------------
def test_coem_improves_and_converges(counts_data):
    (A, B), y, y_lab = counts_data
    train = (A[:N_TRAIN], B[:N_TRAIN])
    test, y_test = (A[N_TRAIN:], B[N_TRAIN:]), y[N_TRAIN:]
    sup = supervised_pair(train, y_lab)
    clf = CoEM(max_iter=200, tol=1e-3).fit(train, y_lab)
    assert clf.converged_ and clf.n_iter_ < 200
    assert clf.label_changes_[-1] < 1e-3 < clf.label_changes_[0]
    for v in range(2):
        before = sup[v].score(test[v], y_test)
        after = clf.estimators_[v].score(test[v], y_test)
        assert after > before + 0.05, (v, before, after)
    assert clf.score(test, y_test) > 0.95
    assert_array_equal(clf.transduction_[y_lab >= 0], y_lab[y_lab >= 0])
    assert (clf.transduction_ >= 0).all()


def test_coem_dense_gaussian_nb():
    X, y = gaussian_two_views(n=200)
    y_lab = mask(y, (1, 1), seed=0)
    clf = CoEM(GaussianNB(), views=(slice(0, 3), slice(3, 6)), random_state=0)
    assert clf.fit(X, y_lab).score(X, y) > 0.9


