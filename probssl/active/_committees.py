"""Query-by-committee members from a fitted model's parameter posterior.

The posterior of the parameters comes from the event model itself
(``events_.committee(statistics)``, :mod:`probssl._committees`: a
Dirichlet over every component's word distribution for the multinomial
model, the means' normal posterior for the diagonal Gaussians), given the
statistics of the fit's final parameters; the mixing weights and class
tables stay at their fitted values. scikit-learn's ``MultinomialNB`` and
``GaussianNB`` keep their counts, which give the same posteriors.
"""

import numpy as np
from scipy.special import logsumexp

from .._committees import DirichletPosterior, GaussianMeansPosterior
from .._events import GaussianEvents


def class_log_proba(log_joint, log_beta):
    """log P(c | x) from component log joints (..., J) and log beta (J, C)
    (None: component j is class j)."""
    if log_beta is None:
        out = log_joint
    else:
        out = logsumexp(log_joint[..., :, None] + log_beta, axis=-2)
    return out - logsumexp(out, axis=-1, keepdims=True)


class Committee:
    """A parameter posterior with the model's mixing weights (J,) and class
    tables ``log_beta`` (J, C): ``sample`` draws members, and
    ``member_log_proba`` gives their class posteriors."""

    def __init__(self, posterior, log_weights, log_beta):
        self.posterior = posterior
        self.log_weights = np.asarray(log_weights, dtype=float)
        self.log_beta = log_beta

    def __getattr__(self, name):  # concentration, means, ...
        if name == "posterior":
            raise AttributeError(name)
        return getattr(self.posterior, name)

    @property
    def posterior_mean(self):
        return self.posterior.posterior_mean

    def sample(self, rng, size):
        return self.posterior.sample(rng, size)

    def member_log_proba(self, X, draws):
        """(members, n, C) class log posteriors of every member."""
        return class_log_proba(self.posterior.log_prob(X, draws)
                               + self.log_weights, self.log_beta)


def _log_class_table(beta):
    """log beta, or None when component j is class j."""
    beta = np.asarray(beta, dtype=float)
    if beta.shape[0] == beta.shape[1] and np.array_equal(
            beta, np.eye(beta.shape[0])):
        return None
    with np.errstate(divide="ignore"):
        return np.log(beta)


def posterior_committee(est):
    """The committee of a fitted estimator, or None when its model has no
    parameter posterior here (the caller bootstraps)."""
    name = type(est).__name__
    if type(est).__module__.startswith("sklearn.naive_bayes"):
        if name == "MultinomialNB":
            # scikit-learn keeps the counts: Dirichlet(alpha + counts).
            alpha = np.asarray(est.alpha, float)
            if alpha.ndim == 1 and alpha.size != est.feature_count_.shape[1]:
                return None
            return Committee(DirichletPosterior(est.feature_count_ + alpha),
                             est.class_log_prior_, None)
        if name == "GaussianNB":
            events = GaussianEvents("diag")._set(est.theta_, est.var_)
            return Committee(GaussianMeansPosterior(events, est.class_count_),
                             np.log(est.class_prior_), None)
        return None
    statistics = getattr(est, "_statistics", None)
    state = getattr(est, "_mixing_state", None)
    if statistics is None or state is None:
        return None
    posterior = est.events_.committee(statistics.events)
    if posterior is None:
        return None
    return Committee(posterior, state["log_weights"],
                     _log_class_table(state["beta"]))
