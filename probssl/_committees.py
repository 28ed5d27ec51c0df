"""Parameter posteriors of the event models, for query by committee.

An event model's ``committee(stats)`` gives the posterior of its
parameters given its statistics (McCallum & Nigam 1998, sec. 3): members
are draws from it. Each posterior offers ``posterior_mean``,
``sample(rng, size)`` (a stack of ``size`` draws) and ``log_prob(X,
draws)``, the (size, n, K) log-densities of the rows under every draw;
:mod:`probssl.active` turns them into class posteriors with the fitted
mixing weights and class tables.
"""

import copy

import numpy as np


class DirichletPosterior:
    """Multinomial components whose word distributions have the posterior
    Dirichlet(``concentration``) (K, V): the prior alpha plus the expected
    word counts."""

    def __init__(self, concentration):
        self.concentration = np.ascontiguousarray(concentration, dtype=float)

    @property
    def posterior_mean(self):
        return self.concentration / self.concentration.sum(axis=1,
                                                            keepdims=True)

    def sample(self, rng, size):
        """(size, K, V) log word distributions drawn from the posterior."""
        # Dirichlet = normalised Gamma draws; standard_gamma is vectorised
        # over all members, components and words at once.
        g = rng.standard_gamma(np.broadcast_to(
            self.concentration, (size,) + self.concentration.shape))
        g /= g.sum(axis=2, keepdims=True)
        with np.errstate(divide="ignore"):
            return np.log(g)

    def log_prob(self, X, log_thetas):
        k, J, V = log_thetas.shape
        # One sparse x dense product for the whole committee. A word that
        # drew exactly 0 (tiny concentration) gets the floor, not -inf*0.
        W = np.maximum(log_thetas, -745.0).reshape(k * J, V)
        log_joint = np.asarray(X @ np.ascontiguousarray(W.T))
        return log_joint.reshape(X.shape[0], k, J).transpose(1, 0, 2)


class GaussianMeansPosterior:
    """Gaussian components whose means have the normal posterior
    N(mean, variance / n_eff) (flat prior, the variances taken as known);
    members are the fitted diagonal model (``events``, a
    :class:`probssl._events.GaussianEvents`) with drawn means, so their
    densities are the model's own."""

    def __init__(self, events, n_eff):
        self.events = events
        self.means = np.asarray(events.means, dtype=float)
        self.variances = np.asarray(events.full_variances(), dtype=float)
        self.n_eff = np.maximum(np.asarray(n_eff, dtype=float), 1e-12)

    @property
    def posterior_mean(self):
        return self.means

    def sample(self, rng, size):
        sd = np.sqrt(self.variances / self.n_eff[:, None])
        return self.means + sd * rng.standard_normal((size,) + self.means.shape)

    def log_prob(self, X, means):
        """(k, n, K) log-densities under every member's means."""
        X = X.toarray() if hasattr(X, "toarray") else np.asarray(X, float)
        member = copy.copy(self.events)
        return np.stack([member._set(m, self.events.variances).log_prob(X)
                         for m in means])


class VMFDirectionsPosterior:
    """von Mises–Fisher components whose mean directions have the posterior
    vMF(r_k / |r_k|, kappa_k |r_k|) (a uniform prior on the sphere, the
    concentrations taken as known; ``r_k``: the component's resultant,
    ``sum_i r_ik x_i``); ``log_c``: the components' log-normalisers."""

    def __init__(self, means, concentrations, resultant_lengths, log_c):
        self.means = np.asarray(means, dtype=float)
        self.concentrations = np.asarray(concentrations, dtype=float)
        self.posterior_concentrations = np.maximum(
            self.concentrations * np.asarray(resultant_lengths, float), 1e-8)
        self.log_c = np.asarray(log_c, dtype=float)

    @property
    def posterior_mean(self):
        return self.means

    def sample(self, rng, size):
        """(size, K, d) unit mean directions."""
        from scipy.stats import vonmises_fisher

        out = np.empty((size,) + self.means.shape)
        for k, (mu, kappa) in enumerate(zip(self.means,
                                            self.posterior_concentrations)):
            out[:, k] = vonmises_fisher(mu, kappa).rvs(size, random_state=rng)
        return out

    def log_prob(self, X, directions):
        k, K, d = directions.shape
        W = (directions * self.concentrations[None, :, None]).reshape(k * K, d)
        out = np.asarray(X @ W.T).reshape(X.shape[0], k, K)
        return out.transpose(1, 0, 2) + self.log_c
