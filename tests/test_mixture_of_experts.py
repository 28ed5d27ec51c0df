"""Tests of probssl.mixture_of_experts.MixtureOfExperts (Miller & Uyar 1996).

All data are small synthetic draws made here: Gaussian clusters (several per
class, in an XOR layout that one Gaussian per class cannot separate) and
multinomial documents, so that the tests are fast and their expectations
known. The objective is recomputed with plain numpy/scipy from the fitted
attributes, and the EM-I/EM-II class-table updates are re-derived by hand
for one iteration.
"""

import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import logsumexp
from scipy.stats import norm
from sklearn.exceptions import ConvergenceWarning
from sklearn.naive_bayes import BernoulliNB, GaussianNB, MultinomialNB

from _helpers import assert_same_fit, fit_quiet, make_theta, sample_docs

from probssl import EMNaiveBayes
from probssl.mixture_of_experts import MixtureOfExperts

ATOL = 1e-10


# -- synthetic data -----------------------------------------------------------
XOR_CENTERS = np.array([[1.0, 1.0], [-1.0, -1.0], [1.0, -1.0], [-1.0, 1.0]])
XOR_CLASS = np.array([0, 0, 1, 1])  # class 0: two clusters on one diagonal


def xor_gaussians(seed=0, n_labeled_per_cluster=3, n_unlabeled=400,
                  n_test=600, n_features=5, sep=3.0, sd=1.0):
    """Two classes in ``n_features`` dimensions, each the union of two
    Gaussian clusters on a diagonal of the first two coordinates (XOR):
    both classes have mean 0 and the same spread, so one Gaussian per class
    is at chance. Labeled rows first, then unlabeled rows (y == -1).

    Returns X, y, X_test, y_test, and the cluster of every training row.
    """
    rng = np.random.default_rng(seed)
    centers = np.zeros((4, n_features))
    centers[:, :2] = sep * XOR_CENTERS

    def draw(cluster):
        return centers[cluster] + sd * rng.normal(size=(cluster.size,
                                                        n_features))

    c_lab = np.repeat(np.arange(4), n_labeled_per_cluster)
    c_unl = rng.integers(4, size=n_unlabeled)
    c_test = rng.integers(4, size=n_test)
    X = np.vstack([draw(c_lab), draw(c_unl)])
    y = np.concatenate([XOR_CLASS[c_lab], np.full(n_unlabeled, -1)])
    return X, y, draw(c_test), XOR_CLASS[c_test], np.r_[c_lab, c_unl]


def overlapping_gaussians(seed=1, n_classes=3, n_features=4,
                          n_labeled_per_class=3, n_unlabeled=300):
    """One Gaussian per class, overlapping, most rows unlabeled."""
    rng = np.random.default_rng(seed)
    means = rng.normal(scale=1.5, size=(n_classes, n_features))
    sds = rng.uniform(0.6, 1.4, size=(n_classes, n_features))
    y_lab = np.repeat(np.arange(n_classes), n_labeled_per_class)
    y_true = np.r_[y_lab, rng.integers(n_classes, size=n_unlabeled)]
    X = means[y_true] + sds[y_true] * rng.normal(size=(y_true.size,
                                                       n_features))
    y = np.r_[y_lab, np.full(n_unlabeled, -1)]
    return X, y, y_true


def make_corpus(seed=0, n_classes=3, n_features=40, n_labeled_per_class=4,
                n_unlabeled=200, mean_length=12, concentration=0.7):
    """Multinomial documents, one word distribution per class; labeled rows
    first, then unlabeled rows. Returns X (CSR), y, true classes, theta."""
    rng = np.random.default_rng(seed)
    theta = make_theta(rng, n_classes, n_features, concentration)
    y_lab = np.repeat(np.arange(n_classes), n_labeled_per_class)
    y_true = np.r_[y_lab, rng.integers(n_classes, size=n_unlabeled)]
    X = sample_docs(rng, theta, y_true, mean_length)
    y = np.r_[y_lab, np.full(n_unlabeled, -1)]
    return X, y, y_true, theta


FITTED = [
    "classes_", "n_components_", "weights_", "class_table_", "n_iter_",
    "converged_", "lower_bound_", "lower_bounds_", "transduction_",
]


# compared where the first model has them (its event model's parameters)
EVENT_PARAMS = ("means_", "variances_", "component_feature_log_prob_")


def component_log_density(clf, X):
    """log f(x | l) of every row and component, recomputed from the fitted
    attributes with numpy/scipy (up to the multinomial coefficient)."""
    if clf.event_model_ == "gaussian":
        J, d = clf.means_.shape
        var = clf.variances_
        if clf.covariance_type == "tied_diag":  # (d,)
            var = np.tile(var, (J, 1))
        elif clf.covariance_type == "spherical":  # (J,)
            var = np.repeat(var[:, None], d, axis=1)
        return np.stack(
            [norm.logpdf(X, loc=clf.means_[l], scale=np.sqrt(var[l]))
             .sum(axis=1) for l in range(J)],
            axis=1,
        )
    X = X.toarray() if sp.issparse(X) else np.asarray(X)
    return X @ clf.component_feature_log_prob_.T


def log_likelihood(clf, X, y_index, sample_weight=None):
    """Miller & Uyar's log-likelihood of labeled + unlabeled rows, with the
    event model's Dirichlet log-prior for the multinomial model."""
    w = np.ones(X.shape[0]) if sample_weight is None else sample_weight
    comp = component_log_density(clf, X) + np.log(clf.weights_)
    with np.errstate(divide="ignore"):
        log_beta = np.log(clf.class_table_)
    lab = y_index >= 0
    total = w[~lab] @ logsumexp(comp[~lab], axis=1)
    total += w[lab] @ logsumexp(comp[lab] + log_beta[:, y_index[lab]].T,
                                axis=1)
    if clf.event_model_ == "multinomial":
        total += clf.alpha * clf.component_feature_log_prob_.sum()
    return total


# -- 1. several clusters per class: the point of the model --------------------
def test_beats_em_naive_bayes_on_multimodal_classes():
    X, y, X_test, y_test, _ = xor_gaussians(seed=0)
    nb = EMNaiveBayes(event_model="gaussian").fit(X, y)
    # Two components per class from the labeled start; a start can end in a
    # local optimum (one component straddling two clusters), which n_init
    # restarts leave behind: their objective is clearly lower.
    moe = MixtureOfExperts(
        n_components=4, event_model="gaussian", n_init=4, random_state=0
    ).fit(X, y)
    acc_nb, acc_moe = nb.score(X_test, y_test), moe.score(X_test, y_test)
    assert acc_nb < 0.7, acc_nb
    assert acc_moe > 0.97, acc_moe
    assert moe.converged_
    # Four components of about a quarter of the mass each, each serving one
    # class only (the "labeled" start gives each component one class, and
    # ML updates keep zeros at zero).
    assert_allclose(moe.weights_, 0.25, atol=0.05)
    assert_array_equal(np.sort(moe.class_table_, axis=1), [[0, 1]] * 4)


@pytest.mark.parametrize("init", ["kmeans", "random"])
@pytest.mark.parametrize("algorithm", ["em1", "em2"])
def test_other_starts_find_the_clusters(init, algorithm):
    X, y, X_test, y_test, cluster = xor_gaussians(seed=1)
    # n_init=4: one random start in a few ends with a component straddling
    # two clusters (a local optimum of lower objective).
    moe = fit_quiet(
        MixtureOfExperts(n_components=4, init=init, algorithm=algorithm,
                         n_init=4, random_state=0),
        X, y,
    )
    assert moe.score(X_test, y_test) > 0.97
    # Each component is one cluster: the components recover the clusters
    # (up to relabeling) and the class table maps each to its class.
    comp = moe.predict_components(X)
    for k in range(4):
        counts = np.bincount(comp[cluster == k], minlength=4)
        l = counts.argmax()
        assert counts[l] > 0.95 * counts.sum()
        assert moe.class_table_[l, XOR_CLASS[k]] > 0.9
    assert_array_equal(moe.transduction_[y >= 0], y[y >= 0])
    assert_array_equal(moe.transduction_[y < 0], moe.predict(X[y < 0]))


# -- 2. the objective ---------------------------------------------------------
def _objective_cases():
    X, y, _, _, _ = xor_gaussians(seed=2, n_labeled_per_cluster=2,
                                  n_unlabeled=250, sep=1.6)
    Xm, ym, _, _ = make_corpus(seed=3, n_unlabeled=250, mean_length=8,
                               concentration=1.0)
    return {"gaussian": (X, y), "multinomial": (Xm, ym)}


OBJECTIVE_DATA = _objective_cases()


@pytest.mark.parametrize("event_model", ["gaussian", "multinomial"])
@pytest.mark.parametrize("algorithm", ["em1", "em2"])
@pytest.mark.parametrize(
    "params",
    [
        {"n_components": 4, "random_state": 0},
        {"n_components": 5, "init": "kmeans", "random_state": 1},
        {"n_components": 3, "init": "random", "random_state": 2},
    ],
)
def test_objective_never_decreases(event_model, algorithm, params):
    X, y = OBJECTIVE_DATA[event_model]
    clf = fit_quiet(
        MixtureOfExperts(event_model=event_model, algorithm=algorithm,
                         tol=1e-10, max_iter=150, **params),
        X, y,
    )
    lb = np.asarray(clf.lower_bounds_)
    assert len(lb) >= 5, "EM should need several iterations here"
    assert np.all(np.isfinite(lb))
    assert np.all(np.diff(lb) >= -1e-9 * np.abs(lb[1:])), np.diff(lb).min()
    assert lb[-1] > lb[0] + 1e-6 * abs(lb[0])
    assert clf.lower_bound_ == lb[-1]
    assert clf.n_iter_ == len(lb)


@pytest.mark.parametrize("event_model", ["gaussian", "multinomial"])
@pytest.mark.parametrize("algorithm", ["em1", "em2"])
@pytest.mark.parametrize("init", ["labeled", "random"])
def test_lower_bound_is_the_log_likelihood(event_model, algorithm, init):
    X, y = OBJECTIVE_DATA[event_model]
    sw = np.random.default_rng(4).uniform(0.5, 2.0, size=X.shape[0])
    clf = fit_quiet(
        MixtureOfExperts(n_components=4, event_model=event_model,
                         algorithm=algorithm, init=init, alpha=0.3,
                         random_state=0),
        X, y, sample_weight=sw,
    )
    expected = log_likelihood(clf, X, y, sw)
    assert clf.lower_bound_ == pytest.approx(expected, rel=1e-10)
    # predict_joint_log_proba is the same mixture, per class.
    comp = component_log_density(clf, X) + np.log(clf.weights_)
    with np.errstate(divide="ignore"):
        log_beta = np.log(clf.class_table_)
    joint = logsumexp(comp[:, :, None] + log_beta[None], axis=1)
    assert_allclose(clf.predict_joint_log_proba(X), joint, rtol=1e-10)


@pytest.mark.parametrize("covariance_type", ["tied_diag", "spherical"])
def test_lower_bound_other_covariance_types(covariance_type):
    X, y = OBJECTIVE_DATA["gaussian"]
    clf = fit_quiet(
        MixtureOfExperts(n_components=4, covariance_type=covariance_type,
                         random_state=0),
        X, y,
    )
    assert clf.lower_bound_ == pytest.approx(log_likelihood(clf, X, y),
                                             rel=1e-10)


@pytest.mark.parametrize("algorithm", ["em1", "em2"])
def test_one_iteration_of_the_class_table_update(algorithm):
    # Fit one iteration (parameters P1), redo the E-step of P1 by hand and
    # the class-table update of the paper, and compare with the second
    # iteration's class table.
    X, y, _ = overlapping_gaussians(seed=5)
    params = dict(n_components=5, init="random", algorithm=algorithm,
                  random_state=3)
    one = fit_quiet(MixtureOfExperts(max_iter=1, **params), X, y)
    two = fit_quiet(MixtureOfExperts(max_iter=2, **params), X, y)
    assert one.n_components_ == two.n_components_ == 5

    comp = component_log_density(one, X) + np.log(one.weights_)
    beta = one.class_table_
    lab = y >= 0
    with np.errstate(divide="ignore"):
        log_lab = comp[lab] + np.log(beta[:, y[lab]].T)
    r_lab = np.exp(log_lab - logsumexp(log_lab, axis=1, keepdims=True))
    r_unl = np.exp(comp[~lab] - logsumexp(comp[~lab], axis=1, keepdims=True))
    C = beta.shape[1]
    counts = np.stack([r_lab[y[lab] == c].sum(axis=0) for c in range(C)],
                      axis=1)  # (J, C)
    if algorithm == "em2":
        # Unlabeled joint P(l, c | x) = P(l | x) beta(c | l).
        counts = counts + np.einsum("il,lc->lc", r_unl, beta)
    expected = counts / counts.sum(axis=1, keepdims=True)
    assert_allclose(two.class_table_, expected, rtol=1e-9, atol=1e-12)
    # Mixing weights: mean responsibility over all rows.
    mass = r_lab.sum(axis=0) + r_unl.sum(axis=0)
    assert_allclose(two.weights_, mass / X.shape[0], rtol=1e-9)
    # Means: responsibility-weighted means over all rows.
    R = np.empty((X.shape[0], 5))
    R[lab], R[~lab] = r_lab, r_unl
    assert_allclose(two.means_, (R.T @ X) / mass[:, None], rtol=1e-8,
                    atol=1e-10)


# -- 3. fully labeled, one component per class: supervised naive Bayes --------
def _labeled_gaussians(seed):
    X, y, _ = overlapping_gaussians(seed=seed, n_labeled_per_class=30,
                                    n_unlabeled=0)
    keep = np.r_[0:30, 30:42, 60:81]  # class sizes 30, 12, 21
    rng = np.random.default_rng(seed + 1)
    X_test = rng.normal(scale=3.0, size=(200, X.shape[1]))
    return X[keep], y[keep], X_test


@pytest.mark.parametrize("algorithm", ["em1", "em2"])
@pytest.mark.parametrize("weighted", [False, True])
def test_equals_gaussiannb_without_unlabeled(algorithm, weighted):
    X, y, X_test = _labeled_gaussians(seed=6)
    sw = (np.random.default_rng(7).uniform(0.2, 3.0, size=X.shape[0])
          if weighted else None)
    ref = GaussianNB().fit(X, y, sample_weight=sw)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # converges, drops nothing
        ours = MixtureOfExperts(
            event_model="gaussian", algorithm=algorithm,
            reg_covar=ref.epsilon_,
        ).fit(X, y, sample_weight=sw)
    nb = EMNaiveBayes(event_model="gaussian", reg_covar=ref.epsilon_).fit(
        X, y, sample_weight=sw
    )
    assert_array_equal(ours.class_table_, np.eye(3))
    assert_allclose(ours.weights_, ref.class_prior_, rtol=0, atol=1e-12)
    assert_allclose(ours.means_, ref.theta_, rtol=1e-9, atol=1e-12)
    assert_allclose(ours.variances_, ref.var_, rtol=1e-9)
    assert_array_equal(ours.predict(X_test), ref.predict(X_test))
    assert_allclose(ours.predict_proba(X_test), ref.predict_proba(X_test),
                    atol=1e-9)
    assert_allclose(ours.predict_log_proba(X_test),
                    ref.predict_log_proba(X_test), rtol=1e-9, atol=1e-9)
    assert_allclose(ours.predict_joint_log_proba(X_test),
                    ref.predict_joint_log_proba(X_test), rtol=1e-9)
    assert_allclose(ours.predict_proba(X_test), nb.predict_proba(X_test),
                    atol=1e-12)
    assert ours.converged_ and ours.n_iter_ == 2
    assert ours.lower_bounds_[0] == ours.lower_bounds_[1]
    assert_array_equal(ours.transduction_, y)


@pytest.mark.parametrize("alpha", [1.0, 0.05])
@pytest.mark.parametrize("dense", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
def test_equals_multinomialnb_without_unlabeled(alpha, dense, weighted):
    X, y, _, theta = make_corpus(seed=8, n_labeled_per_class=12,
                                 n_unlabeled=0)
    keep = np.r_[0:12, 12:20, 24:36]
    X, y = X[keep], y[keep]
    rng = np.random.default_rng(9)
    X_test = sample_docs(rng, theta, rng.integers(3, size=50), 15)
    if dense:
        X, X_test = X.toarray(), X_test.toarray()
    sw = rng.uniform(0.1, 3.0, size=X.shape[0]) if weighted else None
    ours = MixtureOfExperts(alpha=alpha).fit(X, y, sample_weight=sw)
    ref = MultinomialNB(alpha=alpha).fit(X, y, sample_weight=sw)
    assert ours.event_model_ == "multinomial"
    assert_array_equal(ours.class_table_, np.eye(3))
    assert_allclose(np.log(ours.weights_), ref.class_log_prior_, atol=ATOL)
    assert_allclose(ours.component_feature_log_prob_, ref.feature_log_prob_,
                    rtol=0, atol=ATOL)
    assert_array_equal(ours.predict(X_test), ref.predict(X_test))
    assert_allclose(ours.predict_proba(X_test), ref.predict_proba(X_test),
                    rtol=0, atol=ATOL)
    assert_allclose(ours.predict_log_proba(X_test),
                    ref.predict_log_proba(X_test), rtol=0, atol=ATOL)
    assert_allclose(ours.predict_joint_log_proba(X_test),
                    ref.predict_joint_log_proba(X_test), rtol=0, atol=1e-8)
    assert ours.converged_ and ours.n_iter_ == 2


def test_equals_bernoullinb_without_unlabeled():
    X, y, _, theta = make_corpus(seed=10, n_labeled_per_class=10,
                                 n_unlabeled=0)
    ours = MixtureOfExperts(event_model="bernoulli", alpha=0.5).fit(X, y)
    ref = BernoulliNB(alpha=0.5).fit(X, y)
    assert_array_equal(ours.class_table_, np.eye(3))
    assert_allclose(ours.component_feature_log_prob_, ref.feature_log_prob_,
                    rtol=0, atol=ATOL)
    assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=ATOL)


# -- 4. EM-I versus EM-II -----------------------------------------------------
def test_em1_em2_differ_with_unlabeled_rows():
    X, y, _ = overlapping_gaussians(seed=11)
    params = dict(n_components=5, init="kmeans", random_state=0, tol=1e-8)
    em1 = fit_quiet(MixtureOfExperts(algorithm="em1", **params), X, y)
    em2 = fit_quiet(MixtureOfExperts(algorithm="em2", **params), X, y)
    # The k-means clusters mix classes, so the class tables start mixed and
    # the two updates differ (EM-II also moves beta with unlabeled mass).
    assert np.abs(em1.class_table_ - em2.class_table_).max() > 1e-2
    assert np.any((em2.class_table_ > 0.05) & (em2.class_table_ < 0.95))
    assert em1.lower_bounds_ != em2.lower_bounds_
    # Same first iteration: both start from the labeled rows' beta.
    assert em1.lower_bounds_[0] == em2.lower_bounds_[0]


def test_em1_em2_equal_without_unlabeled_rows():
    X, y, _ = overlapping_gaussians(seed=12, n_labeled_per_class=40,
                                    n_unlabeled=0)
    # A start (of those seeds tried) whose class tables end mixed: the
    # case where the two updates could differ.
    params = dict(n_components=5, init="random", random_state=3)
    em1 = fit_quiet(MixtureOfExperts(algorithm="em1", **params), X, y)
    em2 = fit_quiet(MixtureOfExperts(algorithm="em2", **params), X, y)
    assert np.any((em1.class_table_ > 0.05) & (em1.class_table_ < 0.95))
    assert em1.n_iter_ > 3
    assert_same_fit(em1, em2, FITTED, optional=EVENT_PARAMS)


def test_em1_em2_equal_when_components_start_with_one_class():
    # init="labeled" gives each component one class; ML class tables keep
    # their zeros, so EM-II's extra unlabeled mass only rescales one-hot rows.
    X, y, _, _, _ = xor_gaussians(seed=13)
    em1 = MixtureOfExperts(n_components=4, random_state=0).fit(X, y)
    em2 = MixtureOfExperts(n_components=4, algorithm="em2",
                           random_state=0).fit(X, y)
    assert_same_fit(em1, em2, FITTED, optional=EVENT_PARAMS)


# -- 5. components and classes ------------------------------------------------
def test_component_predictions_and_shapes():
    X, y, _ = overlapping_gaussians(seed=14)
    clf = fit_quiet(MixtureOfExperts(n_components=5, init="kmeans",
                                     random_state=0), X, y)
    J, C = 5, 3
    assert clf.n_components_ == J
    assert clf.weights_.shape == (J,) and clf.class_table_.shape == (J, C)
    assert clf.means_.shape == (J, X.shape[1])
    assert_allclose(clf.weights_.sum(), 1.0, atol=1e-12)
    assert_allclose(clf.class_table_.sum(axis=1), 1.0, atol=1e-12)
    P_l = clf.predict_component_proba(X)
    assert P_l.shape == (X.shape[0], J)
    assert_allclose(P_l.sum(axis=1), 1.0, atol=1e-12)
    assert_array_equal(clf.predict_components(X), P_l.argmax(axis=1))
    # P(c | x) = sum_l P(l | x) beta(c | l).
    proba = clf.predict_proba(X)
    assert_allclose(proba, P_l @ clf.class_table_, atol=1e-12)
    assert_allclose(np.log(proba), clf.predict_log_proba(X), atol=1e-10)
    assert_array_equal(clf.predict(X), clf.classes_[proba.argmax(axis=1)])
    assert clf.n_features_in_ == X.shape[1]
    # Far from the data the class sums underflow in linear space; the joint
    # stays exact in log space (posteriors of e^-1000 and below).
    far = 30.0 * X[:50]
    comp = component_log_density(clf, far) + np.log(clf.weights_)
    with np.errstate(divide="ignore"):
        joint = logsumexp(comp[:, :, None] + np.log(clf.class_table_)[None],
                          axis=1)
    assert joint.min() - joint.max(axis=1).max() < -1000
    assert_allclose(clf.predict_joint_log_proba(far), joint, rtol=1e-12)
    assert_allclose(clf.predict_log_proba(far),
                    joint - logsumexp(joint, axis=1, keepdims=True),
                    rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("J", [1, 2])
def test_fewer_components_than_classes(J):
    X, y, y_true = overlapping_gaussians(seed=15)
    clf = fit_quiet(MixtureOfExperts(n_components=J), X, y)
    assert clf.class_table_.shape == (J, 3)
    assert_allclose(clf.class_table_.sum(axis=1), 1.0, atol=1e-12)
    # Every class keeps some probability somewhere.
    assert np.all(clf.class_table_.max(axis=0) > 0)
    lb = np.asarray(clf.lower_bounds_)
    assert np.all(np.isfinite(lb))
    assert np.all(np.diff(lb) >= -1e-9 * abs(lb[1:]))
    assert np.all(np.isfinite(clf.predict_log_proba(X)))
    if J == 1:  # one component: the labeled class frequencies everywhere
        assert_allclose(clf.class_table_, [[1 / 3] * 3], atol=1e-12)


def test_string_labels_with_unlabeled_rows():
    X, y, _ = overlapping_gaussians(seed=16, n_classes=2)
    names = np.array(["spam", "ham"])
    y_obj = np.array([names[v] if v >= 0 else -1 for v in y], dtype=object)
    ref = MixtureOfExperts().fit(X, y)
    ours = MixtureOfExperts().fit(X, y_obj)
    assert_array_equal(ours.classes_, ["ham", "spam"])
    # "spam" is class 0 of ref, second here: reversed components, columns.
    assert_allclose(ours.class_table_, ref.class_table_[::-1, ::-1])
    assert_allclose(ours.means_, ref.means_[::-1], atol=1e-9)
    assert_allclose(ours.predict_proba(X), ref.predict_proba(X)[:, ::-1],
                    atol=1e-9)
    assert ours.score(X, y_obj) == ref.score(X, y)
    assert_array_equal(ours.transduction_, names[ref.transduction_])


# -- 6. count data ------------------------------------------------------------
def test_multinomial_sparse_dense_and_kmeans_init():
    X, y, y_true, _ = make_corpus(seed=17)
    a = MixtureOfExperts(n_components=5, random_state=0, tol=1e-9).fit(X, y)
    b = MixtureOfExperts(n_components=5, random_state=0, tol=1e-9).fit(
        X.toarray(), y)
    assert_same_fit(a, b, FITTED, optional=EVENT_PARAMS, atol=1e-8)
    assert a.component_feature_log_prob_.shape == (5, X.shape[1])
    assert_allclose(logsumexp(a.component_feature_log_prob_, axis=1), 0.0,
                    atol=1e-10)
    km = fit_quiet(MixtureOfExperts(n_components=5, init="kmeans",
                                    random_state=0), X, y)
    assert km.score(X, y_true) > 0.8
    assert_allclose(km.lower_bound_, log_likelihood(km, X, y), rtol=1e-10)


def test_integer_sample_weight_equals_repeated_rows():
    X, y, _, _ = make_corpus(seed=18, n_unlabeled=80)
    rng = np.random.default_rng(19)
    sw = rng.integers(0, 4, size=X.shape[0])
    sw[:12] = np.maximum(sw[:12], 1)  # keep every class labeled
    rows = np.repeat(np.arange(X.shape[0]), sw)
    a = MixtureOfExperts(tol=1e-10).fit(X, y, sample_weight=sw.astype(float))
    b = MixtureOfExperts(tol=1e-10).fit(X[rows], y[rows])
    for name in ["weights_", "class_table_", "component_feature_log_prob_",
                 "lower_bound_"]:
        assert_allclose(getattr(a, name), getattr(b, name), rtol=1e-9,
                        atol=1e-12, err_msg=name)


# -- 7. determinism, pickling, restarts ---------------------------------------
@pytest.mark.parametrize("init", ["labeled", "kmeans", "random"])
def test_determinism_and_pickle(init):
    X, y, _, _, _ = xor_gaussians(seed=20, n_unlabeled=150)
    params = dict(n_components=5, init=init, random_state=42, n_init=2)
    a = fit_quiet(MixtureOfExperts(**params), X, y)
    b = fit_quiet(MixtureOfExperts(**params), X, y)
    assert_same_fit(a, b, FITTED, optional=EVENT_PARAMS)
    assert fit_quiet(a, X, y) is a  # refitting gives the same again
    assert_same_fit(a, b, FITTED, optional=EVENT_PARAMS)
    c = pickle.loads(pickle.dumps(a))
    assert_same_fit(a, c, FITTED, optional=EVENT_PARAMS)
    assert_array_equal(c.predict_proba(X), a.predict_proba(X))
    assert_array_equal(c.predict_components(X), a.predict_components(X))
    d = fit_quiet(MixtureOfExperts(**{**params, "random_state": 7}), X, y)
    assert not np.array_equal(d.means_, a.means_)
    e = fit_quiet(
        MixtureOfExperts(**{**params, "random_state":
                            np.random.RandomState(42)}), X, y)
    assert_same_fit(a, e, FITTED, optional=EVENT_PARAMS)


def test_n_init_keeps_the_best_run(monkeypatch):
    X, y, _, _, _ = xor_gaussians(seed=0, n_labeled_per_cluster=1, sd=1.2)
    finals = []
    import probssl._em

    run_type = probssl._em.Run

    def recording(*args):
        run = run_type(*args)
        finals.append(run.history[-1])
        return run

    monkeypatch.setattr(probssl._em, "Run", recording)
    params = dict(n_components=4, init="random", tol=1e-8)
    best = fit_quiet(MixtureOfExperts(n_init=6, random_state=0, **params),
                     X, y)
    assert len(finals) == 6
    assert len(set(finals)) > 1, "the starts should reach different optima"
    assert best.lower_bound_ == max(finals)
    # The first start of n_init=6 is the only start of n_init=1.
    finals.clear()
    single = fit_quiet(MixtureOfExperts(n_init=1, random_state=0, **params),
                       X, y)
    assert len(finals) == 1
    assert best.lower_bound_ >= single.lower_bound_


# -- 8. degenerate components -------------------------------------------------
def test_zero_mass_component_is_dropped_with_warning():
    # Class 2's only labeled rows weigh 0: its component starts empty.
    X, y, _ = overlapping_gaussians(seed=21)
    sw = np.where(y == 2, 0.0, 1.0)
    with pytest.warns(UserWarning, match=r"component\(s\) \[2\].*dropped"):
        clf = MixtureOfExperts().fit(X, y, sample_weight=sw)
    assert clf.n_components_ == 2
    assert clf.weights_.shape == (2,) and clf.class_table_.shape == (2, 3)
    assert_array_equal(clf.classes_, [0, 1, 2])
    proba = clf.predict_proba(X)
    assert np.all(np.isfinite(proba)) and np.all(np.isfinite(clf.means_))
    assert_array_equal(proba[:, 2], 0.0)
    assert not np.any(clf.predict(X) == 2)
    assert np.all(np.isfinite(clf.lower_bounds_))


def test_empty_kmeans_clusters_are_dropped_without_nan():
    # Three distinct points, six components: k-means leaves clusters empty.
    base = np.array([[0.0, 0.0], [5.0, 5.0], [0.0, 5.0]])
    X = np.repeat(base, 10, axis=0)
    y = np.full(30, -1)
    y[[0, 10, 20]] = [0, 1, 1]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        clf = MixtureOfExperts(n_components=6, init="kmeans",
                               event_model="gaussian", reg_covar=1e-3,
                               random_state=0).fit(X, y)
    assert any("dropped" in str(w.message) for w in caught)
    assert clf.n_components_ <= 3
    for name in ["weights_", "class_table_", "means_", "variances_",
                 "lower_bounds_"]:
        assert np.all(np.isfinite(getattr(clf, name))), name
    assert np.all(np.isfinite(clf.predict_proba(X)))
    assert_array_equal(clf.predict(base), [0, 1, 1])


def test_collapse_with_zero_reg_covar_raises_clearly():
    # One labeled row per class and no other rows: zero variances.
    X = np.array([[0.0, 1.0], [2.0, 3.0]])
    with pytest.raises(FloatingPointError, match="reg_covar"):
        MixtureOfExperts(event_model="gaussian", reg_covar=0.0).fit(X, [0, 1])
    clf = MixtureOfExperts(event_model="gaussian").fit(X, [0, 1])
    assert np.all(np.isfinite(clf.predict_log_proba(X)))


# -- 9. convergence, verbose, score -------------------------------------------
def test_max_iter_one_warns_and_is_not_converged():
    X, y, _, _, _ = xor_gaussians(seed=22)
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        clf = MixtureOfExperts(n_components=4, max_iter=1,
                               random_state=0).fit(X, y)
    assert not clf.converged_ and clf.n_iter_ == 1
    assert len(clf.lower_bounds_) == 1


def test_verbose_prints_objective(capsys):
    X, y, _, _, _ = xor_gaussians(seed=23, n_unlabeled=40)
    clf = MixtureOfExperts(verbose=1).fit(X, y)
    out = capsys.readouterr().out
    assert out.count("iteration") == clf.n_iter_
    assert "objective" in out


def test_score_ignores_unlabeled_rows():
    X, y, y_true = overlapping_gaussians(seed=24)
    clf = MixtureOfExperts().fit(X, y)
    rng = np.random.default_rng(25)
    y_eval = y_true.copy()
    y_eval[rng.random(y_eval.shape[0]) < 0.5] = -1
    keep = y_eval >= 0
    pred = clf.predict(X)
    expected = np.mean(pred[keep] == y_eval[keep])
    assert 0.0 < expected < 1.0
    assert clf.score(X, y_eval) == pytest.approx(expected, abs=1e-15)
    sw = rng.uniform(0.5, 2.0, size=X.shape[0])
    expected_w = (np.sum(sw[keep] * (pred[keep] == y_eval[keep]))
                  / sw[keep].sum())
    assert clf.score(X, y_eval, sample_weight=sw) == pytest.approx(expected_w)


# -- 10. bad input (the errors every estimator shares: tests/test_common.py) --
@pytest.fixture(scope="module")
def small():
    X, y, _ = overlapping_gaussians(seed=26, n_classes=2, n_features=4,
                                    n_labeled_per_class=5, n_unlabeled=6)
    return X, y


def test_kmeans_needs_enough_rows(small):
    X, y = small
    with pytest.raises(ValueError, match="init='kmeans' needs"):
        MixtureOfExperts(n_components=X.shape[0] + 1, init="kmeans").fit(X, y)
    # The labeled start has no such limit (surplus components die out).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        clf = fit_quiet(MixtureOfExperts(n_components=X.shape[0] + 1,
                                         random_state=0), X[:4], y[:4])
    assert np.all(np.isfinite(clf.predict_proba(X)))


def test_kmeans_seeds_documents_from_a_sparse_sample(monkeypatch):
    """k-means++ seeds on the sampled documents as they are, sparse: a dense
    copy of 2,000 documents of a 53k-word vocabulary took 850 MB and two
    thirds of a fit."""
    import sklearn.cluster

    seen = []
    real = sklearn.cluster.kmeans_plusplus

    def recording(X, *args, **kwargs):
        seen.append(sp.issparse(X))
        return real(X, *args, **kwargs)

    monkeypatch.setattr(sklearn.cluster, "kmeans_plusplus", recording)
    X, y, _, _ = make_corpus(seed=3)
    clf = fit_quiet(MixtureOfExperts(n_components=6, init="kmeans",
                                     random_state=0), X, y)
    assert seen == [True]
    assert clf.n_components_ == 6
