"""Breiman et al.'s (1984) waveform generator and its Bayes-optimal rule."""

import numpy as np
import pytest
from scipy.stats import f_oneway

from probssl.datasets.waveform import (
    WAVEFORM_PAIRS,
    waveform_base_waves,
    waveform_bayes_proba,
    waveform_log_likelihood,
)
from probssl.datasets import make_waveform


def test_shapes_and_base_waves():
    X, y = make_waveform(500, random_state=0)
    assert X.shape == (500, 40) and y.shape == (500,) and y.dtype == np.int64
    X21, y21 = make_waveform(500, noise=False, random_state=0)
    assert X21.shape == (500, 21)
    # The noise attributes are drawn last: same signal with and without.
    np.testing.assert_array_equal(X21, X[:, :21])
    np.testing.assert_array_equal(y21, y)
    h = waveform_base_waves()
    assert h.shape == (3, 21) and h.max() == 6 and h.min() == 0
    # Peaks at attributes 11, 15 and 7 (1-based), triangles of half-width 6.
    assert [int(np.argmax(w)) + 1 for w in h] == [11, 15, 7]
    assert [int((w > 0).sum()) for w in h] == [11, 11, 11]


def test_determinism():
    a = make_waveform(300, random_state=42)
    b = make_waveform(300, random_state=42)
    c = make_waveform(300, random_state=43)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])


def test_class_balance():
    n = 30_000
    _, y = make_waveform(n, random_state=1)
    counts = np.bincount(y, minlength=3)
    # Equiprobable classes: each count within 4 binomial standard deviations.
    sd = np.sqrt(n * (1 / 3) * (2 / 3))
    assert np.all(np.abs(counts - n / 3) < 4 * sd), counts


def test_class_means_follow_the_generator():
    # E[x | c] = (h_a + h_b) / 2 since E[u] = 1/2.
    X, y = make_waveform(30_000, random_state=2)
    h = waveform_base_waves()
    for c, (a, b) in enumerate(WAVEFORM_PAIRS):
        mean = X[y == c, :21].mean(axis=0)
        np.testing.assert_allclose(mean, (h[a] + h[b]) / 2, atol=0.08)


def test_noise_attributes_independent_of_class():
    X, y = make_waveform(20_000, random_state=3)
    noise = X[:, 21:]
    # Unit Gaussian, whatever the class.
    np.testing.assert_allclose(noise.mean(axis=0), 0, atol=0.05)
    np.testing.assert_allclose(noise.std(axis=0), 1, atol=0.03)
    # One-way ANOVA per attribute: no class effect on any noise attribute
    # (19 tests at level 1e-3), while every signal attribute but the two
    # ends (where all three base waves are 0) depends strongly on the class.
    p_noise = np.array([f_oneway(*(noise[y == c, j] for c in range(3))).pvalue
                        for j in range(noise.shape[1])])
    assert p_noise.min() > 1e-3, p_noise
    p_signal = np.array([f_oneway(*(X[y == c, j] for c in range(3))).pvalue
                         for j in range(1, 20)])
    assert p_signal.max() < 1e-10
    # The Bayes rule ignores the noise attributes.
    shuffled = X.copy()
    shuffled[:, 21:] = np.random.RandomState(0).permutation(noise)
    np.testing.assert_allclose(waveform_log_likelihood(X[:50]),
                               waveform_log_likelihood(shuffled[:50]))


def test_closed_form_density_matches_quadrature():
    # p(x | c) = int_0^1 N(x; u h_a + (1 - u) h_b, I) du by a fine midpoint
    # rule over u, against the closed form (a difference of normal CDFs).
    X, _ = make_waveform(200, noise=False, random_state=4)
    X = np.vstack([X, X + 3.0, X - 3.0])  # also rows far from every wave
    h = waveform_base_waves()
    u = (np.arange(20_000) + 0.5) / 20_000
    expected = np.empty((X.shape[0], 3))
    for c, (a, b) in enumerate(WAVEFORM_PAIRS):
        means = u[:, None] * h[a] + (1 - u[:, None]) * h[b]      # (U, 21)
        sq = ((X[:, None, :] - means[None]) ** 2).sum(axis=2)    # (n, U)
        log_terms = -0.5 * sq - 10.5 * np.log(2 * np.pi)
        top = log_terms.max(axis=1, keepdims=True)
        expected[:, c] = (top[:, 0]
                          + np.log(np.exp(log_terms - top).mean(axis=1)))
    np.testing.assert_allclose(waveform_log_likelihood(X), expected,
                               rtol=0, atol=1e-6)


def test_bayes_error_about_14_percent():
    # The Bayes-optimal classifier from the generator: error about 14 %
    # (Breiman et al. 1984). Measured here 13.4 % on 200,000 points; the
    # standard error on 50,000 points is 0.15 point.
    X, y = make_waveform(50_000, random_state=5)
    proba = waveform_bayes_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1)
    error = np.mean(proba.argmax(axis=1) != y)
    assert 0.128 < error < 0.142, error


def test_bayes_rule_beats_a_fitted_classifier():
    from sklearn.discriminant_analysis import QuadraticDiscriminantAnalysis

    X, y = make_waveform(6_000, random_state=6)
    qda = QuadraticDiscriminantAnalysis().fit(X[:3000], y[:3000])
    bayes_err = np.mean(waveform_bayes_proba(X[3000:]).argmax(1) != y[3000:])
    assert bayes_err < 1 - qda.score(X[3000:], y[3000:])


@pytest.mark.parametrize("n", [0, -3, 2.5, True])
def test_bad_n_samples(n):
    with pytest.raises(ValueError):
        make_waveform(n)
