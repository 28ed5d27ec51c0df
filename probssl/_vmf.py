"""The von Mises–Fisher event model: directions on the unit sphere.

For unit-norm rows (sentence embeddings, L2-normalised TF-IDF) the density
of component k is (Banerjee, Dhillon, Ghosh & Sra 2005, eq. 2.1)::

    f(x | mu_k, kappa_k) = C_d(kappa_k) exp(kappa_k mu_k' x),
    log C_d(kappa) = (d/2 - 1) log kappa - (d/2) log 2 pi - log I_{d/2-1}(kappa)

so the log-densities of all components are one matrix product ``X @ (kappa
mu)`` plus a constant per component. The statistics are additive: ``X' R``
(d, K) and ``R.sum(0)``. The M-step (their eqs. 2.3-2.4 and 4.4) is::

    r_k = sum_i r_ik x_i,  mu_k = r_k / ||r_k||,  rbar_k = ||r_k|| / n_k,
    kappa_k solves A_d(kappa) = I_{d/2}(kappa) / I_{d/2-1}(kappa) = rbar_k,

started from their approximation ``rbar (d - rbar^2) / (1 - rbar^2)`` (eq.
4.4) and refined by Newton steps with ``A'(kappa) = 1 - A^2 - (d - 1) A /
kappa`` until they stop moving, so the M-step is the maximiser and EM's
objective does not decrease. A shared concentration solves the same with
``rbar = sum_k ||r_k|| / sum_k n_k``.

Bessel functions go through ``scipy.special.ive`` (``log I = log ive +
kappa``), and through the power series in log space where ``ive``
underflows (small kappa against large d), so nothing overflows at
d = 384 and kappa up to 1e6.
"""

import numpy as np
import scipy.sparse as sp
from scipy.special import gammaln, ive, logsumexp

from ._committees import VMFDirectionsPosterior
from ._gaussian import DenseEvents

# |norm - 1| above this is not a unit row (float16/32 embeddings pass).
UNIT_TOL = 1e-3
KAPPA_MIN, KAPPA_MAX = 1e-8, 1e8
_SERIES_TERMS = np.arange(400)


def log_bessel_iv(nu, kappa):
    """``log I_nu(kappa)`` for ``kappa > 0``, without overflow or underflow.

    ``log(ive(nu, kappa)) + kappa`` where ``ive`` is a normal positive
    number; otherwise the power series ``sum_m (kappa/2)^(2m+nu) / (m!
    Gamma(m+nu+1))`` summed in log space (there kappa is small against nu,
    and 400 terms converge).
    """
    kappa = np.atleast_1d(np.asarray(kappa, dtype=np.float64))
    with np.errstate(divide="ignore", over="ignore", under="ignore"):
        v = ive(nu, kappa)
        out = np.log(v) + kappa
    bad = ~(np.isfinite(out) & (v > 1e-290))
    if bad.any():
        m = _SERIES_TERMS
        k = kappa[bad][:, None]
        terms = ((2 * m + nu) * np.log(k / 2) - gammaln(m + 1)
                 - gammaln(m + nu + 1))
        out[bad] = logsumexp(terms, axis=1)
    return out


def log_normalizer(d, kappa):
    """``log C_d(kappa)`` (Banerjee et al. 2005, eq. 2.1)."""
    kappa = np.maximum(np.asarray(kappa, dtype=np.float64), KAPPA_MIN)
    nu = d / 2.0 - 1.0
    return (nu * np.log(kappa) - (d / 2.0) * np.log(2 * np.pi)
            - log_bessel_iv(nu, kappa))


def mean_resultant(d, kappa):
    """``A_d(kappa) = I_{d/2}(kappa) / I_{d/2-1}(kappa)`` in [0, 1)."""
    kappa = np.maximum(np.asarray(kappa, dtype=np.float64), KAPPA_MIN)
    return np.exp(log_bessel_iv(d / 2.0, kappa)
                  - log_bessel_iv(d / 2.0 - 1.0, kappa))


def solve_concentration(d, rbar, n_newton=50, rtol=1e-12):
    """The ML concentration: ``A_d(kappa) = rbar`` (eq. 4.4, then Newton).

    Parameters
    ----------
    d : int
        Dimension of the sphere's ambient space.
    rbar : array-like
        Mean resultant lengths in [0, 1].
    n_newton : int, default=50
        At most this many Newton steps (they stop once a step moves kappa
        by at most ``rtol`` relatively).

    Returns
    -------
    ndarray
        kappa, in [KAPPA_MIN, KAPPA_MAX].
    """
    rbar = np.clip(np.atleast_1d(np.asarray(rbar, dtype=np.float64)),
                   0.0, 1.0 - 1e-15)
    kappa = np.clip(rbar * (d - rbar**2) / (1.0 - rbar**2), KAPPA_MIN,
                    KAPPA_MAX)
    for _ in range(n_newton):
        A = mean_resultant(d, kappa)
        slope = 1.0 - A * A - (d - 1.0) * A / kappa
        step = np.where(slope > 0, (A - rbar) / np.where(slope > 0, slope,
                                                         1.0), 0.0)
        # Never jump below a tenth of the current value (A is concave).
        new = np.clip(np.maximum(kappa - step, kappa / 10), KAPPA_MIN,
                      KAPPA_MAX)
        done = np.all(np.abs(new - kappa) <= rtol * kappa)
        kappa = new
        if done:
            break
    return kappa


class VMFBlock:
    """Unit rows (dense float64 or CSR)."""

    def __init__(self, X):
        if sp.issparse(X):
            X = sp.csr_matrix(X, dtype=np.float64)
            norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1)).ravel())
        else:
            X = np.asarray(X, dtype=np.float64)
            norms = np.sqrt(np.einsum("ij,ij->i", X, X))
        off = np.abs(norms - 1.0) > UNIT_TOL
        if off.any():
            i = int(np.flatnonzero(off)[0])
            raise ValueError(
                f"the vmf event model needs unit-norm rows; row {i} has norm "
                f"{norms[i]:.6g} ({int(off.sum())} row(s) off by more than "
                f"{UNIT_TOL:g}). Normalise them first, e.g. "
                "sklearn.preprocessing.normalize(X).")
        # Exactly unit length: the statistics stay on the sphere.
        if sp.issparse(X):
            self.X = sp.csr_matrix(sp.diags(1.0 / norms) @ X)
        else:
            self.X = np.ascontiguousarray(X / norms[:, None])

    @property
    def shape(self):
        return self.X.shape

    def row(self, i):
        return VMFBlock(self.X[i:i + 1])


class VMFEvents(DenseEvents):
    """K von Mises–Fisher components (Banerjee et al. 2005).

    Parameters
    ----------
    shared : bool, default=False
        One concentration for all components (``covariance_type="tied"``
        or ``"tied_diag"`` in the estimators) instead of one per component.

    Attributes
    ----------
    means : ndarray (K, d)
        Mean directions (unit vectors).
    concentrations : ndarray (K,)
        kappa of every component (equal when shared).
    """

    name = "vmf"
    fitted_attributes = ("means", "concentrations")

    _mu = concentrations = None

    def __init__(self, shared=False):
        self.shared = bool(shared)

    @classmethod
    def from_params(cls, covariance_type="diag", **hyper):
        """One concentration shared when ``covariance_type`` is tied."""
        return cls(shared=covariance_type in ("tied", "tied_diag"))

    def prepare(self, X):
        return X if isinstance(X, VMFBlock) else VMFBlock(X)

    def new_stats(self, K, n_features):
        return [np.zeros((n_features, K)), np.zeros(K)]

    def add_stats(self, stats, block, resp):
        stats[0] += np.asarray(block.X.T @ resp)
        stats[1] += resp.sum(axis=0)

    def m_step(self, stats, changed=None):
        S, nk = stats
        d = S.shape[0]
        length = np.sqrt((S * S).sum(axis=0))
        # A component without mass (or a zero resultant) keeps a finite,
        # unused direction.
        mu = np.where(length > 0, S / np.where(length > 0, length, 1.0),
                      1.0 / np.sqrt(d))
        if self.shared:
            rbar = length.sum() / max(nk.sum(), 1e-300)
            kappa = np.repeat(solve_concentration(d, rbar), nk.size)
        else:
            rbar = np.where(nk > 0, length / np.where(nk > 0, nk, 1.0), 0.0)
            kappa = solve_concentration(d, rbar)
        self._mu, self.concentrations = np.ascontiguousarray(mu), kappa
        self._log_c = log_normalizer(d, kappa)
        return self

    @property
    def means(self):
        return self._mu.T

    def committee(self, stats):
        """The mean directions' posterior, the concentrations as fitted."""
        return VMFDirectionsPosterior(self.means, self.concentrations,
                                      np.sqrt((stats[0]**2).sum(axis=0)),
                                      self._log_c)

    def log_prob(self, X):
        """log f(x | mu_k, kappa_k), shape (n, K): one matrix product."""
        block = self.prepare(X)
        out = np.asarray(block.X @ (self._mu * self.concentrations))
        out += log_normalizer(self._mu.shape[0], self.concentrations)
        return out
