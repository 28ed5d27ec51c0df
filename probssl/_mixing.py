"""Mixing: what differs between the EM estimators, on additive statistics.

The engine (:mod:`probssl._em`) hands the mixing part the responsibility
mass per row kind, ``kinds`` (C + 1, K): row 0 sums the unlabeled rows,
row c + 1 the labeled rows of class c. From it :class:`Mixing` makes its
M-step (mixing weights, class tables, dropped components) and the E-step's
log prior table (C + 1, K): ``table[0]`` for unlabeled rows, ``table[c +
1] = log weights + log beta(c | .)`` for rows labeled c (-inf: a component
the row may not take). ``EMNaiveBayes`` is the case of fixed one-hot class
tables (M components per class); ``MixtureOfExperts`` learns them (EM-I,
EM-II).

Every random start is drawn per row from the row's own position in the
input (:func:`row_uniforms`), so that a start does not depend on how the
rows are blocked: in memory, out of core and on Dask give the same model.
"""

import warnings

import numpy as np

from ._kmeans import KMeansStart, row_uniforms

# A component whose total (weighted) responsibility falls to this fraction
# of the total weight, or below, is dropped.
DEAD_MASS = 1e-10


class Mixing:
    """K components with mixing weights and class tables beta(c | l).

    ``owner[l]``: the class component l starts on (init="labeled"; a class
    that owns none starts on component ``c mod K``). With ``fixed`` the
    class tables stay one-hot on ``owner`` (``EMNaiveBayes``: M components
    per class, labeled rows clamped to their class's components, a prior
    smoothed by ``prior_alpha``, no component dropped). Otherwise
    (``MixtureOfExperts``) EM-I learns the tables from the labeled rows,
    EM-II (``algorithm="em2"``) adds the unlabeled rows' expected joint
    P(l, c | x) = P(l | x) beta(c | l), and a component whose mass falls to
    ``DEAD_MASS`` of the total is dropped, with a warning.
    """

    def __init__(self, n_classes, owner, seed, *, fixed=False,
                 algorithm="em1", init="labeled", prior_alpha=0.0,
                 n_lloyd=30):
        self.C, self.K, self.owner = n_classes, owner.size, owner
        self.fixed, self.em2 = fixed, algorithm == "em2"
        self.init, self.prior_alpha = init, float(prior_alpha)
        self.seed, self.n_lloyd = seed, n_lloyd
        self.hint = ("a class whose prior mass vanished?" if fixed else
                     "a class whose components were all dropped?")

    def n_runs(self, n_init):
        deterministic = self.init == "labeled" and (
            self.fixed or self.K <= self.C)
        return 1 if deterministic else n_init

    def begin(self, source, run, events):
        self.kept = np.arange(self.K)
        self.beta = (np.eye(self.C)[self.owner] if self.fixed else None)
        if self.init == "kmeans":
            self._kmeans = KMeansStart(self.K, self.seed, self.n_lloyd).fit(
                source, run, events)

    def initial_resp(self, block, run):
        n, rc = block.row_class.size, block.row_class
        resp = np.zeros((n, self.K))
        if self.init == "labeled":
            for c in range(self.C):
                comps = np.flatnonzero(self.owner == c)
                comps = comps if comps.size else np.array([c % self.K])
                rows = np.flatnonzero(rc == c)
                # random shares of every row over its class's components
                u = row_uniforms(self.seed, run, block.rows[rows], comps.size)
                resp[rows[:, None], comps] = u / u.sum(axis=1, keepdims=True)
        elif self.init == "random":  # flat Dirichlet draws, one per row
            resp = -np.log(row_uniforms(self.seed, run, block.rows, self.K))
            resp /= resp.sum(axis=1, keepdims=True)
        else:
            resp[np.arange(n), self._kmeans.assign(block)[0]] = 1.0
        return resp * block.weights[:, None]

    # -- EM ------------------------------------------------------------------
    def m_step(self, kinds, n_iter, owner):
        mass = kinds.sum(axis=0)
        dead = (mass <= DEAD_MASS * mass.sum()) & (not self.fixed)
        keep = None
        if dead.any():
            warnings.warn(
                f"{owner}: component(s) {self.kept[dead].tolist()} lost "
                f"(almost) all their mass at iteration {n_iter} and were "
                "dropped; consider fewer components or another init.")
            keep = ~dead
            self.kept, kinds, mass = self.kept[keep], kinds[:, keep], mass[keep]
            if self.beta is not None:
                self.beta = self.beta[keep]
        counts = mass + self.prior_alpha
        with np.errstate(divide="ignore"):
            self.log_weights = np.log(counts) - np.log(counts.sum())
        if self.fixed:
            return None
        counts = kinds[1:].T
        if self.beta is None:  # the first M-step: from the labeled rows
            lab = counts.sum(axis=0)
            self.beta = np.tile(lab / lab.sum(), (self.kept.size, 1))
        elif self.em2 and kinds[0].sum() > 0:
            counts = counts + kinds[0][:, None] * self.beta
        totals = counts.sum(axis=1, keepdims=True)
        # A component without class mass keeps its table (at the start:
        # the labeled class frequencies).
        with np.errstate(invalid="ignore", divide="ignore"):
            self.beta = np.where(totals > 0, counts / totals, self.beta)
        return keep

    def table(self):
        with np.errstate(divide="ignore"):
            return np.vstack([self.log_weights,
                              self.log_weights + np.log(self.beta).T])

    def log_prior(self):
        return (self.prior_alpha * self.log_weights.sum()
                if self.prior_alpha > 0 else 0.0)

    def state(self):
        return {"log_weights": self.log_weights, "beta": self.beta,
                "kept": self.kept}

    def warm(self, state):
        self.log_weights, self.beta = state["log_weights"], state["beta"]
        self.kept = np.arange(self.beta.shape[0])


