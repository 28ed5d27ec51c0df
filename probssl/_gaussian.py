"""Gaussian event models with full covariances: one per component ("full")
or one shared by all components ("tied"), as scikit-learn's
``GaussianMixture``, with optional shrinkage as ``LinearDiscriminantAnalysis``.

The statistics are additive sums over rows (so EM runs in memory, out of
core and on Dask alike), taken about a *shift* that every block knows: the
means of the parameters that made the pass (the origin for the first pass
from a start). Moments about the previous means keep ``E[xx'] - mu mu'``
from cancelling when the data sit far from the origin::

    full:  S1[:, k] = sum_i r_ik (x_i - m_k),  S2[:, :, k] = sum_i r_ik u u'
    tied:  S1[:, k] = sum_i r_ik (x_i - s),    S2 = sum_i w_i (x_i - s)(x_i - s)'

(``u = x_i - m_k``; ``s`` the previous overall mean; ``w_i = sum_k r_ik``).
Log-densities go through the Cholesky factor of each precision: one
triangular ``(n, d) @ (d, d)`` product per component ("full") or one
product for all ("tied"), never an (n, K, d) array. The products run one
BLAS thread each, as tasks (a component, or a fixed block of rows) dealt
to the threads :mod:`probssl._threads` chooses: a core that another
process keeps busy then costs the tasks it did not take, not a stalled
multi-threaded product; results do not depend on the thread count.

This module does not import :mod:`probssl._events` (which dispatches to
it); the generic parts of the protocol come from
:class:`probssl._event_base.EventModel`.
"""

import threading
import warnings

import numpy as np
import scipy.sparse as sp
from scipy.linalg.blas import dtrmm as _dtrmm
from scipy.linalg.lapack import dpotrf as _dpotrf
from scipy.linalg.lapack import dtrtri as _dtrtri

from . import _threads
from ._em import caller_stacklevel
from ._event_base import EventModel

SHRINKAGE_HELP = "None, a float in [0, 1] or 'auto'"


class DenseEvents(EventModel):
    """The dense models here and in :mod:`probssl._vmf`: no column order."""

    _feature_params = ()


class DenseBlock:
    """Dense float64 rows (C-contiguous), the layout of the full models."""

    def __init__(self, X):
        if sp.issparse(X):
            raise TypeError("the full / tied Gaussian event models need "
                            "dense X; pass X.toarray().")
        self.X = np.ascontiguousarray(X, dtype=np.float64)

    @property
    def shape(self):
        return self.X.shape

    def row(self, i):
        return DenseBlock(self.X[i:i + 1])


def warn_below_reg_covar(owner, variances, means, nk, reg_covar):
    """Warn (once per model: ``owner._scale_checked``) when even the
    largest variance of the data (about their mean, from the components'
    ``variances``, ``means`` and masses ``nk``) lies far below
    ``reg_covar``, which then swamps the data's spread: the model predicts
    near chance (features of scale 1e-150 with the default 1e-6)."""
    if getattr(owner, "_scale_checked", False) or reg_covar <= 0:
        return
    owner._scale_checked = True
    share = nk / max(nk.sum(), 1e-300)
    means = np.atleast_2d(means)
    spread = (means - share @ means) ** 2
    variances = np.broadcast_to(variances, means.shape)
    largest = float(np.max(share @ (variances + spread)))
    if largest < 0.01 * reg_covar:
        warnings.warn(
            f"the data's variances (at most {largest:.3g} per feature) are "
            f"far below reg_covar={reg_covar:g}, which swamps them: the model "
            "sees almost no spread and may predict near chance. Rescale X "
            "(e.g. sklearn.preprocessing.StandardScaler) or lower "
            "reg_covar.", UserWarning, stacklevel=caller_stacklevel())


def weighted_gram(U, w):
    """``U' diag(w) U``; as ``V' V`` with ``V = sqrt(w) U`` when no weight
    is negative, which BLAS computes as a symmetric rank-k update (half the
    multiply-adds of a general product)."""
    if np.all(w >= 0):
        V = np.sqrt(w)[:, None] * U
        return V.T @ V
    return U.T @ (w[:, None] * U)  # a row taken out (leave-one-out)


ROW_BLOCK = 2048  # rows per task of the tied model's products


def row_blocks(n, size=ROW_BLOCK):
    """Boundaries of fixed blocks of ``size`` rows (whatever the threads,
    so that sums over blocks do not depend on them)."""
    return np.append(np.arange(0, n, size), n)


def row_block_gram(U, w):
    """``U' diag(w) U`` as :func:`weighted_gram` of fixed row blocks,
    computed on the threads one block at a time and summed in block order."""
    bounds = row_blocks(U.shape[0])
    if bounds.size <= 2:
        with _threads.single_blas():
            return weighted_gram(U, w)
    parts = np.empty((bounds.size - 1, U.shape[1], U.shape[1]))

    def block(b):
        lo, hi = bounds[b], bounds[b + 1]
        parts[b] = weighted_gram(U[lo:hi], w[lo:hi])

    _threads.run_tasks(block, bounds.size - 1)
    return parts.sum(axis=0)


class _Scratch(threading.local):
    """One (n, d) work array per thread, for one call's tasks: a fresh
    array per component paid the operating system's page faults of a
    27 MB allocation each time (a sixth of a full-covariance fit on the
    seed embeddings); the arrays go when the call ends."""

    def get(self, shape):
        buf = getattr(self, "buf", None)
        if buf is None or buf.shape != shape:
            buf = self.buf = np.empty(shape)
        return buf


def _nogil_dtrmm():
    """BLAS ``dtrmm`` called through ctypes, which lets go of the GIL for
    the call (SciPy's ``scipy.linalg.blas.dtrmm`` holds it: the
    components' triangular products ran one at a time whatever the
    threads); None where SciPy's Cython BLAS table is not available."""
    try:
        import ctypes

        from scipy.linalg import cython_blas

        capsule = cython_blas.__pyx_capi__["dtrmm"]
        api = ctypes.pythonapi
        api.PyCapsule_GetName.restype = ctypes.c_char_p
        api.PyCapsule_GetName.argtypes = [ctypes.py_object]
        api.PyCapsule_GetPointer.restype = ctypes.c_void_p
        api.PyCapsule_GetPointer.argtypes = [ctypes.py_object,
                                             ctypes.c_char_p]
        address = api.PyCapsule_GetPointer(capsule,
                                           api.PyCapsule_GetName(capsule))
    except (ImportError, AttributeError, KeyError, ValueError):
        return None
    ptr = ctypes.c_void_p
    return ctypes.CFUNCTYPE(None, *[ptr] * 11)(address)


_DTRMM = _nogil_dtrmm()


def _trmm(P, Y):
    """``Y @ P`` in place for an upper triangular ``P`` and a C-ordered
    ``Y``: BLAS ``trmm`` on the Fortran views (``P' Y'``, ``P'`` lower)."""
    if _DTRMM is None or not (P.flags.c_contiguous and Y.flags.c_contiguous
                              and P.dtype == Y.dtype == np.float64):
        return _dtrmm(1.0, P.T, Y.T, side=0, lower=1, trans_a=0,
                      overwrite_b=1).T
    import ctypes

    n, d = Y.shape
    chars = [ctypes.c_char_p(c) for c in (b"L", b"L", b"N", b"N")]
    ints = [ctypes.c_int(v) for v in (d, n, d, d)]
    alpha = ctypes.c_double(1.0)
    ref = ctypes.addressof
    _DTRMM(*[ctypes.cast(c, ctypes.c_void_p) for c in chars],
           ref(ints[0]), ref(ints[1]), ref(alpha),
           P.ctypes.data, ref(ints[2]), Y.ctypes.data, ref(ints[3]))
    return Y


def check_shrinkage(shrinkage):
    """``shrinkage`` validated: None, a float in [0, 1] or "auto"."""
    if shrinkage is None or (isinstance(shrinkage, str)
                             and shrinkage == "auto"):
        return shrinkage
    if isinstance(shrinkage, (bool, np.bool_)) or not np.isscalar(shrinkage):
        raise ValueError(f"shrinkage must be {SHRINKAGE_HELP}, got "
                         f"{shrinkage!r}.")
    value = float(shrinkage)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"shrinkage must be {SHRINKAGE_HELP}, got "
                         f"{shrinkage!r}.")
    return value


def ledoit_wolf_shrinkage(S, n, fourth):
    """Ledoit & Wolf's (2004) shrinkage intensity of a standardised
    covariance, from moments (as ``sklearn.covariance.ledoit_wolf_shrinkage``
    on the standardised, centred rows).

    Parameters
    ----------
    S : ndarray (d, d)
        The standardised covariance ``D^-1/2 C D^-1/2`` (weighted, / n).
    n : float
        Total weight of the rows.
    fourth : float
        ``sum_i w_i ||z_i||^4`` of the standardised centred rows.

    Returns
    -------
    float in [0, 1]
    """
    d = S.shape[0]
    trace = np.diag(S)
    mu = trace.sum() / d
    delta_ = (S * S).sum()                       # ||S||_F^2
    beta = (fourth / n - delta_) / (d * n)
    delta = (delta_ - 2.0 * mu * trace.sum() + d * mu**2) / d
    beta = min(beta, delta)
    return 0.0 if beta <= 0 else float(beta / delta)


class FullGaussianEvents(DenseEvents):
    """K Gaussians with full covariances, for dense embeddings.

    Parameters
    ----------
    covariance_type : {"full", "tied"}
        ``"full"``: a covariance per component; ``"tied"``: one covariance
        shared by all components (scikit-learn's meanings).
    reg_covar : float, default=1e-6
        Added to the diagonal of every covariance (``GaussianMixture``'s
        ``reg_covar``), after shrinkage.
    shrinkage : None, float in [0, 1] or "auto", default=None
        ``None``: the maximum-likelihood M-step (``GaussianMixture``'s).
        A float ``a``: ``(1 - a) C + a (tr C / d) I`` per component, as
        ``sklearn.covariance.shrunk_covariance`` and the ``"lsqr"`` solver
        of ``LinearDiscriminantAnalysis``. ``"auto"``: the Ledoit–Wolf
        intensity of each component's standardised covariance and a
        diagonal target, ``(1 - a_k) C_k + a_k mu_k diag(C_k)``
        (``mu_k``: the mean standardised variance), which is what
        ``LinearDiscriminantAnalysis(shrinkage="auto")`` does per class;
        "tied" then pools the shrunk covariances with the component masses
        as weights. Everything is computed from the weighted statistics.

    Notes
    -----
    The M-step is (Bishop 2006, eqs. 9.24-9.25; the tied pooling as
    ``GaussianMixture``)::

        mu_k = sum_i r_ik x_i / n_k,
        C_k  = sum_i r_ik (x_i - mu_k)(x_i - mu_k)' / n_k,
        C    = sum_k n_k C_k / sum_k n_k                    ("tied")

    and ``log N(x | mu, C) = -d/2 log 2 pi + log det P - ||P'(x - mu)||^2 / 2``
    with ``P = L^-T`` (``C = L L'``, Cholesky), as scikit-learn's
    ``precisions_cholesky_``. Estimates are maximum likelihood
    (``log_prior()`` is 0); ``reg_covar`` and shrinkage make them
    regularised estimates rather than exact maximisers, so EM's objective
    is monotone only for ``shrinkage=None`` (up to terms in ``reg_covar``).
    The ``"auto"`` statistics add the third and fourth moments Ledoit–Wolf
    needs (two more (d, d, K) sums), expanded about the shift so that they
    are exact whatever it is.
    """

    name = "gaussian"
    sparse_input = spherical = False
    centred = True
    fitted_attributes = ("means", "variances", "covariances")

    means = covariances = precisions_cholesky = None
    shift = _shift = _stats_shift = None  # shift: set by the source

    def __init__(self, covariance_type="full", reg_covar=1e-6,
                 shrinkage=None):
        if covariance_type not in ("full", "tied"):
            raise ValueError("FullGaussianEvents: covariance_type must be "
                             f"'full' or 'tied', got {covariance_type!r}.")
        self.covariance_type = covariance_type
        self.reg_covar = float(reg_covar)
        self.shrinkage = check_shrinkage(shrinkage)

    @property
    def _pooled(self):
        """Tied without "auto": one pooled (d, d) second moment."""
        return self.covariance_type == "tied" and self.shrinkage != "auto"

    @property
    def shared(self):
        return self.covariance_type == "tied"

    def _loo_model(self):
        loo = super()._loo_model()
        loo._shift = self._stats_shift  # what the statistics are about
        return loo

    @staticmethod
    def prepare(X):
        return X if isinstance(X, DenseBlock) else DenseBlock(X)

    # -- statistics ------------------------------------------------------------
    def new_stats(self, K, n_features):
        d = n_features
        S2 = np.zeros((d, d) if self._pooled else (d, d, K))
        stats = [np.zeros((d, K)), S2, np.zeros(K)]
        if self.shrinkage == "auto":  # third and fourth moments
            stats += [np.zeros((d, d, K)), np.zeros((d, d, K))]
        return stats

    def select(self, stats, keep):
        """Components in ``keep``; the pooled (d, d) sum has no component
        axis, and the shifts follow the kept components."""
        if self._shift is not None and self._shift.ndim == 2:
            self._shift = self._shift[:, keep]
        return [s if self._pooled and i == 1 else s[..., keep]
                for i, s in enumerate(stats)]

    def current_shift(self, K, d):
        """The shift of the next pass: (d, K) per component ("full",
        "auto"), (d,) ("tied"). Before the first M-step, the column means
        the source set (``shift``; the origin when None)."""
        if self._shift is None:
            base = np.zeros(d) if self.shift is None else np.asarray(
                self.shift, dtype=np.float64)
            return base if self._pooled else np.repeat(base[:, None], K, 1)
        return self._shift

    def add_stats(self, stats, block, resp):
        X = block.X
        n, d = X.shape
        K = resp.shape[1]
        shift = self.current_shift(K, d)
        stats[2] += resp.sum(axis=0)
        if self._pooled:
            U = X - shift
            stats[0] += U.T @ resp
            stats[1] += row_block_gram(U, resp.sum(axis=1))
            return
        auto = self.shrinkage == "auto"
        # One task per component (its products on one BLAS thread, its
        # outputs its own), dealt to the threads one at a time: a thread
        # on a busy core does fewer components instead of holding up a
        # multi-threaded product. Products into contiguous (d, d) slabs,
        # added to the (d, d, K) layout (components last, as the engine
        # selects them) once.
        second = np.empty((3 if auto else 1, K, d, d))
        first = np.empty((K, d))
        scratch = _Scratch()

        def component(k):
            r = resp[:, k]
            rows = np.flatnonzero(r)
            # Rows of weight 0 add nothing: a start from the labeled rows,
            # or the labeled rows of the other classes, are left out.
            Xk = X if rows.size > 0.75 * n else X[rows]
            r = r if rows.size > 0.75 * n else r[rows]
            U = np.subtract(Xk, shift[:, k], out=scratch.get(Xk.shape))
            first[k] = r @ U                        # sum_i r_i u_i
            if np.all(r >= 0):
                V = np.multiply(U, np.sqrt(r)[:, None],
                                out=None if auto else U)
                second[0, k] = V.T @ V              # a rank-k update
            else:                                   # a row taken out
                second[0, k] = U.T @ (r[:, None] * U)
            if auto:
                rU = r[:, None] * U
                U2 = np.multiply(U, U, out=U)
                np.dot(U2.T, rU, out=second[1, k])
                np.multiply(U2, r[:, None], out=rU)
                np.dot(U2.T, rU, out=second[2, k])

        _threads.run_tasks(component, K)
        stats[0] += first.T
        for j, s in enumerate(second):
            stats[1 if j == 0 else j + 2] += np.moveaxis(s, 0, -1)

    # -- M-step ------------------------------------------------------------------
    def _moments(self, stats):
        """Means (K, d) and ML covariances (K, d, d) or (d, d) (pooled)
        from the statistics about the shift."""
        S1, S2, nk = stats[0], stats[1], stats[2]
        d, K = S1.shape
        shift = self.current_shift(K, d)
        safe = np.where(nk > 0, nk, 1.0)
        delta = (S1 / safe).T                           # mean - shift (K, d)
        if self._pooled:
            means = delta + shift
            cov = (S2 - (S1 * (nk > 0) / safe) @ S1.T) / max(nk.sum(), 1e-300)
            return means, 0.5 * (cov + cov.T)
        means = delta + shift.T
        cov = (np.moveaxis(S2, -1, 0) / safe[:, None, None]
               - delta[:, :, None] * delta[:, None, :])
        return means, 0.5 * (cov + np.swapaxes(cov, 1, 2))

    def _auto_intensity(self, stats, cov, delta, k):
        """Ledoit–Wolf intensity of component k from the moments about its
        shift: ``sum_i r ||D^-1/2 (x_i - mu_k)||^4`` expanded in the moments
        about the shift (``u = x - m``, ``e = mu - m``)."""
        S1, S2, nk, T, Q = (s[..., k] for s in stats)
        D = np.diag(cov).copy()
        D[D <= 0] = 1.0                                 # StandardScaler's rule
        w, e = 1.0 / D, delta
        we = w * e
        c = float(we @ e)
        A2 = w @ Q @ w                                  # sum r A^2
        B2 = we @ S2 @ we                               # sum r B^2
        AB = w @ T @ we                                 # sum r A B
        A1 = w @ np.diag(S2)                            # sum r A
        B1 = we @ S1                                    # sum r B
        fourth = (A2 + 4 * B2 + c * c * nk - 4 * AB + 2 * c * A1
                  - 4 * c * B1)
        s = 1.0 / np.sqrt(D)
        R = s[:, None] * cov * s[None, :]
        return ledoit_wolf_shrinkage(R, nk, max(fourth, 0.0)), D, R

    def _shrunk(self, stats, means, cov):
        a = self.shrinkage
        if a is None:
            return cov
        d = means.shape[1]
        if a != "auto":
            target = np.trace(cov, axis1=-2, axis2=-1) / d
            out = (1.0 - a) * cov
            idx = np.arange(d)
            out[..., idx, idx] += a * np.asarray(target)[..., None]
            return out
        nk = stats[2]
        K = nk.size
        delta = means - self.current_shift(K, d).T
        out = np.empty_like(cov)
        for k in range(K):
            if nk[k] <= 0:
                out[k] = cov[k]
                continue
            a_k, D, R = self._auto_intensity(stats, cov[k], delta[k], k)
            mu = np.trace(R) / d
            out[k] = (1.0 - a_k) * cov[k]
            out[k][np.diag_indices(d)] += a_k * mu * D
        if self.covariance_type == "tied":
            out = np.tensordot(nk / nk.sum(), out, axes=1)
        return out

    def m_step(self, stats, changed=None):
        means, cov = self._moments(stats)
        cov = self._shrunk(stats, means, cov)
        cov = cov.copy()
        d = means.shape[1]
        warn_below_reg_covar(self, np.diagonal(cov, axis1=-2, axis2=-1),
                             means, stats[2], self.reg_covar)
        cov[..., np.arange(d), np.arange(d)] += self.reg_covar
        prec_chol = self.cholesky_precisions(cov)
        self.means, self.covariances = means, cov
        self.precisions_cholesky = prec_chol
        # The next pass's moments are taken about these means.
        nk = stats[2]
        self._stats_shift = self._shift   # what these statistics used
        self._shift = (np.ascontiguousarray(means.T) if not self._pooled
                       else nk @ means / max(nk.sum(), 1e-300))
        self._cache_log_prob_terms()
        return self

    @staticmethod
    def cholesky_precisions(cov):
        """``P = L^-T`` of every covariance ``C = L L'`` (upper triangular),
        as scikit-learn's ``_compute_precision_cholesky``: one task per
        component on one BLAS thread (LAPACK's factorisation on several
        threads spins them against each other on a busy machine)."""
        single = cov.ndim == 2
        covs = cov[None] if single else cov
        out = np.empty_like(covs)
        failed = []

        def component(k):
            L, info = _dpotrf(covs[k], lower=1, clean=1)
            if info == 0:
                inv, info = _dtrtri(L, lower=1)
            if info != 0:
                failed.append(k)
                return
            out[k] = inv.T

        _threads.run_tasks(component, covs.shape[0])
        if failed:
            raise FloatingPointError(
                "A Gaussian covariance is not positive definite (a "
                "component on fewer rows than features, or a constant "
                "feature); raise reg_covar or set shrinkage.")
        return out[0] if single else out

    def _cache_log_prob_terms(self):
        P = self.precisions_cholesky
        d = self.means.shape[1]
        # Rows are moved by the mean of the means first, so that the
        # expanded quadratic form does not cancel far from the origin.
        self._center = self.means.mean(axis=0)
        means = self.means - self._center
        if self.covariance_type == "tied":
            log_det = np.log(np.diag(P)).sum()
            MP = means @ P                              # (K, d)
            # X @ [P | P P' mu'] gives ||P'x||^2 and the linear term at once.
            self._W = np.ascontiguousarray(np.hstack([P, P @ MP.T]))
            self._const = (-0.5 * d * np.log(2 * np.pi) + log_det
                           - 0.5 * (MP * MP).sum(axis=1))
        else:
            log_det = np.log(np.diagonal(P, axis1=1, axis2=2)).sum(axis=1)
            self._MP = np.einsum("kd,kde->ke", means, P)
            self._const = -0.5 * d * np.log(2 * np.pi) + log_det

    # -- densities ---------------------------------------------------------------
    def log_prob(self, X):
        """log N(x | mu_k, C_k), shape (n, K)."""
        X = self.prepare(X).X
        n, d = X.shape
        if self.covariance_type == "tied":
            # X @ [P | P P' mu'] by row blocks (one BLAS thread each).
            out = np.empty((n, self._W.shape[1] - d))
            bounds = row_blocks(n)

            def block(b):
                lo, hi = bounds[b], bounds[b + 1]
                Y = (X[lo:hi] - self._center) @ self._W
                np.subtract(Y[:, d:], 0.5 * np.einsum(
                    "ij,ij->i", Y[:, :d], Y[:, :d])[:, None], out=out[lo:hi])

            _threads.run_tasks(block, bounds.size - 1)
            out += self._const
            return out
        K = self.means.shape[0]
        Xc = X - self._center
        out = np.empty((K, n))
        scratch = _Scratch()

        def component(k):
            # (x - c) @ P_k with P_k upper triangular: a triangular
            # product (trmm, half a general product's multiply-adds) in
            # place on a copy, in Fortran terms P_k' (x - c)'.
            Y = scratch.get(Xc.shape)
            np.copyto(Y, Xc)
            Y = _trmm(self.precisions_cholesky[k], Y)
            Y -= self._MP[k]
            np.einsum("ij,ij->i", Y, Y, out=out[k])

        _threads.run_tasks(component, K)
        out *= -0.5
        out = out.T + self._const
        return out

    @property
    def variances(self):
        """The diagonal of the covariances: (K, d) "full", (d,) "tied"."""
        return np.diagonal(self.covariances, axis1=-2, axis2=-1).copy()

    def full_variances(self):
        """Variances broadcast to (K, d) (``GaussianNB``'s ``var_``)."""
        return np.broadcast_to(self.variances, self.means.shape)

    def naive_bayes_attributes(self):
        return {"theta": self.means, "var": self.full_variances()}
