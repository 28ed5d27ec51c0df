"""scikit-learn's estimator checks, once, over the estimators and the
active learner (each file's own copy of these checks moves here)."""

import warnings

import numpy as np
import pytest
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
KNOWN_UNDOCUMENTED = {"HybridClassifier": {"leave_one_out_"}}


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
