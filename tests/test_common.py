"""scikit-learn's estimator checks, once, over the estimators and the
active learner (each file's own copy of these checks moves here)."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.estimator_checks import parametrize_with_checks

from probssl import (CoEM, CoTraining, EMNaiveBayes, HybridClassifier,
                     MixtureOfExperts)
from probssl.active import ActiveLearner

# The one convention of the library that the checks do not know.
EXPECTED_FAILED_CHECKS = {
    "check_classifiers_classes": (
        "The check fits binary labels [-1, 1]; -1 marks unlabeled rows (the "
        "sklearn.semi_supervised convention), so only class 1 is seen. "
        "scikit-learn skips this case by name for its own semi-supervised "
        "estimators."
    ),
}
# Co-training on fully labeled data has no round to run.
NO_ROUND = {
    "check_non_transformer_estimators_n_iter": (
        "The check fits fully labeled data: with no unlabeled row there is "
        "no round to run, and n_iter_ == 0 says so (as for max_iter=0)."
    ),
}
_WEIGHT_CHECKS = ("check_sample_weight_equivalence_on_dense_data",
                  "check_sample_weight_equivalence_on_sparse_data")
# MixtureOfExperts(init="kmeans"): the start is drawn from the rows.
RANDOM_START = dict.fromkeys(_WEIGHT_CHECKS, (
    "The random start (k-means seeds) depends on the rows themselves, "
    "so repeating a row is not the same start as weighting it."))
# HybridClassifier(leave_one_out=True).
LOO_WEIGHT = dict.fromkeys(_WEIGHT_CHECKS, (
    "Leave-one-out removes a row's statistics times its weight: a row of "
    "weight 2 is left out whole, while of two duplicated rows only one "
    "copy is left out. Passes with leave_one_out=False."))

ESTIMATORS = [
    EMNaiveBayes(),
    EMNaiveBayes(event_model="gaussian"),
    EMNaiveBayes(event_model="bernoulli"),
    EMNaiveBayes(event_model="multinomial"),
    EMNaiveBayes(event_model="poisson"),
    EMNaiveBayes(event_model="gaussian", covariance_type="full"),
    EMNaiveBayes(event_model="gaussian", covariance_type="tied",
                 shrinkage="auto"),
    MixtureOfExperts(),
    MixtureOfExperts(event_model="multinomial", algorithm="em2"),
    MixtureOfExperts(n_components=4, init="kmeans", max_iter=20,
                     random_state=0),
    MixtureOfExperts(event_model="gaussian", covariance_type="full",
                     shrinkage=0.1),
    HybridClassifier(),
    HybridClassifier(event_model="multinomial"),
    HybridClassifier(leave_one_out=False),
    HybridClassifier(event_model="multinomial", leave_one_out=False),
    CoTraining(views="random", random_state=0),
    CoEM(views="random", random_state=0, max_iter=3),
    ActiveLearner(EMNaiveBayes(), random_state=0),
    ActiveLearner(EMNaiveBayes(event_model="gaussian"), random_state=0),
]


def expected_failed_checks(estimator):
    if isinstance(estimator, (CoTraining, CoEM)):
        return {**EXPECTED_FAILED_CHECKS, **NO_ROUND}
    if isinstance(estimator, MixtureOfExperts) and estimator.init != "labeled":
        return {**EXPECTED_FAILED_CHECKS, **RANDOM_START}
    if isinstance(estimator, HybridClassifier) and estimator.leave_one_out:
        return {**EXPECTED_FAILED_CHECKS, **LOO_WEIGHT}
    return EXPECTED_FAILED_CHECKS


@parametrize_with_checks(ESTIMATORS,
                         expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        # A class whose rows all weigh 0 leaves its mixture component
        # empty (MixtureOfExperts drops it and says so).
        warnings.filterwarnings("ignore", message=".*were dropped",
                                category=UserWarning)
        check(estimator)


# -- every fitted attribute is documented ---------------------------------------
# hybrid.py is being rewritten on another branch (its safeguard); its
# docstring gains leave_one_out_ there.
KNOWN_UNDOCUMENTED = {}


def _documented_attributes(cls):
    from numpydoc.docscrape import ClassDoc

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        section = ClassDoc(cls)["Attributes"]
    return {name.strip() for item in section
            for name in item.name.split(":")[0].split(",")}


def _fitted_cases():
    from probssl.datasets import make_multinomial_mixture

    X, y = make_multinomial_mixture(n_samples=120, n_features=20,
                                    random_state=0)
    y = np.where(np.arange(120) % 4 == 0, y, -1)
    D = np.random.RandomState(0).randn(120, 4)
    U = D / np.linalg.norm(D, axis=1, keepdims=True)
    return [
        (EMNaiveBayes(), X), (EMNaiveBayes(n_components_per_class=2), X),
        (EMNaiveBayes(event_model="bernoulli"), X),
        (EMNaiveBayes(event_model="poisson"), X),
        (EMNaiveBayes(event_model="gaussian"), D),
        (EMNaiveBayes(event_model="gaussian", covariance_type="full"), D),
        (EMNaiveBayes(event_model="vmf"), U),
        (MixtureOfExperts(), X), (MixtureOfExperts(event_model="gaussian"), D),
        (HybridClassifier(), X),
        (CoTraining(views="random", random_state=0), X),
        (CoEM(views="random", random_state=0), X),
        (ActiveLearner(EMNaiveBayes()), X),
    ], y


@pytest.mark.filterwarnings("ignore")
def test_every_fitted_attribute_is_documented():
    cases, y = _fitted_cases()
    missing = {}
    for est, X in cases:
        est.fit(X, y)
        fitted = {a for a in vars(est) if a.endswith("_")
                  and not a.startswith("_")}
        cls = type(est).__name__
        gap = (fitted - _documented_attributes(type(est))
               - KNOWN_UNDOCUMENTED.get(cls, set()))
        if gap:
            missing[repr(est)] = sorted(gap)
    assert not missing, missing


# -- bad input: the same errors from every estimator ------------------------------
PREDICT = ["predict", "predict_proba", "predict_log_proba",
           "predict_joint_log_proba"]
MOE_PREDICT = PREDICT + ["predict_components", "predict_component_proba"]
# id: (estimator class, its parameters, data, prediction methods)
ERROR_CASES = {
    "EMNaiveBayes": (EMNaiveBayes, {}, "counts", PREDICT),
    "EMNaiveBayes-gaussian": (EMNaiveBayes, {"event_model": "gaussian"},
                              "reals", PREDICT),
    "MixtureOfExperts": (MixtureOfExperts, {}, "counts", MOE_PREDICT),
    "MixtureOfExperts-gaussian": (MixtureOfExperts,
                                  {"event_model": "gaussian"}, "reals",
                                  MOE_PREDICT),
    "HybridClassifier": (HybridClassifier, {}, "counts", PREDICT),
    "HybridClassifier-gaussian": (HybridClassifier,
                                  {"event_model": "gaussian"}, "reals",
                                  PREDICT),
}
COUNT_CASES = [k for k, v in ERROR_CASES.items() if v[2] == "counts"]
REAL_CASES = [k for k, v in ERROR_CASES.items() if v[2] == "reals"]


def _small(kind):
    """16 rows of 2 classes, 5 unlabeled in each: counts, or real values
    (negatives included)."""
    rng = np.random.RandomState(26)
    y_true = np.repeat([0, 1], 8)
    if kind == "counts":
        rates = 1.0 + 3.0 * (y_true[:, None] == np.arange(6) % 2)
        X = rng.poisson(rates).astype(float)
    else:
        X = rng.normal(size=(16, 4)) + 2.0 * y_true[:, None]
    y = y_true.copy()
    y[[3, 4, 5, 6, 7, 11, 12, 13, 14, 15]] = -1
    return X, y


def _case(name):
    cls, params, kind, methods = ERROR_CASES[name]
    X, y = _small(kind)
    return (lambda **kw: cls(**{**params, **kw})), X, y, methods


@pytest.fixture(params=list(ERROR_CASES))
def case(request):
    return _case(request.param)


def test_not_fitted_raise(case):
    from sklearn.exceptions import NotFittedError

    make, X, y, methods = case
    for method in methods:
        with pytest.raises(NotFittedError):
            getattr(make(), method)(X)
    with pytest.raises(NotFittedError):
        make().score(X, y)


def test_no_labeled_rows_raise(case):
    make, X, _, _ = case
    with pytest.raises(ValueError, match="no labeled"):
        make().fit(X, np.full(X.shape[0], -1))


@pytest.mark.parametrize("value, match", [(np.nan, "NaN"),
                                          (np.inf, "infinity")])
def test_non_finite_raise(case, value, match):
    make, X, y, methods = case
    Xb = X.copy()
    Xb[2, 1] = value
    with pytest.raises(ValueError, match=match):
        make().fit(Xb, y)
    # event_model="auto" looks at the values: not at a NaN.
    with pytest.raises(ValueError, match=match):
        make(event_model="auto").fit(Xb, y)
    if X.min() >= 0:
        with pytest.raises(ValueError, match=match):
            make().fit(sp.csr_matrix(Xb), y)
    clf = make().fit(X, y)
    for method in methods:
        with pytest.raises(ValueError, match=match):
            getattr(clf, method)(Xb)
    with pytest.raises(ValueError, match=match):
        clf.score(Xb, y)


@pytest.mark.parametrize("name", COUNT_CASES)
def test_negative_counts_raise(name):
    make, X, y, methods = _case(name)
    Xn = X.copy()
    Xn[1, 2] = -1.0
    with pytest.raises(ValueError, match="Negative"):
        make(event_model="multinomial").fit(Xn, y)
    with pytest.raises(ValueError, match="Negative"):
        make().fit(sp.csr_matrix(Xn), y)
    # Dense real values, negatives included, are embeddings for "auto".
    assert make().fit(Xn, y).event_model_ == "gaussian"
    clf = make().fit(X, y)
    assert clf.event_model_ == "multinomial"
    for method in methods:
        with pytest.raises(ValueError, match="Negative"):
            getattr(clf, method)(Xn)
        with pytest.raises(ValueError, match="Negative"):
            getattr(clf, method)(sp.csr_matrix(Xn))


@pytest.mark.parametrize("name", REAL_CASES)
def test_gaussian_rejects_sparse(name):
    make, X, y, methods = _case(name)
    with pytest.raises(TypeError, match="dense"):
        make().fit(sp.csr_matrix(X), y)
    clf = make(event_model="auto").fit(X, y)
    assert clf.event_model_ == "gaussian"
    for method in methods:
        with pytest.raises(TypeError, match="dense"):
            getattr(clf, method)(sp.csr_matrix(X))
    with pytest.raises(TypeError, match="dense"):
        clf.score(sp.csr_matrix(X), y)


def test_wrong_number_of_features_raise(case):
    make, X, y, methods = case
    clf = make().fit(X, y)
    for method in methods:
        with pytest.raises(ValueError, match="features"):
            getattr(clf, method)(X[:, :-1])
        with pytest.raises(ValueError, match="features"):
            getattr(clf, method)(np.hstack([X, X]))
    if X.min() >= 0:
        with pytest.raises(ValueError, match="features"):
            clf.predict(sp.csr_matrix(np.hstack([X, X])))
    with pytest.raises(ValueError, match="features"):
        clf.score(X[:, :-1], y)


def test_non_numeric_x_raise(case):
    make, X, y, _ = case
    with pytest.raises((ValueError, TypeError)):
        make().fit(np.array([["a", "b"]] * X.shape[0]), y)
    clf = make().fit(X, y)
    with pytest.raises((ValueError, TypeError)):
        clf.predict(np.array([["a"] * X.shape[1]]))


def test_bad_y_raise(case):
    make, X, y, _ = case
    y_nan = y.astype(float)
    y_nan[3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        make().fit(X, y_nan)
    with pytest.raises(ValueError, match="inconsistent"):
        make().fit(X, y[:-1])
    with pytest.raises(ValueError, match="Unknown label type"):
        make().fit(X, np.linspace(0.1, 0.9, X.shape[0]))


def test_bad_sample_weight_raise(case):
    make, X, y, _ = case
    with pytest.raises(ValueError, match="Negative"):
        make().fit(X, y, sample_weight=np.full(X.shape[0], -1.0))
    with pytest.raises(ValueError, match="labeled row has sample_weight 0"):
        make().fit(X, y, sample_weight=np.where(y >= 0, 0.0, 1.0))
    with pytest.raises(ValueError):
        make().fit(X, y, sample_weight=np.ones(X.shape[0] + 1))


def test_score_with_unseen_label_raise(case):
    make, X, y, _ = case
    clf = make().fit(X, y)
    y_bad = y.copy()
    y_bad[0] = 7
    with pytest.raises(ValueError, match="not seen"):
        clf.score(X, y_bad)
    with pytest.raises(ValueError, match="at least one labeled"):
        clf.score(X, np.full(X.shape[0], -1))
    clf = make().fit(X, np.where(y == 0, "a", "b"))
    with pytest.raises(ValueError, match="not seen"):
        clf.score(X, np.where(y == 0, "a", "c"))


BAD_PARAMETERS = [(EMNaiveBayes, p) for p in [
    {"alpha": 0}, {"alpha": -1}, {"alpha": "a"}, {"unlabeled_weight": -0.5},
    {"n_components_per_class": 0}, {"n_components_per_class": 1.5},
    {"max_iter": 0}, {"tol": -1}, {"prior_smoothing": -1.0},
    {"random_state": "seed"}, {"reg_covar": -1}, {"reg_covar": "a"},
    {"covariance_type": "banana"}, {"event_model": "gamma"},
    {"event_model": None}, {"binarize": "yes"},
]] + [(MixtureOfExperts, p) for p in [
    {"n_components": 0}, {"n_components": 1.5}, {"event_model": "gamma"},
    {"algorithm": "em3"}, {"alpha": 0}, {"reg_covar": -1}, {"max_iter": 0},
    {"tol": -1}, {"n_init": 0}, {"init": "kmeans++"},
    {"random_state": "seed"}, {"covariance_type": "banana"},
    {"binarize": "yes"},
]] + [(HybridClassifier, p) for p in [
    {"C": 0.0}, {"alpha": 0}, {"event_model": "gamma"}, {"max_iter": 0},
    {"tol": -1},
]]


@pytest.mark.parametrize("cls, params", BAD_PARAMETERS,
                         ids=[f"{c.__name__}-{p}" for c, p in BAD_PARAMETERS])
def test_bad_hyperparameters_raise(cls, params):
    from sklearn.utils._param_validation import InvalidParameterError

    X, y = _small("counts")
    with pytest.raises(InvalidParameterError,
                       match=f"parameter of {cls.__name__}"):
        cls(**params).fit(X, y)
    assert issubclass(InvalidParameterError, ValueError)
    assert issubclass(InvalidParameterError, TypeError)


# -- every event model is documented where it can be chosen -----------------------
# hybrid.py is being rewritten on another branch; its docstring is fixed there.
KNOWN_UNLISTED = {}


@pytest.mark.parametrize("cls", [EMNaiveBayes, MixtureOfExperts,
                                 HybridClassifier])
def test_every_event_model_is_documented(cls):
    import re

    from numpydoc.docscrape import ClassDoc

    from probssl._event_base import EVENT_MODELS

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        doc = ClassDoc(cls)
    (param,) = [p for p in doc["Parameters"] if p.name == "event_model"]
    listed = set(re.findall(r'"(\w+)"', param.type))
    assert listed | KNOWN_UNLISTED.get(cls.__name__, set()) == {
        "auto", *EVENT_MODELS}
    # The summary names no one event model: the estimator has them all.
    assert "multinomial" not in " ".join(doc["Summary"]).lower()
