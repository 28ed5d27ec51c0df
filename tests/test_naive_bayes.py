"""Tests of probssl.EMNaiveBayes (semi-supervised naive Bayes by EM),
mostly with its multinomial event model.

All data are small synthetic corpora drawn here from known mixtures of
multinomials, so that the tests are fast and their expectations are known.
"""

import pickle
import warnings

import numba
import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import logsumexp
from sklearn.exceptions import ConvergenceWarning
from sklearn.naive_bayes import MultinomialNB

from _helpers import assert_same_fit, fit_quiet, make_theta, sample_docs

from probssl import EMNaiveBayes

ATOL = 1e-10


# -- synthetic corpora --------------------------------------------------------
def make_corpus(
    seed=0,
    n_classes=3,
    n_features=40,
    n_labeled_per_class=10,
    n_unlabeled=0,
    mean_length=15,
    concentration=0.5,
):
    """Labeled rows first (n_labeled_per_class of each class), then unlabeled
    rows (y == -1). Returns X (CSR), y, the true classes of all rows, theta."""
    rng = np.random.default_rng(seed)
    theta = make_theta(rng, n_classes, n_features, concentration)
    y_lab = np.repeat(np.arange(n_classes), n_labeled_per_class)
    y_unl = rng.integers(n_classes, size=n_unlabeled)
    y_true = np.concatenate([y_lab, y_unl])
    X = sample_docs(rng, theta, y_true, mean_length)
    y = np.concatenate([y_lab, np.full(n_unlabeled, -1)])
    return X, y, y_true, theta


def onehot(index, n_classes):
    R = np.zeros((index.shape[0], n_classes))
    R[np.arange(index.shape[0]), index] = 1.0
    return R


def map_feature_log_prob(X, R, alpha):
    """The multinomial MAP M-step, in plain numpy, from responsibilities R."""
    X = X.toarray() if sp.issparse(X) else np.asarray(X)
    counts = R.T @ X
    return np.log(alpha + counts) - np.log(
        alpha * X.shape[1] + counts.sum(axis=1, keepdims=True)
    )


FITTED = [
    "classes_", "class_log_prior_", "feature_log_prob_",
    "component_log_prior_", "component_feature_log_prob_", "transduction_",
    "n_iter_", "converged_", "lower_bound_", "lower_bounds_",
]


# -- 1. equality with MultinomialNB when every row is labeled -----------------
def _assert_matches_multinomialnb(ours, ref, X_test):
    assert_array_equal(ours.classes_, ref.classes_)
    assert_allclose(
        ours.feature_log_prob_, ref.feature_log_prob_, rtol=0, atol=ATOL
    )
    assert_allclose(
        ours.class_log_prior_, ref.class_log_prior_, rtol=0, atol=ATOL
    )
    assert_array_equal(ours.predict(X_test), ref.predict(X_test))
    assert_allclose(
        ours.predict_proba(X_test), ref.predict_proba(X_test), rtol=0, atol=ATOL
    )
    assert_allclose(
        ours.predict_log_proba(X_test),
        ref.predict_log_proba(X_test),
        rtol=0,
        atol=ATOL,
    )
    assert_allclose(
        ours.predict_joint_log_proba(X_test),
        ref.predict_joint_log_proba(X_test),
        rtol=0,
        atol=1e-8,
    )


@pytest.mark.parametrize("alpha", [1.0, 0.01])
@pytest.mark.parametrize("dense", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
def test_equals_multinomialnb_without_unlabeled(alpha, dense, weighted):
    # Unequal class sizes, so the class prior matters.
    X, y, _, theta = make_corpus(seed=1, n_classes=3, n_labeled_per_class=12)
    keep = np.r_[0:12, 12:20, 24:36]
    X, y = X[keep], y[keep]
    rng = np.random.default_rng(2)
    X_test = sample_docs(rng, theta, rng.integers(3, size=50))
    if dense:
        X, X_test = X.toarray(), X_test.toarray()
    sw = rng.uniform(0.1, 3.0, size=X.shape[0]) if weighted else None

    ours = EMNaiveBayes(alpha=alpha).fit(X, y, sample_weight=sw)
    ref = MultinomialNB(alpha=alpha).fit(X, y, sample_weight=sw)
    _assert_matches_multinomialnb(ours, ref, X_test)
    assert_array_equal(ours.transduction_, y)
    assert ours.converged_


def test_equals_multinomialnb_string_labels():
    X, y, _, theta = make_corpus(seed=3, n_classes=2, n_labeled_per_class=15)
    names = np.array(["spam", "ham"])
    y_str = names[y]
    rng = np.random.default_rng(4)
    X_test = sample_docs(rng, theta, rng.integers(2, size=40))

    ours = EMNaiveBayes().fit(X, y_str)
    ref = MultinomialNB(alpha=0.01).fit(X, y_str)
    _assert_matches_multinomialnb(ours, ref, X_test)
    assert_array_equal(ours.classes_, ["ham", "spam"])
    assert ours.predict(X_test).dtype.kind == "U"
    assert ours.score(X, y_str) == pytest.approx(ref.score(X, y_str))


def test_string_labels_with_unlabeled_rows():
    X, y, _, _ = make_corpus(seed=3, n_classes=2, n_unlabeled=30)
    names = np.array(["spam", "ham"])
    y_obj = np.array([names[v] if v >= 0 else -1 for v in y], dtype=object)
    ours = EMNaiveBayes().fit(X, y_obj)
    ref = EMNaiveBayes().fit(X, y)
    # Same fit as with integer labels (classes sorted: "ham" < "spam", and
    # 0 -> "spam", 1 -> "ham", so the class order is reversed).
    assert_array_equal(ours.classes_, ["ham", "spam"])
    assert_allclose(
        ours.feature_log_prob_, ref.feature_log_prob_[::-1], rtol=0, atol=ATOL
    )
    assert_array_equal(ours.transduction_, names[ref.transduction_])
    assert ours.score(X, y_obj) == pytest.approx(ref.score(X, y))


@pytest.mark.parametrize("prior_smoothing", [0.5, 1.0])
def test_prior_smoothing_is_laplace_on_class_counts(prior_smoothing):
    X, y, _, theta = make_corpus(seed=10, n_classes=3, n_labeled_per_class=6)
    keep = np.r_[0:6, 6:8, 12:17]  # class sizes 6, 2, 5
    X, y = X[keep], y[keep]
    clf = EMNaiveBayes(prior_smoothing=prior_smoothing).fit(X, y)
    ref = MultinomialNB(alpha=0.01).fit(X, y)
    counts = np.array([6.0, 2.0, 5.0])
    expected = np.log(
        (counts + prior_smoothing) / (counts.sum() + 3 * prior_smoothing)
    )
    assert_allclose(clf.class_log_prior_, expected, rtol=0, atol=ATOL)
    assert_allclose(
        clf.feature_log_prob_, ref.feature_log_prob_, rtol=0, atol=ATOL
    )
    # Same model as MultinomialNB given the smoothed prior.
    ref_prior = MultinomialNB(alpha=0.01, class_prior=np.exp(expected)).fit(X, y)
    X_test = sample_docs(np.random.default_rng(0), theta, np.arange(3))
    assert_allclose(
        clf.predict_proba(X_test), ref_prior.predict_proba(X_test),
        rtol=0, atol=ATOL,
    )


def test_zero_weight_class_matches_multinomialnb():
    X, y, _, _ = make_corpus(seed=33, n_classes=3, n_labeled_per_class=5)
    sw = np.where(y == 2, 0.0, 1.0)
    ours = EMNaiveBayes().fit(X, y, sample_weight=sw)
    ref = MultinomialNB(alpha=0.01).fit(X, y, sample_weight=sw)
    assert ours.class_log_prior_[2] == -np.inf
    _assert_matches_multinomialnb(ours, ref, X)


def test_non_canonical_sparse_input():
    X, y, _, _ = make_corpus(
        seed=34, n_classes=3, n_labeled_per_class=3, n_unlabeled=60
    )
    coo = X.tocoo()
    # Every count split in two duplicate entries, columns unsorted within
    # rows, one explicit zero, int64 indices.
    rows = np.r_[coo.row, coo.row, 0]
    cols = np.r_[coo.col, coo.col, X.shape[1] - 1]
    vals = np.r_[coo.data / 2, coo.data / 2, 0.0]
    order = np.lexsort((np.random.default_rng(0).random(rows.size), rows))
    indptr = np.r_[0, np.cumsum(np.bincount(rows, minlength=X.shape[0]))]
    Xn = sp.csr_matrix(
        (vals[order], cols[order].astype(np.int64), indptr), shape=X.shape
    )
    assert not Xn.has_canonical_format
    ref = EMNaiveBayes().fit(X, y)
    ours = EMNaiveBayes().fit(Xn, y)
    assert_same_fit(ref, ours, FITTED, atol=1e-12)
    assert_allclose(ref.predict_proba(Xn), ref.predict_proba(X), atol=1e-12)
    assert_allclose(
        ref.predict_proba(sp.csr_array(X)), ref.predict_proba(X), atol=1e-12
    )
    # The input was not modified in place.
    assert not Xn.has_canonical_format
    assert Xn.nnz == rows.size


def test_empty_labeled_and_test_rows_match_multinomialnb():
    X, y, _, _ = make_corpus(seed=5, n_classes=3, n_labeled_per_class=8)
    X = X.toarray()
    X[[0, 9, 20]] = 0.0  # empty documents, one per class
    X_test = np.vstack([np.zeros((2, X.shape[1])), X[:5]])
    ours = EMNaiveBayes().fit(sp.csr_matrix(X), y)
    ref = MultinomialNB(alpha=0.01).fit(X, y)
    _assert_matches_multinomialnb(ours, ref, X_test)


# -- 2. unlabeled_weight = 0 is supervised naive Bayes -------------------------
@pytest.mark.parametrize("dense", [False, True])
def test_unlabeled_weight_zero_is_supervised(dense):
    X, y, _, theta = make_corpus(
        seed=6, n_classes=3, n_labeled_per_class=4, n_unlabeled=400
    )
    rng = np.random.default_rng(7)
    X_test = sample_docs(rng, theta, rng.integers(3, size=60))
    if dense:
        X, X_test = X.toarray(), X_test.toarray()
    labeled = y >= 0

    ours = EMNaiveBayes(unlabeled_weight=0.0).fit(X, y)
    ref = MultinomialNB(alpha=0.01).fit(X[labeled], y[labeled])
    _assert_matches_multinomialnb(ours, ref, X_test)
    # ... while unlabeled_weight=1 does use the unlabeled rows.
    em = EMNaiveBayes().fit(X, y)
    assert np.abs(em.feature_log_prob_ - ref.feature_log_prob_).max() > 0.1
    # transduction_ still predicts the weightless unlabeled rows.
    assert_array_equal(ours.transduction_[labeled], y[labeled])
    assert_array_equal(
        ours.transduction_[~labeled], ref.predict(X[~labeled])
    )


# -- 3. the MAP objective -----------------------------------------------------
@pytest.mark.parametrize(
    "params",
    [
        {},
        {"unlabeled_weight": 0.3},
        {"n_components_per_class": 3, "random_state": 0},
        {"prior_smoothing": 1.0},
        {"alpha": 0.05, "prior_smoothing": 0.5, "n_components_per_class": 2,
         "random_state": 1, "unlabeled_weight": 2.0},
    ],
)
def test_objective_never_decreases(params):
    X, y, _, _ = make_corpus(
        seed=8, n_classes=3, n_labeled_per_class=2, n_unlabeled=300,
        mean_length=8, concentration=1.0,
    )
    clf = EMNaiveBayes(tol=1e-10, max_iter=300, **params).fit(X, y)
    lb = np.asarray(clf.lower_bounds_)
    assert len(lb) >= 3, "EM should need several iterations here"
    assert np.all(np.isfinite(lb))
    assert np.all(np.diff(lb) >= -1e-9 * np.abs(lb[1:]))
    # Something actually moved: the objective rose overall.
    assert lb[-1] > lb[0] + 1e-6 * abs(lb[0])
    assert clf.lower_bound_ == lb[-1]
    assert clf.n_iter_ == len(lb)
    assert clf.converged_


def _map_objective(clf, X, y_index, unlabeled_weight, alpha, prior_smoothing):
    """The documented MAP objective, recomputed from the fitted attributes."""
    X = X.toarray() if sp.issparse(X) else X
    M = clf.n_components_per_class
    log_theta = clf.component_feature_log_prob_
    log_pi = clf.component_log_prior_
    joint = X @ log_theta.T + log_pi  # (n, C*M)
    total = 0.0
    for i in range(X.shape[0]):
        c = y_index[i]
        if c >= 0:
            total += logsumexp(joint[i, c * M:(c + 1) * M])
        else:
            total += unlabeled_weight * logsumexp(joint[i])
    total += alpha * log_theta.sum()
    total += prior_smoothing * log_pi.sum()
    return total


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"unlabeled_weight": 0.3, "alpha": 0.2},
        {"n_components_per_class": 2, "random_state": 0, "prior_smoothing": 1.0},
    ],
)
def test_lower_bound_is_the_map_objective(params):
    X, y, _, _ = make_corpus(
        seed=9, n_classes=3, n_labeled_per_class=3, n_unlabeled=100
    )
    clf = EMNaiveBayes(**params).fit(X, y)
    expected = _map_objective(
        clf,
        X,
        y,
        params.get("unlabeled_weight", 1.0),
        params.get("alpha", 0.01),
        params.get("prior_smoothing", 0.0),
    )
    assert clf.lower_bound_ == pytest.approx(expected, rel=1e-10)


# -- 4. parameter recovery from unlabeled data --------------------------------
def test_unlabeled_rows_recover_parameters():
    n_classes, n_features = 4, 300
    rng = np.random.default_rng(0)
    theta = make_theta(rng, n_classes, n_features, concentration=0.5)
    y_lab = np.repeat(np.arange(n_classes), 2)  # 2 labeled rows per class
    X_lab = sample_docs(rng, theta, y_lab, mean_length=10)
    X_unl = sample_docs(
        rng, theta, rng.integers(n_classes, size=5000), mean_length=10
    )
    y_test = rng.integers(n_classes, size=2000)
    X_test = sample_docs(rng, theta, y_test, mean_length=10)

    errors, accuracies = [], []
    for n_unl in [0, 500, 5000]:
        X = sp.vstack([X_lab, X_unl[:n_unl]]).tocsr()
        y = np.concatenate([y_lab, np.full(n_unl, -1)])
        clf = EMNaiveBayes(max_iter=200).fit(X, y)
        assert clf.converged_
        err = np.abs(np.exp(clf.feature_log_prob_) - theta).sum(axis=1).mean()
        errors.append(err)
        accuracies.append(clf.score(X_test, y_test))
    assert errors[0] > errors[1] > errors[2], errors
    assert errors[2] < 0.25 * errors[0], errors
    assert accuracies[1] > accuracies[0] + 0.2, accuracies
    assert accuracies[2] > accuracies[0] + 0.2, accuracies
    assert accuracies[2] > 0.95, accuracies


# -- 5. labeled rows stay clamped to their given label ------------------------
@pytest.mark.parametrize("prior_smoothing", [0.0, 1.0])
def test_labeled_rows_are_clamped_fixed_point(prior_smoothing):
    n_classes, n_features, lam = 3, 50, 0.7
    rng = np.random.default_rng(11)
    theta = make_theta(rng, n_classes, n_features, concentration=0.3)
    y_lab = np.repeat(np.arange(n_classes), 5)
    X_lab = sample_docs(rng, theta, y_lab, mean_length=20).toarray()
    # A long labeled row whose words come from class 1, labeled class 0.
    wrong = rng.multinomial(200, theta[1]).astype(float)
    X_unl = sample_docs(
        rng, theta, rng.integers(n_classes, size=300), mean_length=20
    ).toarray()
    X = np.vstack([X_lab, wrong, X_unl])
    y = np.concatenate([y_lab, [0], np.full(X_unl.shape[0], -1)])
    labeled = y >= 0
    i_wrong = X_lab.shape[0]

    clf = EMNaiveBayes(
        alpha=1.0,
        unlabeled_weight=lam,
        tol=1e-12,
        max_iter=500,
        prior_smoothing=prior_smoothing,
    )
    clf.fit(sp.csr_matrix(X), y)
    assert clf.converged_
    # The model itself thinks the wrong row belongs to class 1 ...
    assert clf.predict(X[[i_wrong]])[0] == 1
    # ... but transduction_ keeps every given label.
    assert_array_equal(clf.transduction_[labeled], y[labeled])

    P_unl = clf.predict_proba(X[~labeled])
    R = np.vstack([onehot(y[labeled], n_classes), lam * P_unl])
    X_ordered = np.vstack([X[labeled], X[~labeled]])
    expected = map_feature_log_prob(X_ordered, R, alpha=1.0)
    assert_allclose(clf.feature_log_prob_, expected, rtol=1e-6)
    prior = (R.sum(axis=0) + prior_smoothing) / (
        R.sum() + n_classes * prior_smoothing
    )
    assert_allclose(clf.class_log_prior_, np.log(prior), rtol=1e-6)

    # Discrimination: had the wrong row been free (its posterior instead of
    # its label), the M-step would give visibly different parameters.
    R_free = R.copy()
    R_free[i_wrong] = clf.predict_proba(X[[i_wrong]])[0]
    free = map_feature_log_prob(X_ordered, R_free, alpha=1.0)
    assert not np.allclose(clf.feature_log_prob_, free, rtol=1e-3, atol=0)
    assert np.abs(free - expected).max() > 0.05


# -- 6. several components per class ------------------------------------------
def test_components_shapes_and_validity():
    X, y, _, _ = make_corpus(
        seed=12, n_classes=3, n_labeled_per_class=5, n_unlabeled=100
    )
    C, V, M = 3, X.shape[1], 3
    clf = EMNaiveBayes(n_components_per_class=M, random_state=0).fit(X, y)
    assert clf.component_feature_log_prob_.shape == (C * M, V)
    assert clf.component_log_prior_.shape == (C * M,)
    assert clf.feature_log_prob_.shape == (C, V)
    assert clf.class_log_prior_.shape == (C,)
    assert_allclose(
        logsumexp(clf.component_feature_log_prob_, axis=1), 0.0, atol=1e-10
    )
    assert_allclose(logsumexp(clf.feature_log_prob_, axis=1), 0.0, atol=1e-10)
    assert_allclose(logsumexp(clf.component_log_prior_), 0.0, atol=1e-10)
    assert_allclose(logsumexp(clf.class_log_prior_), 0.0, atol=1e-10)
    # Class prior is the sum of its components' priors.
    assert_allclose(
        np.exp(clf.class_log_prior_),
        np.exp(clf.component_log_prior_).reshape(C, M).sum(axis=1),
        atol=1e-12,
    )
    # The class word distribution is the prior-weighted mixture of its
    # components' word distributions.
    w = np.exp(clf.component_log_prior_).reshape(C, M)
    w /= w.sum(axis=1, keepdims=True)
    mix = np.einsum(
        "cm,cmv->cv", w, np.exp(clf.component_feature_log_prob_).reshape(C, M, V)
    )
    assert_allclose(np.exp(clf.feature_log_prob_), mix, rtol=1e-10)

    proba = clf.predict_proba(X)
    assert proba.shape == (X.shape[0], C)
    assert_allclose(proba.sum(axis=1), 1.0, atol=1e-12)
    assert_allclose(np.log(proba), clf.predict_log_proba(X), atol=1e-10)
    assert_array_equal(clf.predict(X), clf.classes_[proba.argmax(axis=1)])
    # Posterior from the components, summed within each class.
    comp_joint = X.toarray() @ clf.component_feature_log_prob_.T
    comp_joint += clf.component_log_prior_
    class_joint = logsumexp(comp_joint.reshape(-1, C, M), axis=2)
    assert_allclose(
        clf.predict_joint_log_proba(X), class_joint, rtol=1e-12, atol=1e-9
    )


def _xor_corpus(rng, n_per_cluster, mean_length=30):
    """Two classes, each the union of two clusters, with identical class
    averages: class 0 = {(S1, T1), (S2, T2)}, class 1 = {(S1, T2), (S2, T1)}
    where S1, S2, T1, T2 are disjoint blocks of 10 words."""
    V = 40
    blocks = [np.arange(0, 10), np.arange(10, 20)], [
        np.arange(20, 30),
        np.arange(30, 40),
    ]
    clusters = []
    for s, t in [(0, 0), (1, 1), (0, 1), (1, 0)]:
        th = np.full(V, 1e-3)
        th[blocks[0][s]] = 1.0
        th[blocks[1][t]] = 1.0
        clusters.append(th / th.sum())
    theta = np.array(clusters)
    cluster = np.repeat(np.arange(4), n_per_cluster)
    X = sample_docs(rng, theta, cluster, mean_length)
    return X, cluster // 2


def test_multiple_components_beat_one_on_multimodal_classes():
    rng = np.random.default_rng(13)
    X, y = _xor_corpus(rng, 100)
    X_test, y_test = _xor_corpus(rng, 250)
    one = EMNaiveBayes(n_components_per_class=1).fit(X, y)
    two = EMNaiveBayes(n_components_per_class=2, random_state=0).fit(X, y)
    acc1, acc2 = one.score(X_test, y_test), two.score(X_test, y_test)
    assert acc1 < 0.7, acc1
    assert acc2 > 0.95, acc2
    # The two components of each class found its two clusters: each has
    # about half of the class's mass.
    assert_allclose(np.exp(two.component_log_prior_), 0.25, atol=0.05)


def test_multiple_components_with_unlabeled_rows():
    rng = np.random.default_rng(14)
    X_lab, y_lab = _xor_corpus(rng, 5)
    X_unl, _ = _xor_corpus(rng, 150)
    X_test, y_test = _xor_corpus(rng, 100)
    X = sp.vstack([X_lab, X_unl]).tocsr()
    y = np.concatenate([y_lab, np.full(X_unl.shape[0], -1)])
    two = EMNaiveBayes(n_components_per_class=2, random_state=0).fit(X, y)
    assert two.score(X_test, y_test) > 0.95
    assert_array_equal(two.transduction_[: y_lab.shape[0]], y_lab)


# -- 7. empty documents --------------------------------------------------------
@pytest.mark.parametrize("M", [1, 2])
@pytest.mark.parametrize("dense", [False, True])
def test_empty_documents(M, dense):
    X, y, _, _ = make_corpus(
        seed=15, n_classes=3, n_labeled_per_class=6, n_unlabeled=60
    )
    X = X.toarray()
    X[[0, 7, 25, 40]] = 0.0  # two labeled, two unlabeled empty rows
    Xf = X if dense else sp.csr_matrix(X)
    clf = EMNaiveBayes(n_components_per_class=M, random_state=0).fit(Xf, y)
    assert np.all(np.isfinite(clf.feature_log_prob_))
    assert np.all(np.isfinite(clf.lower_bounds_))
    empty = np.zeros((3, X.shape[1]))
    empty = empty if dense else sp.csr_matrix(empty)
    prior = np.exp(clf.class_log_prior_)
    prior /= prior.sum()
    proba = clf.predict_proba(empty)
    assert_allclose(proba, np.tile(prior, (3, 1)), rtol=0, atol=1e-12)
    assert_array_equal(clf.predict(empty), clf.classes_[np.argmax(prior)])
    assert_array_equal(clf.transduction_[[0, 7]], y[[0, 7]])
    # An empty unlabeled row is transduced to the most probable class.
    assert clf.transduction_[25] == clf.classes_[np.argmax(prior)]


def test_all_empty_unlabeled_rows_leave_words_unchanged():
    # Empty unlabeled rows carry no words: the word distributions are those
    # of supervised naive Bayes, only the class prior moves.
    X, y, _, _ = make_corpus(seed=16, n_classes=2, n_labeled_per_class=5)
    X_all = sp.vstack([X, sp.csr_matrix((20, X.shape[1]))]).tocsr()
    y_all = np.concatenate([y, np.full(20, -1)])
    clf = EMNaiveBayes().fit(X_all, y_all)
    ref = MultinomialNB(alpha=0.01).fit(X, y)
    assert_allclose(
        clf.feature_log_prob_, ref.feature_log_prob_, rtol=0, atol=ATOL
    )


# -- 8. determinism, pickling ---------------------------------------------------
def test_determinism_and_pickle():
    X, y, _, _ = make_corpus(
        seed=17, n_classes=3, n_labeled_per_class=3, n_unlabeled=200
    )
    params = dict(n_components_per_class=3, random_state=42)
    a = EMNaiveBayes(**params).fit(X, y)
    b = EMNaiveBayes(**params).fit(X, y)
    assert_same_fit(a, b, FITTED)
    # Refitting the same object gives the same result too.
    a_again = a.fit(X, y)
    assert a_again is a
    assert_same_fit(a, b, FITTED)

    c = pickle.loads(pickle.dumps(a))
    assert_same_fit(a, c, FITTED)
    assert_array_equal(c.predict_proba(X), a.predict_proba(X))
    assert_array_equal(c.predict(X), a.predict(X))

    # A different seed gives a different (component) start.
    d = EMNaiveBayes(n_components_per_class=3, random_state=7).fit(X, y)
    assert not np.array_equal(
        d.component_feature_log_prob_, a.component_feature_log_prob_
    )


def test_random_state_instance_is_used():
    X, y, _, _ = make_corpus(
        seed=18, n_classes=2, n_labeled_per_class=5, n_unlabeled=50
    )
    a = EMNaiveBayes(
        n_components_per_class=2, random_state=np.random.RandomState(3)
    ).fit(X, y)
    b = EMNaiveBayes(n_components_per_class=2, random_state=3).fit(X, y)
    assert_same_fit(a, b, FITTED)


def test_result_does_not_depend_on_thread_count():
    X, y, _, _ = make_corpus(
        seed=19, n_classes=3, n_labeled_per_class=3, n_unlabeled=300
    )
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        a = EMNaiveBayes(n_components_per_class=2, random_state=0).fit(X, y)
        pa = a.predict_proba(X)
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        b = EMNaiveBayes(n_components_per_class=2, random_state=0).fit(X, y)
        pb = b.predict_proba(X)
    finally:
        numba.set_num_threads(before)
    assert_same_fit(a, b, FITTED, atol=1e-12)
    assert_allclose(pa, pb, rtol=0, atol=1e-12)


# -- weights: unlabeled_weight, sample_weight, sparse vs dense, row order ------
def test_unlabeled_weight_equals_sample_weight_on_unlabeled_rows():
    X, y, _, _ = make_corpus(
        seed=20, n_classes=3, n_labeled_per_class=3, n_unlabeled=150
    )
    lam = 0.4
    a = EMNaiveBayes(unlabeled_weight=lam, tol=1e-10).fit(X, y)
    sw = np.where(y >= 0, 1.0, lam)
    b = EMNaiveBayes(unlabeled_weight=1.0, tol=1e-10).fit(X, y, sample_weight=sw)
    assert_same_fit(a, b, FITTED, atol=1e-9)


def test_integer_sample_weight_equals_repeated_rows():
    X, y, _, _ = make_corpus(
        seed=21, n_classes=3, n_labeled_per_class=3, n_unlabeled=80
    )
    rng = np.random.default_rng(22)
    sw = rng.integers(0, 4, size=X.shape[0])
    sw[:9] = np.maximum(sw[:9], 1)  # keep every class labeled
    rows = np.repeat(np.arange(X.shape[0]), sw)
    a = EMNaiveBayes(tol=1e-10).fit(X, y, sample_weight=sw.astype(float))
    b = EMNaiveBayes(tol=1e-10).fit(X[rows], y[rows])
    for name in ["feature_log_prob_", "class_log_prior_", "lower_bound_"]:
        assert_allclose(
            getattr(a, name), getattr(b, name), rtol=1e-9, err_msg=name
        )
    assert_allclose(a.predict_proba(X), b.predict_proba(X), atol=1e-9)


def test_sparse_dense_and_row_order_agree():
    X, y, _, _ = make_corpus(
        seed=23, n_classes=3, n_labeled_per_class=3, n_unlabeled=200
    )
    a = EMNaiveBayes(tol=1e-10).fit(X, y)
    b = EMNaiveBayes(tol=1e-10).fit(X.toarray(), y)
    assert_same_fit(a, b, FITTED, atol=1e-9)
    # Other sparse formats and integer counts are accepted too.
    c = EMNaiveBayes(tol=1e-10).fit(sp.coo_matrix(X.astype(np.int64)), y)
    assert_same_fit(a, c, FITTED, atol=1e-9)
    perm = np.random.default_rng(24).permutation(X.shape[0])
    d = EMNaiveBayes(tol=1e-10).fit(X[perm], y[perm])
    for name in ["feature_log_prob_", "class_log_prior_", "lower_bound_"]:
        assert_allclose(
            getattr(a, name), getattr(d, name), rtol=1e-9, err_msg=name
        )
    assert_array_equal(d.transduction_, a.transduction_[perm])
    assert_allclose(
        a.predict_proba(X.toarray()), a.predict_proba(X), rtol=0, atol=1e-12
    )


def test_transduction_of_unlabeled_rows_is_prediction():
    X, y, _, _ = make_corpus(
        seed=25, n_classes=3, n_labeled_per_class=3, n_unlabeled=100
    )
    clf = EMNaiveBayes().fit(X, y)
    unl = y < 0
    assert_array_equal(clf.transduction_[~unl], y[~unl])
    assert_array_equal(clf.transduction_[unl], clf.predict(X[unl]))
    assert clf.n_features_in_ == X.shape[1]


# -- 9. bad input: tests/test_common.py (every estimator)


# -- 10. score ignores unlabeled rows -------------------------------------------
def test_score_ignores_unlabeled_rows():
    X, y, y_true, _ = make_corpus(
        seed=27, n_classes=3, n_labeled_per_class=4, n_unlabeled=200,
        mean_length=5,
    )
    clf = EMNaiveBayes().fit(X, y)
    rng = np.random.default_rng(28)
    y_eval = y_true.copy()
    y_eval[rng.random(y_eval.shape[0]) < 0.5] = -1
    keep = y_eval >= 0
    pred = clf.predict(X)
    expected = np.mean(pred[keep] == y_eval[keep])
    assert 0.0 < expected < 1.0  # a test that can tell the difference
    assert clf.score(X, y_eval) == pytest.approx(expected, abs=1e-15)
    assert clf.score(X, y_eval) != pytest.approx(np.mean(pred == y_eval))
    sw = rng.uniform(0.5, 2.0, size=X.shape[0])
    expected_w = np.sum(sw[keep] * (pred[keep] == y_eval[keep])) / sw[keep].sum()
    assert clf.score(X, y_eval, sample_weight=sw) == pytest.approx(expected_w)


# -- 12. convergence -------------------------------------------------------------
def test_max_iter_one_warns_and_is_not_converged():
    X, y, _, _ = make_corpus(
        seed=29, n_classes=3, n_labeled_per_class=3, n_unlabeled=100
    )
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        clf = EMNaiveBayes(max_iter=1).fit(X, y)
    assert not clf.converged_
    assert clf.n_iter_ == 1
    assert len(clf.lower_bounds_) == 1
    # One iteration = supervised naive Bayes on the labeled rows.
    labeled = y >= 0
    ref = MultinomialNB(alpha=0.01).fit(X[labeled], y[labeled])
    assert_allclose(
        clf.feature_log_prob_, ref.feature_log_prob_, rtol=0, atol=ATOL
    )


def test_fully_labeled_converges_in_two_iterations():
    X, y, _, _ = make_corpus(seed=30, n_classes=3, n_labeled_per_class=10)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf = EMNaiveBayes().fit(X, y)
    assert clf.converged_
    assert clf.n_iter_ == 2
    assert clf.lower_bounds_[0] == clf.lower_bounds_[1]


def test_tolerance_controls_iterations():
    X, y, _, _ = make_corpus(
        seed=31, n_classes=3, n_labeled_per_class=2, n_unlabeled=300,
        mean_length=8, concentration=1.0,
    )
    loose = EMNaiveBayes(tol=1e-2).fit(X, y)
    tight = EMNaiveBayes(tol=1e-10, max_iter=500).fit(X, y)
    assert loose.converged_ and tight.converged_
    assert loose.n_iter_ < tight.n_iter_
    assert tight.lower_bound_ >= loose.lower_bound_
    # The stopping rule: the last gain is within tol, earlier ones are not.
    lb = np.asarray(tight.lower_bounds_)
    gains = np.diff(lb)
    assert gains[-1] <= 1e-10 * abs(lb[-1])
    assert np.all(gains[:-1] > 1e-10 * np.abs(lb[1:-1]))


def test_verbose_prints_objective(capsys):
    X, y, _, _ = make_corpus(
        seed=32, n_classes=2, n_labeled_per_class=2, n_unlabeled=20
    )
    clf = EMNaiveBayes(verbose=1).fit(X, y)
    out = capsys.readouterr().out
    assert out.count("iteration") == clf.n_iter_
    assert "objective" in out


@pytest.mark.parametrize("M", [1, 2])
@pytest.mark.parametrize("zero_weight", [False, True])
def test_transduction_is_the_final_models_prediction(M, zero_weight):
    # transduction_ is read off the last E-step's posteriors (or predicted
    # again when weightless rows took no part): either way it must be the
    # final parameters' most probable class of every unlabeled row.
    X, y, _, _ = make_corpus(seed=5, n_classes=3, n_labeled_per_class=4,
                             n_unlabeled=200, mean_length=8)
    w = np.ones(X.shape[0])
    if zero_weight:
        w[-7:] = 0.0
    clf = fit_quiet(EMNaiveBayes(n_components_per_class=M, max_iter=7,
                                 random_state=0), X, y, sample_weight=w)
    unl = y == -1
    assert_array_equal(clf.transduction_[unl], clf.predict(X[unl]))
    assert_array_equal(clf.transduction_[~unl], y[~unl])


def test_auto_tol_is_nigams_stop_for_counts_and_tighter_for_dense():
    X, y, _, _ = make_corpus(seed=3, n_classes=3, n_labeled_per_class=3,
                             n_unlabeled=300, mean_length=6)
    counts = EMNaiveBayes().fit(X, y)
    assert counts.n_iter_ == EMNaiveBayes(tol=1e-4).fit(X, y).n_iter_
    assert counts.n_iter_ < EMNaiveBayes(tol=1e-6).fit(X, y).n_iter_
    h = counts.lower_bounds_
    assert h[-1] - h[-2] <= 1e-4 * abs(h[-1]) < h[-2] - h[-3]
    rng = np.random.default_rng(0)
    D = rng.normal(size=(200, 3)) + np.repeat([[0, 0, 0], [2, 2, 2]], 100, 0)
    yd = np.full(200, -1)
    yd[[0, 1, 100, 101]] = [0, 0, 1, 1]
    dense = EMNaiveBayes(event_model="gaussian").fit(D, yd)
    assert dense.n_iter_ == EMNaiveBayes(event_model="gaussian",
                                         tol=1e-6).fit(D, yd).n_iter_
