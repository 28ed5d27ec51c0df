"""CSR input is checked once, in one pass, and nothing reads it again to
learn what that pass learnt (issue 27: validation and set-up were 0.058 s
of a 0.185 s fit). Whatever the pass finds is reported by the full checks,
with their messages; anything it cannot vouch for takes the full path."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal

from probssl import EMNaiveBayes, _kernels
from probssl._kernels import _numba
from probssl.datasets import make_multinomial_mixture


def counts(n=300, V=60, seed=0):
    X, y = make_multinomial_mixture(n_samples=n, n_features=V, n_classes=3,
                                    doc_length=30, random_state=seed)
    y = np.where(np.random.RandomState(seed).rand(n) < 0.1, y, -1)
    y[:3] = [0, 1, 2]
    return sp.csr_matrix(X, dtype=np.float64), y


def fit(X, y, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return EMNaiveBayes(tol=0, max_iter=15, **kw).fit(X, y)


def test_a_fit_reads_csr_input_once(monkeypatch):
    """One scan, no SciPy full check, no second duplicate or order pass,
    no row-sum pass (each was a pass over X)."""
    X, y = counts()
    calls = []
    scan = _numba.csr_scan

    def spy(*args):
        calls.append(1)
        return scan(*args)

    def refused(*args, **kwargs):
        raise AssertionError("X was read again")

    monkeypatch.setattr(_numba, "csr_scan", spy)
    monkeypatch.setattr(_numba, "csr_has_duplicates", refused)
    check_format = sp.csr_matrix.check_format

    def no_full_check(self, full_check=True):
        if full_check:
            raise AssertionError("a full check_format pass")
        return check_format(self, full_check=False)

    monkeypatch.setattr(sp.csr_matrix, "check_format", no_full_check)
    monkeypatch.setattr(sp.csr_matrix, "sum", refused)
    model = fit(X, y)
    assert calls == [1]
    monkeypatch.undo()
    reference = EMNaiveBayes(tol=0, max_iter=15)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference.fit_chunks([(X, y)])  # the chunked path: full passes
    assert_allclose(model.feature_log_prob_, reference.feature_log_prob_,
                    rtol=0, atol=1e-9)


def _scan(X, count=True):
    lengths = np.empty(X.shape[0])
    col_nnz = np.zeros(X.shape[1] if count else 0, dtype=np.int64)
    found = _kernels.csr_scan(X.indptr, X.indices, X.data, X.shape[1],
                              lengths, col_nnz)
    return found, lengths, col_nnz


def test_the_scan_learns_and_finds():
    X, _ = counts()
    X.data[::7] = 0.0  # explicit zeros: not non-zeros of their column
    found, lengths, col_nnz = _scan(X)
    assert found == 0
    assert_array_equal(lengths, np.asarray(X.sum(axis=1)).ravel())
    assert_array_equal(col_nnz, np.bincount(X.indices[X.data != 0],
                                            minlength=X.shape[1]))
    bad = {}
    for kind in ("index", "negative index", "indptr", "nan", "inf",
                 "negative", "duplicate", "unsorted"):
        Z = X.copy()
        if kind == "index":
            Z.indices[5] = Z.shape[1]
        elif kind == "negative index":
            Z.indices[5] = -1
        elif kind == "indptr":
            Z.indptr[4], Z.indptr[5] = Z.indptr[5], Z.indptr[4]
        elif kind in ("nan", "inf", "negative"):
            Z.data[3] = {"nan": np.nan, "inf": np.inf, "negative": -1.0}[kind]
        elif kind == "duplicate":
            Z.indices[Z.indptr[2] + 1] = Z.indices[Z.indptr[2]]
        else:
            lo = Z.indptr[2]
            Z.indices[lo], Z.indices[lo + 1] = Z.indices[lo + 1], Z.indices[lo]
        bad[kind] = _scan(Z)[0]
    assert bad["index"] & _kernels.CSR_MALFORMED
    assert bad["negative index"] & _kernels.CSR_MALFORMED
    assert bad["indptr"] & _kernels.CSR_MALFORMED
    assert bad["nan"] == bad["inf"] == _kernels.CSR_NONFINITE
    assert bad["negative"] == _kernels.CSR_NEGATIVE
    assert bad["duplicate"] & _kernels.CSR_DUPLICATES
    assert bad["unsorted"] == _kernels.CSR_UNSORTED


@pytest.mark.parametrize("value, match", [(np.nan, "NaN"),
                                          (np.inf, "infinity"),
                                          (-1.0, "Negative values")])
def test_what_the_scan_finds_the_full_checks_report(value, match):
    X, y = counts()
    X.data[10] = value
    with pytest.raises(ValueError, match=match):
        EMNaiveBayes().fit(X, y)


def test_unusual_csr_input_fits_as_the_plain_one():
    """Duplicates (summed), unsorted rows, integer values, 64-bit indices,
    a CSR array: the same model as the canonical float64 matrix."""
    X, y = counts()
    want = fit(X, y).feature_log_prob_
    # every row reversed (unsorted), its first count split in two entries
    rows = []
    for i in range(X.shape[0]):
        lo, hi = X.indptr[i], X.indptr[i + 1]
        idx, val = X.indices[lo:hi][::-1], X.data[lo:hi][::-1].copy()
        if val.size and val[0] >= 2:
            val[0] -= 1
            idx, val = np.r_[idx, idx[0]], np.r_[val, 1.0]
        rows.append((idx, val))
    indptr = np.r_[0, np.cumsum([r[0].size for r in rows])]
    messy = sp.csr_matrix((np.concatenate([r[1] for r in rows]),
                           np.concatenate([r[0] for r in rows]), indptr),
                          shape=X.shape)
    for Z in (messy, X.astype(np.int64), sp.csr_array(X),
              sp.csr_matrix((X.data, X.indices.astype(np.int64),
                             X.indptr.astype(np.int64)), shape=X.shape)):
        assert_allclose(fit(Z, y).feature_log_prob_, want, rtol=0,
                        atol=1e-12)


def test_order_by_count_is_the_stable_descending_sort():
    rng = np.random.RandomState(0)
    for counts_ in (rng.randint(0, 40, 2000), np.zeros(5, dtype=np.int64),
                    np.array([3, 1, 3, 0, 1])):
        assert_array_equal(_kernels.order_by_count(counts_),
                           np.argsort(-counts_, kind="stable"))


def test_the_full_m_step_takes_logarithms_where_they_differ_only():
    rng = np.random.RandomState(0)
    S = rng.gamma(0.5, 2.0, (500, 7)) * (rng.rand(500, 7) < 0.3)
    alpha = 0.01
    log_stats, col_sums, col_dots = (np.empty_like(S), np.empty(500),
                                     np.empty(500))
    _kernels.log_stats_full(np.array([0, 200, 500]), alpha, S, log_stats,
                            col_sums, col_dots)
    assert_allclose(log_stats, np.log(alpha + S), rtol=1e-15, atol=0)
    assert_allclose(col_sums, np.log(alpha + S).sum(axis=1), rtol=1e-13)
    assert_allclose(col_dots, (S * np.log(alpha + S)).sum(axis=1),
                    rtol=1e-13)
