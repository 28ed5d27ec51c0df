"""airspeed velocity (asv) suite: probssl beside NumPy/SciPy and library peers.

Every probssl estimator has ``time_fit`` (a fixed number of EM iterations:
``tol=0, max_iter=ITERS``), ``time_predict_proba`` (held-out rows),
``peakmem_fit`` and ``track_accuracy`` (held-out accuracy), parameterised
over the number of training rows ``n`` (``SIZES``, 10x apart), so that cost
growth shows. Each peer class (``peer_of`` names the probssl class it
stands beside) runs on the same data, the same labeled rows and the same
number of iterations: the plain NumPy/SciPy EM of the scripts
``bench_em_iteration.py``, ``bench_gaussian_em.py`` and
``bench_mixture_of_experts.py`` (imported, not rewritten), scikit-learn's
``SelfTrainingClassifier(MultinomialNB)`` and ``LabelSpreading``, and
pomegranate's ``GeneralMixtureModel`` with label priors when installed.

Data (generated once per ``asv run`` by ``setup_cache``):

* counts: ``make_multinomial_mixture`` (V = 5,000 words, K = 20 classes,
  Dirichlet(1) word distributions, 50 words per document: hard with 10
  labels per class);
* embeddings: unit-norm 384-dim vectors around 20 centres, with the labels
  of the counts (so the two form the views of ``CoTraining``);
* ``PROBSSL_DATA`` = the 20 Newsgroups archive adds the ``"20news"`` counts
  case (bydate train / test, ``CountVectorizer(stop_words="english",
  min_df=2)``); ``PROBSSL_EMBEDDINGS`` / ``PROBSSL_EMBEDDINGS_LABELS`` (.npy
  files, e.g. cached MiniLM embeddings) add the ``"embeddings"`` case.
  Nothing is ever encoded here.

10 labeled rows per class, the rest unlabeled; ``N_TEST`` held-out rows.

    asv run --quick --python=same        # whole suite, one sample each
    python benchmarks/asv_report.py      # ratio table without asv
"""

import atexit
import os
import subprocess
import sys
import warnings

import numpy as np
import scipy.sparse as sp
from scipy.special import logsumexp

from .bench_em_iteration import reference_em
from .bench_gaussian_em import careful_numpy_em, plain_numpy_em
from .bench_mixture_of_experts import reference_em1

ITERS = 5
SIZES = [2000, 6000, 20000]
N_TEST = 2000
N_LABELED = 10  # per class
N_WORDS = 5000
N_CLASSES = 20
DIM = 384
ALPHA = 0.01
REG_COVAR = 1e-4
LABEL_SPREADING_MAX_N = 6000  # knn graph in 384 dims: kept small


class _quiet(warnings.catch_warnings):
    """Ignore warnings (ConvergenceWarning: tol=0 on purpose)."""

    def __enter__(self):
        out = super().__enter__()
        warnings.simplefilter("ignore")
        return out


def _embeddings_for(y, seed=1):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(N_CLASSES, DIM))
    X = centres[y] * 0.2 + rng.normal(size=(y.size, DIM))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    return X.astype(np.float32)


def _mask(y, seed=0):
    from probssl.datasets import mask_labels

    return mask_labels(y, N_LABELED, random_state=seed)


def make_counts(n_samples, seed=0):
    from probssl.datasets import make_multinomial_mixture

    X, y = make_multinomial_mixture(
        n_samples, N_WORDS, N_CLASSES, doc_length=50, concentration=1.0,
        random_state=seed)
    return sp.csr_matrix(X, dtype=np.float64), np.asarray(y)


def _real_counts(archive):
    from sklearn.feature_extraction.text import CountVectorizer

    from probssl.datasets import load_20newsgroups

    train = load_20newsgroups("train", archive=archive)
    test = load_20newsgroups("test", archive=archive)
    vec = CountVectorizer(stop_words="english", min_df=2)
    Xtr = vec.fit_transform(train.data).astype(np.float64).tocsr()
    Xte = vec.transform(test.data).astype(np.float64).tocsr()
    return Xtr, _mask(train.target), Xte, np.asarray(test.target)


def _real_embeddings(path, labels):
    X = np.load(path).astype(np.float32)
    y = np.load(labels)
    test = np.random.default_rng(0).permutation(y.size)[:N_TEST]
    train = np.setdiff1d(np.arange(y.size), test)
    return X[train], _mask(y[train]), X[test], y[test]


def make_data(sizes=SIZES):
    """Everything the suite needs, keyed by input kind and ``n``."""
    n_max = max(sizes)
    Xc, y = make_counts(n_max + N_TEST)
    E = _embeddings_for(y)
    data = {"counts": {}, "embeddings": {}, "views": {}}
    Xc_te, E_te, y_te = Xc[n_max:], E[n_max:], y[n_max:]
    for n in sizes:
        y_tr = _mask(y[:n])
        data["counts"][n] = (Xc[:n], y_tr, Xc_te, y_te)
        data["embeddings"][n] = (E[:n], y_tr, E_te, y_te)
        data["views"][n] = ((Xc[:n], E[:n]), y_tr, (Xc_te, E_te), y_te)
    if os.environ.get("PROBSSL_DATA"):
        data["counts"]["20news"] = _real_counts(os.environ["PROBSSL_DATA"])
    if os.environ.get("PROBSSL_EMBEDDINGS"):
        data["embeddings"]["embeddings"] = _real_embeddings(
            os.environ["PROBSSL_EMBEDDINGS"],
            os.environ["PROBSSL_EMBEDDINGS_LABELS"])
    return data


def _params(kind):
    extra = {"counts": ["20news"] if os.environ.get("PROBSSL_DATA") else [],
             "embeddings": (["embeddings"]
                            if os.environ.get("PROBSSL_EMBEDDINGS") else []),
             "views": []}[kind]
    return [SIZES + extra]


def _softmax_argmax(jll):
    return np.exp(jll - logsumexp(jll, axis=1, keepdims=True))


def _gaussian_jll(X, mu, var):
    X = np.asarray(X, dtype=np.float64)
    prec = 1.0 / var
    return -0.5 * (np.log(2 * np.pi * var).sum(1) + (mu**2 * prec).sum(1)
                   - 2 * X @ (mu * prec).T + (X * X) @ prec.T)


class _Bench:
    """One estimator on one input kind; subclasses define ``fit``."""

    kind = "counts"
    params = _params("counts")
    param_names = ["n"]
    timeout = 600
    number = 1
    repeat = (1, 3, 20.0)
    warmup_time = 0
    peer_of = None  # the probssl class a peer stands beside
    max_n = None

    def setup_cache(self):
        # One function object for the whole suite: asv runs it once.
        return make_data()

    def setup(self, data, n):
        if n not in data[self.kind]:
            raise NotImplementedError
        if self.max_n is not None and isinstance(n, int) and n > self.max_n:
            raise NotImplementedError  # too slow at this size: skipped
        self.X, self.y, self.X_test, self.y_test = data[self.kind][n]
        # Warm-up: loads the Numba kernels in this process; the fitted model
        # serves time_predict_proba.
        self.model = self.fit()

    def fit(self):
        raise NotImplementedError

    def time_fit(self, data, n):
        self.fit()

    def peakmem_fit(self, data, n):
        self.fit()


class _Predicting(_Bench):
    """Adds held-out predict_proba time and accuracy."""

    def predict_proba(self, model, X):
        return model.predict_proba(X)

    def time_predict_proba(self, data, n):
        self.predict_proba(self.model, self.X_test)

    def track_accuracy(self, data, n):
        proba = np.asarray(self.predict_proba(self.model, self.X_test))
        return float(np.mean(np.argmax(proba, axis=1) == self.y_test))

    track_accuracy.unit = "accuracy"


class _Embeddings(_Predicting):
    kind = "embeddings"
    params = _params("embeddings")


# --------------------------------------------------------------------------
# EMNaiveBayes, multinomial (counts)
# --------------------------------------------------------------------------


class EMNaiveBayesMultinomial(_Predicting):
    def fit(self):
        from probssl import EMNaiveBayes

        with _quiet():
            return EMNaiveBayes(alpha=ALPHA, tol=0.0, max_iter=ITERS).fit(
                self.X, self.y)


class ReferenceEMMultinomial(_Predicting):
    """bench_em_iteration.reference_em: two SciPy sparse products."""

    peer_of = "EMNaiveBayesMultinomial"

    def fit(self):
        return reference_em(self.X, self.y, ITERS, ALPHA)  # (K, V) log theta

    def predict_proba(self, log_theta, X):
        return _softmax_argmax(X @ log_theta.T)  # uniform class prior


class SelfTrainingMultinomialNB(_Predicting):
    """scikit-learn's self-training around MultinomialNB (ITERS rounds)."""

    peer_of = "EMNaiveBayesMultinomial"

    def fit(self):
        from sklearn.naive_bayes import MultinomialNB
        from sklearn.semi_supervised import SelfTrainingClassifier

        with _quiet():
            return SelfTrainingClassifier(
                MultinomialNB(alpha=ALPHA), max_iter=ITERS).fit(self.X, self.y)


# --------------------------------------------------------------------------
# EMNaiveBayes, Gaussian (embeddings)
# --------------------------------------------------------------------------


class EMNaiveBayesGaussian(_Embeddings):
    def fit(self):
        from probssl import EMNaiveBayes

        with _quiet():
            return EMNaiveBayes(event_model="gaussian", reg_covar=REG_COVAR,
                                tol=0.0, max_iter=ITERS).fit(self.X, self.y)


class CarefulNumpyGaussianEM(_Embeddings):
    """bench_gaussian_em.careful_numpy_em: scikit-learn's formulas."""

    peer_of = "EMNaiveBayesGaussian"

    def fit(self):
        return careful_numpy_em(self.X, self.y, ITERS, REG_COVAR)

    def predict_proba(self, params, X):
        return _softmax_argmax(_gaussian_jll(X, *params))


class PlainNumpyGaussianEM(CarefulNumpyGaussianEM):
    """bench_gaussian_em.plain_numpy_em: an (n, K, d) broadcast."""

    def fit(self):
        return plain_numpy_em(self.X, self.y, ITERS, REG_COVAR)


class LabelSpreadingKNN(_Embeddings):
    """scikit-learn's LabelSpreading, knn kernel (default 30 iterations)."""

    peer_of = "EMNaiveBayesGaussian"
    max_n = LABEL_SPREADING_MAX_N

    def fit(self):
        from sklearn.semi_supervised import LabelSpreading

        with _quiet():
            return LabelSpreading(kernel="knn", n_neighbors=7).fit(
                self.X, self.y)


class PomegranateGMM(_Embeddings):
    """pomegranate 1.x GeneralMixtureModel of diagonal Normals, one per
    class, started from the labeled rows (as probssl), labels as one-hot
    priors, unlabeled rows uniform; ITERS EM iterations (tol=-inf)."""

    peer_of = "EMNaiveBayesGaussian"
    max_n = 6000  # 13 s a fit at n = 20,000: kept out of --quick runs

    def setup(self, data, n):
        try:
            import pomegranate  # noqa: F401
        except ImportError:
            raise NotImplementedError from None
        super().setup(data, n)

    def fit(self):
        import torch
        from pomegranate.distributions import Normal
        from pomegranate.gmm import GeneralMixtureModel

        X = np.asarray(self.X, dtype=np.float32)
        lab = self.y >= 0
        priors = np.full((X.shape[0], N_CLASSES), 1.0 / N_CLASSES,
                         dtype=np.float32)
        priors[lab] = 0.0
        priors[np.flatnonzero(lab), self.y[lab]] = 1.0
        dists = []
        for k in range(N_CLASSES):
            Xk = X[self.y == k]
            dists.append(Normal(means=Xk.mean(0), covs=Xk.var(0) + REG_COVAR,
                                covariance_type="diag"))
        model = GeneralMixtureModel(dists, max_iter=ITERS, tol=-np.inf)
        with torch.no_grad():
            return model.fit(torch.from_numpy(X),
                             priors=torch.from_numpy(priors))

    def predict_proba(self, model, X):
        import torch

        with torch.no_grad():
            return model.predict_proba(
                torch.from_numpy(np.asarray(X, np.float32))).numpy()


# --------------------------------------------------------------------------
# MixtureOfExperts (EM-I, J = K components started from the labels)
# --------------------------------------------------------------------------


def _moe(X, y, event):
    from probssl import MixtureOfExperts

    with _quiet():
        return MixtureOfExperts(n_components=N_CLASSES, tol=0.0,
                                max_iter=ITERS, random_state=0,
                                **event).fit(X, y)


class MixtureOfExpertsMultinomial(_Predicting):
    def fit(self):
        return _moe(self.X, self.y, {"alpha": ALPHA})


class ReferenceMoEMultinomial(_Bench):
    """bench_mixture_of_experts.reference_em1 (counts); it returns only the
    class table, so no predict_proba / accuracy."""

    peer_of = "MixtureOfExpertsMultinomial"

    def fit(self):
        return reference_em1(self.X, self.y, N_CLASSES, ITERS, "counts",
                             alpha=ALPHA, reg_covar=REG_COVAR)


class MixtureOfExpertsGaussian(_Embeddings):
    def fit(self):
        return _moe(self.X, self.y, {"event_model": "gaussian",
                                     "reg_covar": REG_COVAR})


class ReferenceMoEGaussian(_Bench):
    kind = "embeddings"
    params = _params("embeddings")
    """bench_mixture_of_experts.reference_em1 (embeddings)."""

    peer_of = "MixtureOfExpertsGaussian"

    def fit(self):
        return reference_em1(np.asarray(self.X, np.float64), self.y,
                             N_CLASSES, ITERS, "embeddings", alpha=ALPHA,
                             reg_covar=REG_COVAR)


# --------------------------------------------------------------------------
# HybridClassifier (counts) and CoTraining (counts + embeddings views)
# --------------------------------------------------------------------------


class HybridClassifierMultinomial(_Predicting):
    """No library peer; EMNaiveBayesMultinomial is its in-suite baseline."""

    def fit(self):
        from probssl import HybridClassifier

        with _quiet():
            return HybridClassifier(alpha=ALPHA, tol=0.0,
                                    max_iter=ITERS).fit(self.X, self.y)


class CoTrainingTwoViews(_Predicting):
    """MultinomialNB on counts + LogisticRegression on embeddings, ITERS
    rounds of 1 row per class per view."""

    kind = "views"
    params = _params("views")

    def fit(self):
        from sklearn.linear_model import LogisticRegression
        from sklearn.naive_bayes import MultinomialNB

        from probssl import CoTraining

        with _quiet():
            return CoTraining(MultinomialNB(alpha=ALPHA),
                              LogisticRegression(max_iter=1000),
                              max_iter=ITERS, random_state=0).fit(
                self.X, self.y)


class SelfTrainingKBest(_Predicting):
    """SelfTrainingClassifier(MultinomialNB) on the counts view, adding as
    many rows per round as co-training does (2 views x 1 per class)."""

    kind = "views"
    params = _params("views")
    peer_of = "CoTrainingTwoViews"

    def fit(self):
        from sklearn.naive_bayes import MultinomialNB
        from sklearn.semi_supervised import SelfTrainingClassifier

        with _quiet():
            return SelfTrainingClassifier(
                MultinomialNB(alpha=ALPHA), criterion="k_best",
                k_best=2 * N_CLASSES, max_iter=ITERS).fit(self.X[0], self.y)

    def predict_proba(self, model, X):
        return model.predict_proba(X[0])


# --------------------------------------------------------------------------
# Threads that fit the machine: quiet, and with another process on a core
# --------------------------------------------------------------------------


class _Threads:
    """A fit under probssl's thread choice (``default``), one thread
    (``threadpool_limits(1)``) and every CPU (``n_jobs=-1``), on a quiet
    machine and with another process spinning on one core (``busy``:
    started at the end of ``setup``, killed in ``teardown`` or at exit)."""

    params = [["quiet", "busy"], ["default", "1", "all"]]
    param_names = ["machine", "threads"]
    timeout = 600
    number = 1
    repeat = (1, 3, 60.0)
    warmup_time = 0
    busy = None

    def setup(self, machine, threads):
        self.data()
        self.fit(threads)  # warm-up: the kernels loaded in this process
        if machine == "busy":
            self.busy = subprocess.Popen([sys.executable, "-c",
                                          "while True: pass"])
            atexit.register(self.busy.kill)

    def teardown(self, machine, threads):
        if self.busy is not None:
            self.busy.kill()
            self.busy.wait()
            self.busy = None

    def fit(self, threads):
        from threadpoolctl import threadpool_limits

        from probssl import _threads

        with _quiet():
            if threads == "1":
                with threadpool_limits(1):
                    return self.model().fit(self.X, self.y)
            with _threads.limit(-1 if threads == "all" else None):
                return self.model().fit(self.X, self.y)

    def time_fit(self, machine, threads):
        self.fit(threads)


class GaussianFullThreads(_Threads):
    """Full covariances, shrinkage 0.5, 3 EM iterations, 4,000 x 384."""

    def data(self):
        y = np.random.default_rng(0).integers(N_CLASSES, size=4000)
        self.X = _embeddings_for(y).astype(np.float64)
        self.y = _mask(y)

    def model(self):
        from probssl import EMNaiveBayes

        return EMNaiveBayes(event_model="gaussian", covariance_type="full",
                            shrinkage=0.5, reg_covar=REG_COVAR, tol=0.0,
                            max_iter=3)


class MultinomialThreads(_Threads):
    """Multinomial EM, 20 iterations, 20,000 synthetic documents."""

    def data(self):
        X, y = make_counts(20_000)
        self.X, self.y = X, _mask(y)

    def model(self):
        from probssl import EMNaiveBayes

        return EMNaiveBayes(alpha=ALPHA, tol=0.0, max_iter=20)


_NIGAM = []  # Nigam's split, loaded once per process


class WholeFitNigam(_Threads):
    """The whole fit as users feel it (``bench_whole_fit.py``) on Nigam's
    300-labeled split of 20 Newsgroups (10,300 x 53,356; needs
    ``PROBSSL_DATA``), quiet and busy: ``EMNaiveBayes(tol=0, max_iter=20)``
    and its SciPy EM peer, the default ``EMNaiveBayes`` and
    ``SelfTrainingClassifier(MultinomialNB)`` (``alpha=0.01`` all)."""

    params = [["quiet", "busy"],
              ["em20", "scipy_em20", "default", "self_training"]]
    param_names = ["machine", "fit"]

    def data(self):
        if not os.environ.get("PROBSSL_DATA"):
            raise NotImplementedError
        if not _NIGAM:
            from .bench_whole_fit import load_split

            _NIGAM.append(load_split(os.environ["PROBSSL_DATA"])[:2])
        self.X, self.y = _NIGAM[0]

    def fit(self, which):
        from sklearn.naive_bayes import MultinomialNB
        from sklearn.semi_supervised import SelfTrainingClassifier

        from probssl import EMNaiveBayes

        with _quiet():
            if which == "scipy_em20":
                return reference_em(self.X, self.y, 20, ALPHA)
            if which == "self_training":
                return SelfTrainingClassifier(MultinomialNB(
                    alpha=ALPHA)).fit(self.X, self.y)
            model = (EMNaiveBayes(alpha=ALPHA, tol=0.0, max_iter=20)
                     if which == "em20" else EMNaiveBayes(alpha=ALPHA))
            return model.fit(self.X, self.y)


SUITE = [
    EMNaiveBayesMultinomial, ReferenceEMMultinomial, SelfTrainingMultinomialNB,
    EMNaiveBayesGaussian, CarefulNumpyGaussianEM, PlainNumpyGaussianEM,
    LabelSpreadingKNN, PomegranateGMM,
    MixtureOfExpertsMultinomial, ReferenceMoEMultinomial,
    MixtureOfExpertsGaussian, ReferenceMoEGaussian,
    HybridClassifierMultinomial,
    CoTrainingTwoViews, SelfTrainingKBest,
]
