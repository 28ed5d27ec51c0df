"""Tests of EMNaiveBayes's event models: "auto", Bernoulli and Gaussian.

tests/test_naive_bayes.py covers the multinomial model; here the other two
event models are checked against scikit-learn's supervised naive Bayes
(GaussianNB, BernoulliNB) when every row is labeled, against known mixtures
when most rows are unlabeled, and against a plain numpy/scipy recomputation
of the EM objective. All data are small synthetic draws made here.
"""

import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import logsumexp
from scipy.stats import norm
from sklearn.naive_bayes import BernoulliNB, GaussianNB

from _helpers import assert_same_fit, fit_quiet
from probssl import EMNaiveBayes

ATOL = 1e-10


# -- synthetic data ------------------------------------------------------------
def gaussian_mixture(
    seed=0,
    n_classes=3,
    n_features=5,
    n_labeled_per_class=5,
    n_unlabeled=0,
    covariance_type="diag",
    mean_scale=3.0,
    var_range=(0.3, 1.5),
):
    """Rows from a mixture of diagonal Gaussians, one per class.

    Labeled rows first (n_labeled_per_class of each class), then unlabeled
    rows (y == -1). The true variances have the shape of ``variances_`` for
    ``covariance_type``: (C, d) diag, (d,) tied, (C,) spherical.

    Returns X, y, the true class of every row, the means and the variances.
    """
    rng = np.random.default_rng(seed)
    C, d = n_classes, n_features
    means = rng.normal(scale=mean_scale, size=(C, d))
    if covariance_type == "diag":
        variances = rng.uniform(*var_range, size=(C, d))
        full = variances
    elif covariance_type == "tied_diag":
        variances = rng.uniform(*var_range, size=d)
        full = np.tile(variances, (C, 1))
    else:
        variances = rng.uniform(*var_range, size=C)
        full = np.repeat(variances[:, None], d, axis=1)
    y_lab = np.repeat(np.arange(C), n_labeled_per_class)
    y_unl = rng.integers(C, size=n_unlabeled)
    y_true = np.concatenate([y_lab, y_unl])
    X = means[y_true] + np.sqrt(full[y_true]) * rng.normal(size=(y_true.size, d))
    y = np.concatenate([y_lab, np.full(n_unlabeled, -1)])
    return X, y, y_true, means, variances


def bernoulli_mixture(
    seed=0, n_classes=3, n_features=30, n_labeled_per_class=5, n_unlabeled=0,
    concentration=0.4,
):
    """Binary rows (dense float) from a mixture of products of Bernoullis."""
    rng = np.random.default_rng(seed)
    p = rng.beta(concentration, concentration, size=(n_classes, n_features))
    p = np.clip(p, 0.02, 0.98)
    y_lab = np.repeat(np.arange(n_classes), n_labeled_per_class)
    y_unl = rng.integers(n_classes, size=n_unlabeled)
    y_true = np.concatenate([y_lab, y_unl])
    X = (rng.random((y_true.size, n_features)) < p[y_true]).astype(float)
    y = np.concatenate([y_lab, np.full(n_unlabeled, -1)])
    return X, y, y_true, p


def counts_for_bernoulli(seed, n_rows, n_features=12):
    """Non-negative real values, many zeros (so binarize matters)."""
    rng = np.random.default_rng(seed)
    X = rng.poisson(0.8, size=(n_rows, n_features)) * rng.uniform(
        0.2, 2.0, size=(n_rows, n_features)
    )
    return X


GAUSSIAN_ATTRS = [
    "classes_", "class_log_prior_", "component_log_prior_", "means_",
    "variances_", "transduction_", "n_iter_", "converged_", "lower_bound_",
    "lower_bounds_",
]
BERNOULLI_ATTRS = [
    "classes_", "class_log_prior_", "component_log_prior_",
    "feature_log_prob_", "component_feature_log_prob_", "transduction_",
    "n_iter_", "converged_", "lower_bound_", "lower_bounds_",
]


# -- 1. "auto" resolution ------------------------------------------------------
def test_auto_resolution():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 10)
    counts = rng.poisson(2.0, size=(20, 6)).astype(float)
    real = rng.normal(size=(20, 6))

    def resolved(X):
        return EMNaiveBayes().fit(X, y).event_model_

    assert resolved(sp.csr_matrix(counts)) == "multinomial"
    assert resolved(counts) == "multinomial"
    assert resolved(counts.astype(np.int64)) == "multinomial"
    # Sparse is always counts, even with non-integer values.
    assert resolved(sp.csr_matrix(counts * 0.5)) == "multinomial"
    # One non-integer value or one negative integer makes it real-valued.
    frac = counts.copy()
    frac[3, 2] += 0.5
    assert resolved(frac) == "gaussian"
    neg = counts.copy()
    neg[4, 1] = -1.0
    assert resolved(neg) == "gaussian"
    assert resolved(real) == "gaussian"
    # An explicit event model is reported as given.
    for name in ["multinomial", "bernoulli", "gaussian"]:
        assert EMNaiveBayes(event_model=name).fit(counts, y).event_model_ == name

    # "auto" fits are the explicit fits.
    auto = EMNaiveBayes().fit(real, y)
    gauss = EMNaiveBayes(event_model="gaussian").fit(real, y)
    assert_array_equal(auto.predict_proba(real), gauss.predict_proba(real))
    assert hasattr(auto, "means_") and not hasattr(auto, "feature_log_prob_")
    auto_c = EMNaiveBayes().fit(counts, y)
    multi = EMNaiveBayes(event_model="multinomial").fit(counts, y)
    assert_array_equal(auto_c.feature_log_prob_, multi.feature_log_prob_)
    assert not hasattr(auto_c, "means_")
    # The event model is fixed at fit: predict does not re-resolve it.
    assert_allclose(
        auto.predict_proba(counts),
        gauss.predict_proba(counts),
        rtol=0,
        atol=0,
    )


# -- 2. equality with GaussianNB when every row is labeled ---------------------
# Our variances are E[x^2] - mean^2 (one matrix product per M-step), while
# GaussianNB uses the two-pass formula; on this data (features of very
# different scales, one with an offset of 20 standard deviations) the
# relative difference was ~1e-13, so rtol=1e-9 leaves plenty of room while
# still catching any real difference (e.g. a wrong epsilon_ or prior).
GNB_RTOL = 1e-9


def _gnb_data(seed):
    X, y, _, _, _ = gaussian_mixture(
        seed=seed, n_classes=3, n_features=6, n_labeled_per_class=30
    )
    keep = np.r_[0:30, 30:42, 60:81]  # class sizes 30, 12, 21
    X, y = X[keep], y[keep]
    scale = np.array([1.0, 10.0, 0.1, 1.0, 100.0, 1.0])
    offset = np.array([0.0, 0.0, 0.0, 20.0, 0.0, 0.0])
    rng = np.random.default_rng(seed + 100)
    X_test = rng.normal(scale=3.0, size=(200, 6))
    return X * scale + offset, y, X_test * scale + offset


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("var_smoothing", [1e-9, 1e-3])
def test_gaussian_equals_gaussiannb_without_unlabeled(weighted, var_smoothing):
    X, y, X_test = _gnb_data(seed=2)
    sw = (
        np.random.default_rng(3).uniform(0.2, 3.0, size=X.shape[0])
        if weighted else None
    )
    ref = GaussianNB(var_smoothing=var_smoothing).fit(X, y, sample_weight=sw)
    ours = EMNaiveBayes(event_model="gaussian", reg_covar=ref.epsilon_).fit(
        X, y, sample_weight=sw
    )
    assert ours.event_model_ == "gaussian"
    assert_array_equal(ours.classes_, ref.classes_)
    assert_array_equal(ours.predict(X_test), ref.predict(X_test))
    assert_array_equal(ours.predict(X), ref.predict(X))
    assert_allclose(ours.theta_, ref.theta_, rtol=GNB_RTOL, atol=1e-12)
    assert_allclose(ours.var_, ref.var_, rtol=GNB_RTOL)
    assert_allclose(ours.means_, ref.theta_, rtol=GNB_RTOL, atol=1e-12)
    assert_allclose(ours.variances_, ref.var_, rtol=GNB_RTOL)
    assert_allclose(
        ours.class_log_prior_, np.log(ref.class_prior_), rtol=0, atol=1e-12
    )
    assert_allclose(
        ours.predict_joint_log_proba(X_test),
        ref.predict_joint_log_proba(X_test),
        rtol=GNB_RTOL,
    )
    assert_allclose(
        ours.predict_log_proba(X_test),
        ref.predict_log_proba(X_test),
        rtol=GNB_RTOL,
        atol=1e-9,
    )
    assert_allclose(
        ours.predict_proba(X_test), ref.predict_proba(X_test), atol=1e-9
    )
    assert_array_equal(ours.transduction_, y)
    assert ours.converged_


def test_gaussian_string_labels_equal_gaussiannb():
    X, y, X_test = _gnb_data(seed=4)
    names = np.array(["c", "a", "b"])
    ref = GaussianNB().fit(X, names[y])
    ours = EMNaiveBayes(event_model="gaussian", reg_covar=ref.epsilon_).fit(
        X, names[y]
    )
    assert_array_equal(ours.classes_, ["a", "b", "c"])
    assert_array_equal(ours.predict(X_test), ref.predict(X_test))
    assert_allclose(ours.var_, ref.var_, rtol=GNB_RTOL)


@pytest.mark.parametrize("weighted", [False, True])
def test_gaussian_tied_and_spherical_closed_form_without_unlabeled(weighted):
    # Fully labeled: weighted ML estimates, in plain numpy, plus reg_covar.
    X, y, _ = _gnb_data(seed=20)
    sw = (
        np.random.default_rng(21).uniform(0.2, 3.0, size=X.shape[0])
        if weighted else np.ones(X.shape[0])
    )
    reg = 1e-3
    C = 3
    R = np.zeros((X.shape[0], C))
    R[np.arange(X.shape[0]), y] = sw
    nk = R.sum(axis=0)
    means = (R.T @ X) / nk[:, None]
    sq = np.stack([R[:, k] @ (X - means[k]) ** 2 for k in range(C)])  # (C, d)
    expected = {
        "diag": sq / nk[:, None] + reg,
        "tied_diag": sq.sum(axis=0) / nk.sum() + reg,
        "spherical": (sq / nk[:, None]).mean(axis=1) + reg,
    }
    for cov, var in expected.items():
        clf = EMNaiveBayes(
            event_model="gaussian", covariance_type=cov, reg_covar=reg
        ).fit(X, y, sample_weight=None if not weighted else sw)
        assert_allclose(clf.means_, means, rtol=1e-10, atol=1e-10, err_msg=cov)
        assert_allclose(clf.variances_, var, rtol=1e-9, err_msg=cov)
        assert_allclose(
            clf.class_log_prior_, np.log(nk / nk.sum()), atol=1e-12
        )


def test_gaussian_attribute_shapes():
    X, y, _, _, _ = gaussian_mixture(seed=5, n_features=4, n_unlabeled=60)
    C, d = 3, 4
    expected = {"diag": (C, d), "tied_diag": (d,), "spherical": (C,)}
    for cov, shape in expected.items():
        clf = EMNaiveBayes(event_model="gaussian", covariance_type=cov).fit(X, y)
        assert clf.means_.shape == (C, d)
        assert clf.variances_.shape == shape
        assert np.all(clf.variances_ > 0)
        # GaussianNB names: the variances broadcast to (C, d).
        assert clf.theta_.shape == (C, d)
        assert clf.var_.shape == (C, d)
        assert_array_equal(clf.theta_, clf.means_)
        if cov == "tied_diag":
            assert_array_equal(clf.var_, np.tile(clf.variances_, (C, 1)))
        elif cov == "spherical":
            assert_array_equal(
                clf.var_, np.repeat(clf.variances_[:, None], d, axis=1)
            )
        proba = clf.predict_proba(X)
        assert proba.shape == (X.shape[0], C)
        assert_allclose(proba.sum(axis=1), 1.0, atol=1e-12)
    M = 2
    clf = EMNaiveBayes(
        event_model="gaussian", n_components_per_class=M, random_state=0
    ).fit(X, y)
    assert clf.means_.shape == (C * M, d)
    assert clf.variances_.shape == (C * M, d)
    assert clf.component_log_prior_.shape == (C * M,)
    assert clf.class_log_prior_.shape == (C,)
    assert not hasattr(clf, "theta_") and not hasattr(clf, "var_")


# -- 3. equality with BernoulliNB when every row is labeled --------------------
@pytest.mark.parametrize("alpha", [1.0, 0.3])
@pytest.mark.parametrize("binarize", [0.0, 0.9, None])
@pytest.mark.parametrize("dense", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
def test_bernoulli_equals_bernoullinb_without_unlabeled(
    alpha, binarize, dense, weighted
):
    X = counts_for_bernoulli(6, 45)
    X_test = counts_for_bernoulli(7, 60)
    y = np.repeat([0, 1, 2], [20, 10, 15])
    # Make the classes differ.
    X[y == 1, :4] *= 3.0
    X[y == 2, 4:8] = 0.0
    if binarize is None:  # input already binary
        X, X_test = (X > 0).astype(float), (X_test > 0).astype(float)
    sw = (
        np.random.default_rng(8).uniform(0.2, 3.0, size=X.shape[0])
        if weighted else None
    )
    if not dense:
        X, X_test = sp.csr_matrix(X), sp.csr_matrix(X_test)

    ours = EMNaiveBayes(
        event_model="bernoulli", alpha=alpha, binarize=binarize
    ).fit(X, y, sample_weight=sw)
    ref = BernoulliNB(alpha=alpha, binarize=binarize).fit(
        X, y, sample_weight=sw
    )
    assert ours.event_model_ == "bernoulli"
    assert_array_equal(ours.classes_, ref.classes_)
    assert_allclose(
        ours.feature_log_prob_, ref.feature_log_prob_, rtol=0, atol=ATOL
    )
    assert_allclose(
        ours.class_log_prior_, ref.class_log_prior_, rtol=0, atol=ATOL
    )
    for Z in [X, X_test]:
        assert_array_equal(ours.predict(Z), ref.predict(Z))
        assert_allclose(
            ours.predict_log_proba(Z), ref.predict_log_proba(Z),
            rtol=0, atol=ATOL,
        )
        assert_allclose(
            ours.predict_joint_log_proba(Z), ref.predict_joint_log_proba(Z),
            rtol=0, atol=1e-9,
        )
    # The other input kind gives the same predictions.
    other = X_test.toarray() if sp.issparse(X_test) else sp.csr_matrix(X_test)
    assert_allclose(
        ours.predict_log_proba(other), ref.predict_log_proba(X_test),
        rtol=0, atol=ATOL,
    )


def test_bernoulli_negative_binarize_sparse_agrees_with_dense():
    # With binarize < 0 every zero of a dense X is "present"; a sparse X
    # cannot say so without densifying. BernoulliNB refuses binarize < 0
    # (its constraint is [0, inf)); EMNaiveBayes must either refuse too or
    # give the same model for the same data whatever its storage.
    X = counts_for_bernoulli(9, 40)
    y = np.repeat([0, 1], 20)
    X[y == 1, :3] = 0.0
    results = []
    for Z in [X, sp.csr_matrix(X)]:
        try:
            clf = EMNaiveBayes(event_model="bernoulli", binarize=-0.5).fit(Z, y)
        except ValueError:
            results.append(None)
        else:
            results.append(clf.feature_log_prob_)
    if results[0] is not None and results[1] is not None:
        assert_allclose(results[0], results[1], rtol=0, atol=ATOL)
    else:
        # Refused: at least for the sparse input, whose meaning is ambiguous.
        assert results[1] is None


# -- 4. Gaussian EM recovers a known mixture -----------------------------------
def _param_errors(clf, means, variances):
    return (
        np.abs(clf.means_ - means).mean(),
        np.abs(clf.variances_ - variances).mean(),
    )


@pytest.mark.parametrize("covariance_type", ["diag", "tied_diag", "spherical"])
def test_gaussian_em_recovers_mixture(covariance_type):
    X, y, y_true, means, variances = gaussian_mixture(
        seed=0, n_classes=3, n_features=5, n_labeled_per_class=5,
        n_unlabeled=3000, covariance_type=covariance_type,
    )
    params = dict(event_model="gaussian", covariance_type=covariance_type)
    em = EMNaiveBayes(**params).fit(X, y)
    sup = EMNaiveBayes(unlabeled_weight=0.0, **params).fit(X, y)
    oracle = EMNaiveBayes(**params).fit(X, y_true)  # every label known
    assert em.converged_
    err_mean, err_var = _param_errors(em, means, variances)
    sup_mean, sup_var = _param_errors(sup, means, variances)
    assert err_mean < 0.05, err_mean
    assert err_var < 0.05, err_var
    # Far better than the 5 labels per class alone.
    assert err_mean < 0.25 * sup_mean, (err_mean, sup_mean)
    assert err_var < 0.25 * sup_var, (err_var, sup_var)
    # Well-separated classes: about what the true labels would give.
    assert_allclose(em.means_, oracle.means_, atol=0.02)
    assert_allclose(em.variances_, oracle.variances_, atol=0.03)
    assert_allclose(
        np.exp(em.class_log_prior_), np.exp(oracle.class_log_prior_), atol=0.01
    )
    unl = y < 0
    assert np.mean(em.transduction_[unl] == y_true[unl]) > 0.98


# -- 5. the objective ----------------------------------------------------------
def _overlapping_gaussians(seed=10):
    # Classes that overlap, so that EM takes many small steps.
    return gaussian_mixture(
        seed=seed, n_classes=3, n_features=4, n_labeled_per_class=2,
        n_unlabeled=600, mean_scale=1.0, var_range=(0.5, 1.5),
    )


@pytest.mark.parametrize(
    "params",
    [
        {"covariance_type": "diag"},
        {"covariance_type": "tied_diag"},
        {"covariance_type": "spherical"},
        {"n_components_per_class": 2, "random_state": 0},
        {"n_components_per_class": 2, "random_state": 1,
         "covariance_type": "spherical", "prior_smoothing": 1.0},
        {"unlabeled_weight": 0.2},
    ],
)
def test_gaussian_objective_never_decreases(params):
    X, y, _, _, _ = _overlapping_gaussians()
    clf = fit_quiet(
        EMNaiveBayes(
            event_model="gaussian", reg_covar=1e-9, tol=1e-10, max_iter=300,
            **params,
        ),
        X, y,
    )
    lb = np.asarray(clf.lower_bounds_)
    assert len(lb) >= 5, "EM should need several iterations here"
    assert np.all(np.isfinite(lb))
    assert np.all(np.diff(lb) >= -1e-9 * np.abs(lb[1:])), np.diff(lb).min()
    assert lb[-1] > lb[0] + 1e-4 * abs(lb[0])
    assert clf.lower_bound_ == lb[-1]
    assert clf.n_iter_ == len(lb)


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"n_components_per_class": 2, "random_state": 0},
        {"unlabeled_weight": 0.3, "alpha": 0.2, "binarize": None},
        {"n_components_per_class": 2, "random_state": 1,
         "prior_smoothing": 1.0},
    ],
)
def test_bernoulli_objective_never_decreases(params):
    X, y, _, _ = bernoulli_mixture(
        seed=11, n_labeled_per_class=2, n_unlabeled=400, concentration=1.0
    )
    clf = fit_quiet(
        EMNaiveBayes(event_model="bernoulli", tol=1e-10, max_iter=300,
                     **params),
        sp.csr_matrix(X), y,
    )
    lb = np.asarray(clf.lower_bounds_)
    assert len(lb) >= 3, "EM should need several iterations here"
    assert np.all(np.isfinite(lb))
    assert np.all(np.diff(lb) >= -1e-9 * np.abs(lb[1:])), np.diff(lb).min()
    assert lb[-1] > lb[0] + 1e-6 * abs(lb[0])
    assert clf.lower_bound_ == lb[-1]


def _gaussian_objective(clf, X, y_index, unlabeled_weight):
    """The documented objective (M=1, prior_smoothing=0) from the fitted
    attributes, with scipy's normal log-density."""
    sd = np.sqrt(clf.var_)  # (C, d), whatever the covariance type
    C = sd.shape[0]
    log_px = np.stack(
        [norm.logpdf(X, loc=clf.theta_[k], scale=sd[k]).sum(axis=1)
         for k in range(C)],
        axis=1,
    )
    joint = log_px + clf.component_log_prior_
    lab = y_index >= 0
    return (
        joint[lab, y_index[lab]].sum()
        + unlabeled_weight * logsumexp(joint[~lab], axis=1).sum()
    )


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"covariance_type": "tied_diag", "unlabeled_weight": 0.5},
        {"covariance_type": "spherical", "reg_covar": 0.01},
    ],
)
def test_gaussian_lower_bound_is_the_objective(params):
    X, y, _, _, _ = _overlapping_gaussians(seed=12)
    X = X * np.array([1.0, 3.0, 0.5, 1.0]) + np.array([0.0, 0.0, 0.0, 5.0])
    clf = fit_quiet(EMNaiveBayes(event_model="gaussian", **params), X, y)
    expected = _gaussian_objective(
        clf, X, y, params.get("unlabeled_weight", 1.0)
    )
    assert clf.lower_bound_ == pytest.approx(expected, rel=1e-10)
    # predict_joint_log_proba is the same joint density.
    sd = np.sqrt(clf.var_)
    joint = np.stack(
        [norm.logpdf(X, loc=clf.theta_[k], scale=sd[k]).sum(axis=1)
         for k in range(3)], axis=1,
    ) + clf.class_log_prior_
    assert_allclose(clf.predict_joint_log_proba(X), joint, rtol=1e-10)


# -- 6. several components per class -------------------------------------------
def _xor(rng, n_per_cluster, sd=0.6):
    """Two classes in 2-D, each two clusters on a diagonal: both classes have
    mean (0, 0) and the same variances, so one Gaussian per class is
    at chance."""
    centers = np.array([[2.0, 2.0], [-2.0, -2.0], [2.0, -2.0], [-2.0, 2.0]])
    cluster = np.repeat(np.arange(4), n_per_cluster)
    X = centers[cluster] + sd * rng.normal(size=(cluster.size, 2))
    return X, cluster // 2


def test_gaussian_multiple_components_beat_one_on_multimodal_classes():
    rng = np.random.default_rng(13)
    X, y = _xor(rng, 100)
    X_test, y_test = _xor(rng, 250)
    one = EMNaiveBayes(event_model="gaussian").fit(X, y)
    two = EMNaiveBayes(
        event_model="gaussian", n_components_per_class=2, random_state=0
    ).fit(X, y)
    acc1, acc2 = one.score(X_test, y_test), two.score(X_test, y_test)
    assert acc1 < 0.65, acc1
    assert acc2 > 0.97, acc2
    assert_allclose(np.exp(two.component_log_prior_), 0.25, atol=0.05)
    # Each class's components sit on its two clusters.
    for c, centers in enumerate([[[2, 2], [-2, -2]], [[2, -2], [-2, 2]]]):
        found = two.means_[2 * c:2 * c + 2]
        found = found[np.argsort(-found[:, 0])]
        assert_allclose(found, centers, atol=0.2)

    # ... also from a few labels and many unlabeled rows.
    X_lab, y_lab = _xor(rng, 5)
    X_unl, _ = _xor(rng, 150)
    Xs = np.vstack([X_lab, X_unl])
    ys = np.concatenate([y_lab, np.full(X_unl.shape[0], -1)])
    semi = EMNaiveBayes(
        event_model="gaussian", n_components_per_class=2, random_state=0
    ).fit(Xs, ys)
    assert semi.score(X_test, y_test) > 0.95
    assert_array_equal(semi.transduction_[: y_lab.size], y_lab)


# -- 7. unlabeled_weight = 0 is supervised naive Bayes --------------------------
@pytest.mark.parametrize("covariance_type", ["diag", "tied_diag", "spherical"])
def test_gaussian_unlabeled_weight_zero_is_supervised(covariance_type):
    X, y, _, _, _ = gaussian_mixture(
        seed=14, n_labeled_per_class=4, n_unlabeled=300
    )
    lab = y >= 0
    params = dict(event_model="gaussian", covariance_type=covariance_type)
    ours = EMNaiveBayes(unlabeled_weight=0.0, **params).fit(X, y)
    ref = EMNaiveBayes(**params).fit(X[lab], y[lab])
    assert_allclose(ours.means_, ref.means_, rtol=1e-12, atol=1e-12)
    assert_allclose(ours.variances_, ref.variances_, rtol=1e-12)
    assert_allclose(ours.class_log_prior_, ref.class_log_prior_, atol=1e-12)
    assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-12)
    assert_array_equal(ours.transduction_[lab], y[lab])
    assert_array_equal(ours.transduction_[~lab], ref.predict(X[~lab]))
    if covariance_type == "diag":
        gnb = GaussianNB().fit(X[lab], y[lab])
        with_eps = EMNaiveBayes(
            unlabeled_weight=0.0, reg_covar=gnb.epsilon_, **params
        ).fit(X, y)
        assert_allclose(with_eps.var_, gnb.var_, rtol=GNB_RTOL)
        assert_array_equal(with_eps.predict(X), gnb.predict(X))
    # unlabeled_weight=1 does use the unlabeled rows.
    em = EMNaiveBayes(**params).fit(X, y)
    assert np.abs(em.means_ - ref.means_).max() > 0.1


@pytest.mark.parametrize("dense", [False, True])
def test_bernoulli_unlabeled_weight_zero_is_supervised(dense):
    X, y, _, _ = bernoulli_mixture(
        seed=15, n_labeled_per_class=4, n_unlabeled=300
    )
    X = X * 2.0  # binarize=0.5 maps it back
    lab = y >= 0
    Xf = X if dense else sp.csr_matrix(X)
    ours = EMNaiveBayes(
        event_model="bernoulli", unlabeled_weight=0.0, binarize=0.5,
        alpha=1.0,
    ).fit(Xf, y)
    ref = BernoulliNB(binarize=0.5).fit(X[lab], y[lab])
    assert_allclose(
        ours.feature_log_prob_, ref.feature_log_prob_, rtol=0, atol=ATOL
    )
    assert_allclose(
        ours.class_log_prior_, ref.class_log_prior_, rtol=0, atol=ATOL
    )
    assert_allclose(
        ours.predict_log_proba(Xf), ref.predict_log_proba(X), rtol=0, atol=ATOL
    )
    assert_array_equal(ours.transduction_[~lab], ref.predict(X[~lab]))
    em = EMNaiveBayes(event_model="bernoulli", binarize=0.5).fit(Xf, y)
    assert np.abs(em.feature_log_prob_ - ref.feature_log_prob_).max() > 0.1


def test_bernoulli_em_uses_unlabeled_rows():
    n_classes = 3
    X, y, y_true, p = bernoulli_mixture(
        seed=16, n_classes=n_classes, n_features=60, n_labeled_per_class=2,
        n_unlabeled=2000,
    )
    X_test, _, y_test, _ = bernoulli_mixture(
        seed=16, n_classes=n_classes, n_features=60, n_labeled_per_class=0,
        n_unlabeled=1000,
    )
    em = EMNaiveBayes(event_model="bernoulli").fit(sp.csr_matrix(X), y)
    sup = EMNaiveBayes(event_model="bernoulli", unlabeled_weight=0.0).fit(X, y)
    err = np.abs(np.exp(em.feature_log_prob_) - p).mean()
    err_sup = np.abs(np.exp(sup.feature_log_prob_) - p).mean()
    assert err < 0.03, err
    assert err < 0.25 * err_sup, (err, err_sup)
    assert em.score(X_test, y_test) > 0.97


# -- 8. determinism, pickling ----------------------------------------------------
def test_gaussian_determinism_and_pickle():
    X, y, _, _, _ = _overlapping_gaussians(seed=17)
    params = dict(
        event_model="gaussian", n_components_per_class=2, random_state=42
    )
    a = fit_quiet(EMNaiveBayes(**params), X, y)
    b = fit_quiet(EMNaiveBayes(**params), X, y)
    assert_same_fit(a, b, GAUSSIAN_ATTRS)
    c = pickle.loads(pickle.dumps(a))
    assert_same_fit(a, c, GAUSSIAN_ATTRS)
    assert_array_equal(c.predict_proba(X), a.predict_proba(X))
    assert_array_equal(c.predict(X), a.predict(X))
    d = fit_quiet(EMNaiveBayes(**{**params, "random_state": 7}), X, y)
    assert not np.array_equal(d.means_, a.means_)
    # M=1 and the GaussianNB-style attributes survive pickling too.
    e = EMNaiveBayes(event_model="gaussian", covariance_type="tied_diag").fit(X, y)
    f = pickle.loads(pickle.dumps(e))
    assert_array_equal(f.var_, e.var_)
    assert_array_equal(f.theta_, e.theta_)
    assert_array_equal(f.predict_log_proba(X), e.predict_log_proba(X))


def test_bernoulli_determinism_and_pickle():
    X, y, _, _ = bernoulli_mixture(seed=18, n_labeled_per_class=3,
                                   n_unlabeled=200)
    X = sp.csr_matrix(X)
    params = dict(event_model="bernoulli", n_components_per_class=2,
                  random_state=3)
    a = fit_quiet(EMNaiveBayes(**params), X, y)
    b = fit_quiet(EMNaiveBayes(**params), X, y)
    assert_same_fit(a, b, BERNOULLI_ATTRS)
    c = pickle.loads(pickle.dumps(a))
    assert_same_fit(a, c, BERNOULLI_ATTRS)
    assert_array_equal(c.predict_proba(X), a.predict_proba(X))
    # Dense input takes another product (BLAS, not the sparse kernel).
    assert_allclose(
        c.predict_proba(X.toarray()), a.predict_proba(X), rtol=1e-12, atol=0
    )


# -- 10. bad input (the errors every estimator shares: tests/test_common.py) ------
@pytest.fixture(scope="module")
def small_gaussian():
    X, y, _, _, _ = gaussian_mixture(
        seed=19, n_classes=2, n_features=4, n_labeled_per_class=6,
        n_unlabeled=6,
    )
    return X, y


@pytest.mark.parametrize("value", [0.0, 1.0, 0.1, 0.3, 1.1, 3.7, 1 / 3])
def test_gaussian_constant_feature_without_reg_covar_raise(
    small_gaussian, value
):
    # A feature constant within a class has variance 0; with reg_covar=0
    # its density is degenerate. This must be a clear error, whatever the
    # constant: not a model whose "variance" is the rounding error of
    # E[x^2] - mean^2 (e.g. 7e-18 for 0.1), which silently gives
    # probabilities of exactly 0 and 1.
    X, y = small_gaussian
    X, y = X[y >= 0], y[y >= 0]  # labeled rows only: nothing to mix in
    Xc = X.copy()
    Xc[y == 0, 1] = value
    with pytest.raises((FloatingPointError, ValueError), match="reg_covar"):
        clf = EMNaiveBayes(event_model="gaussian", reg_covar=0.0).fit(Xc, y)
        # Reached only if fit did not raise: show what went wrong.
        pytest.fail(
            f"no error; var_[0, 1] = {clf.var_[0, 1]!r}, predict_proba "
            f"{clf.predict_proba(X[:2]).tolist()}"
        )
    # A little regularisation makes it fine.
    clf = EMNaiveBayes(event_model="gaussian", reg_covar=1e-6).fit(Xc, y)
    assert np.all(np.isfinite(clf.predict_log_proba(X)))
    assert clf.var_[0, 1] == pytest.approx(1e-6, rel=1e-6)


# -- capabilities and registration ---------------------------------------------
def poisson_counts(seed=0, n=600):
    rng = np.random.RandomState(seed)
    rates = np.array([[6.0, 1.0, 0.2, 3.0, 0.5], [0.3, 4.0, 2.0, 0.5, 2.5]])
    z = rng.randint(2, size=n)
    X = rng.poisson(rates[z]).astype(float)
    y = np.where(rng.rand(n) < 0.05, z, -1)
    y[:2] = [0, 1]
    return X, y, z, rates


def test_poisson_event_model_is_one_registered_class(tmp_path):
    """A model added as one class in probssl/_events.py: the estimators,
    the sources (in memory, chunks), the tags and validation take it."""
    from probssl._event_base import EVENT_MODELS
    from probssl._events import PoissonEvents

    assert EVENT_MODELS["poisson"] is PoissonEvents
    X, y, z, rates = poisson_counts()
    clf = EMNaiveBayes(event_model="poisson").fit(sp.csr_matrix(X), y)
    assert clf.event_model_ == "poisson" and clf.converged_
    assert clf.score(X, z) > 0.97
    assert_allclose(clf.events_.rate.T, rates, rtol=0.15, atol=0.1)
    # the MAP M-step on fully labeled rows, by hand
    full = EMNaiveBayes(event_model="poisson", alpha=0.5).fit(X, z)
    for k in range(2):
        expect = (0.5 + X[z == k].sum(axis=0)) / (1.0 + (z == k).sum())
        assert_allclose(full.events_.rate[:, k], expect, rtol=1e-12)
    # out of core: the same model
    chunked = EMNaiveBayes(event_model="poisson").fit_chunks(
        [(X[:250], y[:250]), (X[250:], y[250:])])
    assert_allclose(chunked.events_.rate, clf.events_.rate, rtol=1e-8)
    # capabilities, not names: counts are non-negative, sparse is fine
    tags = EMNaiveBayes(event_model="poisson").__sklearn_tags__()
    assert tags.input_tags.sparse and tags.input_tags.positive_only
    with pytest.raises(ValueError, match="Negative values"):
        EMNaiveBayes(event_model="poisson").fit(-X, y)


def test_poisson_objective_never_decreases():
    X, y, _, _ = poisson_counts(seed=1)
    clf = EMNaiveBayes(event_model="poisson", n_components_per_class=2,
                       random_state=0, tol=0, max_iter=15).fit(X, y)
    gains = np.diff(clf.lower_bounds_)
    assert np.all(gains >= -1e-9 * np.abs(clf.lower_bounds_[1:]))


def test_register_refuses_a_second_model_of_the_same_name():
    from probssl._event_base import register
    from probssl._events import PoissonEvents

    class Again(PoissonEvents):
        pass

    with pytest.raises(ValueError, match="already called 'poisson'"):
        register(Again)


def test_no_event_model_names_compared_outside_the_models():
    """What a model is comes from its capabilities: outside the event-model
    modules no code compares event-model names."""
    import pathlib
    import re

    import probssl

    pattern = re.compile(
        r"""(==|!=|\bin)\s*\(?["'](multinomial|bernoulli|gaussian|vmf|"""
        r"""poisson)["']|["'](multinomial|bernoulli|gaussian|vmf|poisson)"""
        r"""["']\s*(==|!=)|in\s+COUNT_MODELS""")
    root = pathlib.Path(probssl.__file__).parent
    own = {"_events.py", "_event_base.py", "_gaussian.py", "_vmf.py"}
    hits = [f"{path.relative_to(root)}:{n}"
            for path in root.rglob("*.py") if path.name not in own
            for n, line in enumerate(path.read_text().splitlines(), 1)
            if pattern.search(line)]
    assert not hits, hits


# -- leave-one-out accuracy -------------------------------------------------------
def _nigam_suff_stats(model, X_lab, y_lab, X_unl, lam):
    """Word counts (C, V) and class counts (C,) of EM's last M-step, from
    the fitted model's final E-step (labeled rows: their labels)."""
    import scipy.sparse as sp

    classes = model.classes_
    Y = (y_lab[:, None] == classes[None, :]).astype(np.float64)
    words = np.asarray((sp.csr_matrix(X_lab).T @ Y).T)
    docs = Y.sum(axis=0)
    if X_unl is not None and X_unl.shape[0] and lam > 0:
        R = model.predict_proba(X_unl)
        words = words + lam * np.asarray((sp.csr_matrix(X_unl).T @ R).T)
        docs = docs + lam * R.sum(axis=0)
    return words, docs


def _nigam_loo_accuracy(model, X_lab, y_lab, X_unl, lam, alpha, prior_smoothing):
    """Leave-one-out accuracy on the labeled rows of a fitted EM model.

    The paper's shortcut: EM is run once on all the data; each labeled
    document is then tested with its own counts subtracted from its
    class's sufficient statistics (word counts, class count), which is
    closed form for a multinomial. The unlabeled rows' soft counts are
    kept as EM left them.
    """
    import scipy.sparse as sp

    X_lab = sp.csr_matrix(X_lab)
    words, docs = _nigam_suff_stats(model, X_lab, y_lab, X_unl, lam)
    V = words.shape[1]
    totals = words.sum(axis=1)
    log_theta = np.log(alpha + words) - np.log(alpha * V + totals)[:, None]
    scores = np.asarray(X_lab @ log_theta.T) + np.log(prior_smoothing + docs)
    own = np.searchsorted(model.classes_, y_lab)
    # The own class's score with the document left out.
    rows = np.repeat(np.arange(X_lab.shape[0]), np.diff(X_lab.indptr))
    v = X_lab.data
    w = X_lab.indices
    left = np.log(alpha + np.maximum(words[own[rows], w] - v, 0.0))
    term = np.bincount(rows, weights=v * left, minlength=X_lab.shape[0])
    length = np.asarray(X_lab.sum(axis=1)).ravel()
    idx = np.arange(X_lab.shape[0])
    scores[idx, own] = (term - length * np.log(alpha * V + totals[own]
                                               - length)
                        + np.log(np.maximum(prior_smoothing + docs[own] - 1,
                                            1e-300)))
    return float(np.mean(model.classes_[scores.argmax(axis=1)] == y_lab))



@pytest.mark.parametrize("lam", [0.0, 0.3, 1.0])
def test_leave_one_out_score_is_nigams_shortcut(lam):
    """The estimator's own leave-one-out equals the protocol's hand-written
    one (the paper's shortcut, written out below), and, without unlabeled
    rows counted, refitting without each labeled row."""
    from probssl.datasets import make_multinomial_mixture

    X, y_true = make_multinomial_mixture(n_samples=150, n_features=40,
                                         n_classes=3, doc_length=30,
                                         random_state=3)
    X = sp.csr_matrix(X)
    y = np.full(150, -1)
    y[:30] = y_true[:30]
    model = EMNaiveBayes(alpha=1.0, prior_smoothing=1.0, unlabeled_weight=lam,
                         tol=1e-12, max_iter=500).fit(X, y)
    ours = model.leave_one_out_score(X, y)
    theirs = _nigam_loo_accuracy(model, X[:30], y[:30], X[30:], lam, 1.0, 1.0)
    assert ours == pytest.approx(theirs)
    if lam == 0.0:
        hits = [EMNaiveBayes(alpha=1.0, prior_smoothing=1.0).fit(
            X[np.delete(np.arange(30), i)], np.delete(y[:30], i)).predict(
                X[i])[0] == y[i] for i in range(30)]
        assert ours == pytest.approx(np.mean(hits))


@pytest.mark.parametrize("params", [
    dict(event_model="gaussian"), dict(event_model="bernoulli"),
    dict(event_model="poisson"),
    dict(event_model="gaussian", covariance_type="full", reg_covar=1e-2)])
def test_leave_one_out_score_equals_refits_for_every_model(params):
    """Every event model's leave-one-out (closed form or generic) is a
    refit without the row (unlabeled_weight=0: naive Bayes)."""
    rng = np.random.RandomState(0)
    if params["event_model"] == "gaussian":
        X = np.vstack([rng.randn(15, 3) - 1, rng.randn(15, 3) + 1])
    else:
        X = np.vstack([rng.poisson([3, 1, 0.5], (15, 3)),
                       rng.poisson([0.5, 1, 3], (15, 3))]).astype(float)
    y = np.repeat([0, 1], 15)
    y[::3] = 1 - y[::3]  # some rows the others do not explain
    model = EMNaiveBayes(unlabeled_weight=0.0, **params).fit(X, y)
    hits = [EMNaiveBayes(**params).fit(np.delete(X, i, 0), np.delete(y, i))
            .predict(X[i:i + 1])[0] == y[i] for i in range(30)]
    assert model.leave_one_out_score(X, y) == pytest.approx(np.mean(hits))
