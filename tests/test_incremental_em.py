"""The incremental multinomial EM passes give EM's result.

Within one ``EMNaiveBayes`` fit the multinomial event model skips the rows
whose posterior is saturated (a bound on how far the parameters moved keeps
it exact) and adds to its statistics only the change of the rows that moved
(see ``probssl._kernels``). Here: the fit equals the one with the plain full
passes, the skipping does happen, and the E-step kernel keeps its contract
when a saturated row's lead is, or is not, eroded.
"""

import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal

from probssl import EMNaiveBayes, _kernels
from probssl._incremental import MOVED, IncrementalPasses
from probssl.datasets import make_multinomial_mixture


def corpus(seed=0, n_samples=1500, labeled=0.02, **kw):
    params = dict(n_features=200, n_classes=4, doc_length=60,
                  concentration=0.3, n_components_per_class=2)
    params.update(kw)
    X, y = make_multinomial_mixture(n_samples=n_samples, random_state=seed,
                                    **params)
    rng = np.random.RandomState(seed)
    y = y.copy()
    y[rng.rand(y.size) > labeled] = -1
    y[:params["n_classes"]] = np.arange(params["n_classes"])  # every class
    return sp.csr_matrix(X), y


def fit(params, X, y, sample_weight=None, full=False, monkeypatch=None):
    # tol well above rounding: at tol=0 the last iteration (a gain of
    # exactly zero or not) would be decided by rounding.
    params = {"tol": 1e-12, **params}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # may not converge, on purpose
        if not full:
            return EMNaiveBayes(**params).fit(X, y, sample_weight)
        # one chunk: the full passes of the out-of-core path
        return EMNaiveBayes(**params).fit_chunks([(X, y, sample_weight)])


# Corpora where EM runs 20-60 iterations with a mix of saturated rows
# (skipped) and rows that keep moving (recomputed, added to the statistics).
MIXED = dict(doc_length=60, concentration=0.5, labeled=0.005)
SHARP = dict(doc_length=100, concentration=1.0, labeled=0.005)


@pytest.mark.parametrize(
    "data, params, weighted",
    [
        ({}, {"max_iter": 60}, False),
        (MIXED, {"max_iter": 60, "n_components_per_class": 3,
                 "random_state": 0}, False),
        (SHARP, {"max_iter": 60, "n_components_per_class": 3,
                 "random_state": 0}, False),
        (dict(SHARP, n_classes=8), {"max_iter": 60, "alpha": 0.01}, False),
        (dict(SHARP, n_classes=8), {"max_iter": 60, "unlabeled_weight": 0.3,
                                    "prior_smoothing": 1.0,
                                    "n_components_per_class": 2,
                                    "random_state": 1}, True),
    ],
)
def test_equals_the_full_passes(monkeypatch, data, params, weighted):
    X, y = corpus(seed=1, **data)
    w = None
    if weighted:
        w = np.random.RandomState(2).uniform(0, 3, y.size)
        w[::7] = 0.0
    a = fit(params, X, y, w)
    b = fit(params, X, y, w, full=True, monkeypatch=monkeypatch)
    assert a.n_iter_ == b.n_iter_
    assert_allclose(a.lower_bounds_, b.lower_bounds_, rtol=1e-11)
    assert_allclose(a.feature_log_prob_, b.feature_log_prob_, rtol=0,
                    atol=1e-9)
    assert_allclose(a.class_log_prior_, b.class_log_prior_, rtol=0, atol=1e-9)
    if params.get("n_components_per_class", 1) > 1:
        assert_allclose(a.component_feature_log_prob_,
                        b.component_feature_log_prob_, rtol=0, atol=1e-9)
    assert_allclose(a.predict_proba(X), b.predict_proba(X), rtol=0,
                    atol=1e-9)
    # No statistics pickled with the fitted model: its only (V, K) array
    # is the parameters.
    state = vars(pickle.loads(pickle.dumps(a.events_)))
    assert [k for k, v in state.items() if np.ndim(v) == 2] == ["log_stats"]
    c = pickle.loads(pickle.dumps(a))
    assert_allclose(c.predict_proba(X), a.predict_proba(X), rtol=0, atol=0)


def test_saturated_rows_are_skipped(monkeypatch):
    """On sharp data most rows are skipped by the E-step and left out of
    the M-step once EM settles: the scheme is in use, not just correct."""
    X, y = corpus(seed=3, doc_length=100, n_components_per_class=1)
    seen = []
    e_step = IncrementalPasses.e_step

    def spy(self, *args):
        rows = e_step(self, *args)
        seen.append(((self.gap > _kernels.SATURATED).mean(),
                     self.changed.mean()))
        return rows

    monkeypatch.setattr(IncrementalPasses, "e_step", spy)
    fit({"max_iter": 30}, X, y)
    saturated, changed = seen[-1]
    assert saturated > 0.9
    assert changed < 0.1
    assert seen[0][1] > 0.9  # the first E-step moves every unlabeled row


def _one_row_state(log_stats, gap, top, bound, resp_row):
    """Kernel arguments for a single unlabeled row [2 x word0, 1 x word1]."""
    X = sp.csr_matrix(np.array([[2.0, 1.0]]))
    K = log_stats.shape[1]
    return dict(
        chunks=np.array([0, 1]), indptr=X.indptr.astype(np.int64),
        indices=X.indices, data=X.data, lengths=np.array([3.0]),
        log_stats=log_stats, log_norm=np.zeros(K),
        table=np.log(np.full((2, K), 1.0 / K)), row_bound=0.0,
        norm_bound=0.0, bound=bound, row_class=np.array([-1]),
        weights=np.array([1.0]), tau=MOVED,
        resp=np.array([resp_row], dtype=float), row_loglik=np.zeros(1),
        top=np.array([top]), gap=np.array([gap]),
        changed=np.zeros(1, dtype=np.uint8), delta=np.zeros((1, K)),
    )


def test_e_step_kernel_skips_only_while_the_lead_is_safe():
    # Component 1 now wins by far, but the row was saturated on component 0.
    log_stats = np.log(np.array([[1e-30, 1.0], [1e-30, 1.0]]))
    # 1. The bound says the parameters barely moved: the row is skipped.
    a = _one_row_state(log_stats, gap=100.0, top=0, bound=np.full(2, 1e-3),
                       resp_row=[1.0, 0.0])
    _kernels.csr_posterior_incremental(*a.values())
    assert a["changed"][0] == 0
    assert_array_equal(a["resp"], [[1.0, 0.0]])
    assert a["gap"][0] == pytest.approx(100.0 - 3e-3)
    # Its objective term is its kept responsibilities' share, which the
    # caller adds for every row: nothing is left for the kernel to add.
    assert a["row_loglik"][0] == 0.0
    # 2. The bound admits the move: the row is recomputed and flips.
    b = _one_row_state(log_stats, gap=100.0, top=0, bound=np.full(2, 60.0),
                       resp_row=[1.0, 0.0])
    _kernels.csr_posterior_incremental(*b.values())
    assert b["changed"][0] == 1
    assert b["top"][0] == 1
    assert_allclose(b["resp"], [[0.0, 1.0]], atol=1e-30)
    assert_allclose(b["delta"], [[-1.0, 1.0]], atol=1e-30)
    assert b["gap"][0] == pytest.approx(-3 * np.log(1e-30))
    # A recomputed row: its log-likelihood minus its kept share (on 0).
    jll = np.array([2.0, 1.0]) @ log_stats + np.log(0.5)
    assert b["row_loglik"][0] == pytest.approx(
        np.logaddexp(*jll) - jll[0])
    # 3. A row that was never saturated is always recomputed.
    c = _one_row_state(log_stats, gap=-np.inf, top=0, bound=np.zeros(2),
                       resp_row=[0.5, 0.5])
    _kernels.csr_posterior_incremental(*c.values())
    assert c["changed"][0] == 1 and c["top"][0] == 1


@pytest.mark.parametrize("algorithm", ["em1", "em2"])
@pytest.mark.parametrize("n_components", [None, 8])
def test_mixture_of_experts_equals_the_full_passes(monkeypatch, algorithm,
                                                   n_components):
    from probssl import MixtureOfExperts

    X, y = corpus(seed=4, **SHARP)
    params = dict(algorithm=algorithm, n_components=n_components,
                  init="labeled", alpha=0.1, max_iter=40, tol=1e-12,
                  random_state=0)

    def run():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return MixtureOfExperts(**params).fit(X, y)

    a = run()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        b = MixtureOfExperts(**params).fit_chunks([(X, y)])  # full passes
    assert a.n_iter_ == b.n_iter_
    assert_allclose(a.lower_bounds_, b.lower_bounds_, rtol=1e-11)
    assert_allclose(a.component_feature_log_prob_,
                    b.component_feature_log_prob_, rtol=0, atol=1e-9)
    assert_allclose(a.class_table_, b.class_table_, rtol=0, atol=1e-9)
    assert_allclose(a.weights_, b.weights_, rtol=0, atol=1e-9)
    assert_allclose(a.predict_proba(X), b.predict_proba(X), rtol=0,
                    atol=1e-9)
    state = vars(pickle.loads(pickle.dumps(a.events_)))
    assert [k for k, v in state.items() if np.ndim(v) == 2] == ["log_stats"]


def test_a_warm_start_on_other_rows_equals_the_full_passes():
    """A warm start's first M-step is a full one: the incremental M-step
    only re-takes the logarithms of the statistics that changed, so,
    counted from zero, it would keep the previous fit's parameters of
    every word the new rows lack (here words 0-19)."""
    X, y = corpus(seed=4, n_components_per_class=1)
    X2 = X[600:].tolil()
    X2[:, :20] = 0
    X2 = sp.csr_matrix(X2)
    fits = []
    for full in (False, True):
        first = fit({"max_iter": 5, "warm_start": True}, X[:600], y[:600],
                    full=full)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if full:
                first.fit_chunks([(X2, y[600:])])
            else:
                first.fit(X2, y[600:])
        fits.append(first)
    assert_allclose(fits[0].feature_log_prob_, fits[1].feature_log_prob_,
                    rtol=0, atol=1e-9)
    assert_allclose(fits[0].lower_bounds_, fits[1].lower_bounds_, rtol=1e-12)
