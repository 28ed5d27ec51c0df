"""Accuracy guards on real data (issue 23): every estimator and event model
fitted on 20 Newsgroups (bydate) and on Blum & Mitchell's course pages,
its test accuracy checked against the value recorded for it.

Each test asserts ``accuracy >= recorded - TOLERANCE`` (the recorded values
and the tolerance live in ``tests/accuracy_recorded.json``; regenerate them
with ``python scripts/record_accuracy.py``) and, where a paper reports one,
the gain over supervised naive Bayes measured in the same test.

Data: the 20 Newsgroups archive is found as ``tests/conftest.py`` finds it
(``PROBSSL_DATA``, else ``../shared/data``); ``course-cotrain-data.tar.gz``
beside it. A test whose archive is missing is skipped. Features:

* counts: ``CountVectorizer(stop_words="english", min_df=2)`` fitted on
  the bydate training posts (headers removed), empty posts dropped;
* dense: TF-IDF then a 50-dimensional ``TruncatedSVD`` of the counts (a
  cheap stand-in for embeddings); unit rows of it for the vMF model;
* two views: the pages' words and the anchor text of the links to them
  (course pages), or the two halves of a random column split (20 News).

Every draw is seeded and every hyper-parameter is passed explicitly (the
defaults may change; ``test_em_naive_bayes_default`` guards the default).
BLAS runs on one thread here: on a loaded machine threaded BLAS made the
hybrid's small L-BFGS problems 10x slower, and one thread makes the
figures independent of the machine's core count.
"""

import json
import os
import re
import tarfile
import warnings
from pathlib import Path

import numpy as np
import pytest

from _helpers import fit_quiet

pytestmark = [pytest.mark.accuracy, pytest.mark.timeout(600)]

HERE = Path(__file__).resolve().parent
RECORD_FILE = HERE / "accuracy_recorded.json"
RECORDED = json.loads(RECORD_FILE.read_text(encoding="utf-8"))
TOLERANCE = float(RECORDED["tolerance"])
# Set by scripts/record_accuracy.py: measured values are written there
# instead of being checked against the recorded ones.
RECORD_DIR = os.environ.get("PROBSSL_RECORD_ACCURACY")
COURSE_ARCHIVE = "course-cotrain-data.tar.gz"


def check_recorded(name, accuracy):
    """``accuracy`` at least the value recorded under ``name`` minus the
    tolerance (or, when recording, written for the recorder)."""
    accuracy = float(accuracy)
    if RECORD_DIR:
        path = Path(RECORD_DIR) / (re.sub(r"[^\w.-]", "_", name) + ".json")
        path.write_text(json.dumps({name: round(accuracy, 4)}))
        return
    recorded = RECORDED["values"].get(name)
    assert recorded is not None, (
        f"no accuracy recorded for {name!r}: run {RECORDED['command']}")
    assert accuracy >= recorded - TOLERANCE, (
        f"{name}: accuracy {accuracy:.4f} is below the recorded "
        f"{recorded:.4f} - {TOLERANCE} ({RECORD_FILE.name})")


@pytest.fixture(scope="module", autouse=True)
def one_blas_thread():
    from threadpoolctl import threadpool_limits

    # the limit binds the BLAS libraries loaded so far: load SciPy's first
    import scipy.optimize  # noqa: F401
    import sklearn.decomposition  # noqa: F401

    import probssl  # noqa: F401

    with threadpool_limits(limits=1, user_api="blas"):
        yield


def draw_labels(y, per_class, seed):
    """``per_class`` labeled rows of every class (random, seeded), the
    others -1."""
    rng = np.random.RandomState(seed)
    out = np.full(y.size, -1)
    for c in np.unique(y):
        rows = rng.permutation(np.flatnonzero(y == c))[:per_class]
        out[rows] = c
    return out


def labeled_and_some_unlabeled(y_lab, n_unlabeled, seed=0):
    """Rows: every labeled one and ``n_unlabeled`` unlabeled ones (seeded)."""
    unlabeled = np.random.RandomState(seed).permutation(
        np.flatnonzero(y_lab < 0))[:n_unlabeled]
    return np.sort(np.r_[np.flatnonzero(y_lab >= 0), unlabeled])


def accuracy(est, X, y):
    return float(np.mean(est.predict(X) == y))


# -- 20 Newsgroups ------------------------------------------------------------
@pytest.fixture(scope="module")
def news(newsgroups_archive):
    return newsgroups_features(newsgroups_archive)


def newsgroups_features(archive, n_dims=50):
    """Counts, dense and unit rows of the bydate train and test posts."""
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import (CountVectorizer,
                                                 TfidfTransformer)
    from sklearn.preprocessing import normalize

    from probssl.datasets import load_20newsgroups

    train = load_20newsgroups("train", archive=archive)
    test = load_20newsgroups("test", archive=archive)
    vec = CountVectorizer(stop_words="english", min_df=2, dtype=np.float64)
    X, Xt = vec.fit_transform(train.data), vec.transform(test.data)
    # (an empty post has no unit-norm dense row)
    keep, keep_t = X.getnnz(axis=1) > 0, Xt.getnnz(axis=1) > 0
    X, y = X[keep], train.target[keep]
    Xt, yt = Xt[keep_t], test.target[keep_t]
    tfidf = TfidfTransformer(sublinear_tf=True).fit(X)
    svd = TruncatedSVD(n_dims, n_iter=3, random_state=0).fit(
        tfidf.transform(X))
    D, Dt = svd.transform(tfidf.transform(X)), svd.transform(
        tfidf.transform(Xt))
    return dict(X=X, y=y, Xt=Xt, yt=yt, D=D, Dt=Dt, U=normalize(D),
                Ut=normalize(Dt))


def supervised_nb(news, y_lab, alpha=0.01):
    from sklearn.naive_bayes import MultinomialNB

    lab = y_lab >= 0
    nb = MultinomialNB(alpha=alpha).fit(news["X"][lab], y_lab[lab])
    return accuracy(nb, news["Xt"], news["yt"])


EM = dict(max_iter=30, tol=1e-4, random_state=0)


@pytest.mark.parametrize("per_class", [5, 15])
def test_supervised_nb_reference(news, per_class):
    """probssl's EMNaiveBayes on labeled rows only is multinomial NB."""
    from probssl import EMNaiveBayes

    y_lab = draw_labels(news["y"], per_class, seed=0)
    lab = y_lab >= 0
    nb = supervised_nb(news, y_lab)
    em = EMNaiveBayes(alpha=0.01, event_model="multinomial", **EM).fit(
        news["X"][lab], y_lab[lab])
    assert accuracy(em, news["Xt"], news["yt"]) == pytest.approx(nb,
                                                                 abs=1e-3)
    check_recorded(f"supervised_nb[{per_class}]", nb)


# Nigam et al. (2000), Fig. 2: EM beats NB by 15 points at 20 labeled and
# 14 at 300 (10,000 unlabeled); asserted with a margin for one draw.
PAPER_EM_GAIN = 0.05


@pytest.mark.parametrize("per_class", [5, 15])
def test_em_naive_bayes_multinomial_beats_nb(news, per_class):
    from probssl import EMNaiveBayes

    y_lab = draw_labels(news["y"], per_class, seed=0)
    em = fit_quiet(EMNaiveBayes(alpha=0.01, event_model="multinomial",
                                  **EM), news["X"], y_lab)
    acc = accuracy(em, news["Xt"], news["yt"])
    check_recorded(f"em_multinomial[{per_class}]", acc)
    assert acc >= supervised_nb(news, y_lab) + PAPER_EM_GAIN


def test_em_naive_bayes_default(news):
    """``EMNaiveBayes()`` as a new user runs it (issue 23 item 5)."""
    from probssl import EMNaiveBayes

    y_lab = draw_labels(news["y"], 15, seed=0)
    em = fit_quiet(EMNaiveBayes(), news["X"], y_lab)
    check_recorded("em_default[15]", accuracy(em, news["Xt"], news["yt"]))


def test_em_naive_bayes_bernoulli(news):
    from probssl import EMNaiveBayes

    y_lab = draw_labels(news["y"], 15, seed=0)
    em = fit_quiet(EMNaiveBayes(alpha=0.01, event_model="bernoulli", **EM),
                     news["X"], y_lab)
    check_recorded("em_bernoulli[15]", accuracy(em, news["Xt"], news["yt"]))


@pytest.mark.parametrize("covariance_type",
                         ["diag", "tied_diag", "spherical", "full", "tied"])
def test_em_naive_bayes_gaussian(news, covariance_type):
    from probssl import EMNaiveBayes

    y_lab = draw_labels(news["y"], 15, seed=0)
    em = fit_quiet(EMNaiveBayes(event_model="gaussian", reg_covar=1e-6,
                                  covariance_type=covariance_type, **EM),
                     news["D"], y_lab)
    check_recorded(f"em_gaussian_{covariance_type}[15]",
                   accuracy(em, news["Dt"], news["yt"]))


@pytest.mark.parametrize("covariance_type", ["diag", "tied"])
def test_em_naive_bayes_vmf(news, covariance_type):
    from probssl import EMNaiveBayes

    y_lab = draw_labels(news["y"], 15, seed=0)
    em = fit_quiet(EMNaiveBayes(event_model="vmf",
                                  covariance_type=covariance_type, **EM),
                     news["U"], y_lab)
    check_recorded(f"em_vmf_{covariance_type}[15]",
                   accuracy(em, news["Ut"], news["yt"]))


@pytest.mark.parametrize("algorithm", ["em1", "em2"])
def test_mixture_of_experts(news, algorithm):
    from probssl import MixtureOfExperts

    y_lab = draw_labels(news["y"], 15, seed=0)
    moe = fit_quiet(MixtureOfExperts(
        n_components=40, algorithm=algorithm, alpha=0.01, init="labeled",
        event_model="multinomial", **EM), news["X"], y_lab)
    acc = accuracy(moe, news["Xt"], news["yt"])
    check_recorded(f"mixture_of_experts_{algorithm}[15]", acc)
    assert acc >= supervised_nb(news, y_lab) + PAPER_EM_GAIN


# Fujino et al. (2005) claim the hybrid beats NB; issue 23 asks for +3
# points at 300 labeled (alpha=0.01). Here 4,000 unlabeled posts. With the
# old safeguard (NB scored on rows it was trained on) the hybrid scored
# 54.5 % against NB's 54.1 %, and this test failed.
HYBRID_GAIN = 0.03


def test_hybrid_beats_nb(news):
    from probssl import HybridClassifier

    y_lab = draw_labels(news["y"], 15, seed=0)
    rows = labeled_and_some_unlabeled(y_lab, 4000)
    hybrid = fit_quiet(HybridClassifier(
        alpha=0.01, event_model="multinomial", C=1.0, max_iter=30, tol=1e-4),
        news["X"][rows], y_lab[rows])
    acc = accuracy(hybrid, news["Xt"], news["yt"])
    check_recorded("hybrid[15]", acc)
    assert acc >= supervised_nb(news, y_lab) + HYBRID_GAIN


def test_co_em_random_views(news):
    """Co-EM on a random split of the words (Nigam & Ghani 2000)."""
    from sklearn.naive_bayes import MultinomialNB

    from probssl import CoEM

    y_lab = draw_labels(news["y"], 15, seed=0)
    co = fit_quiet(CoEM(MultinomialNB(alpha=0.01), views="random",
                          max_iter=10, tol=1e-4, random_state=0),
                     news["X"], y_lab)
    acc = accuracy(co, news["Xt"], news["yt"])
    check_recorded("co_em_random_views[15]", acc)
    assert acc >= supervised_nb(news, y_lab) + PAPER_EM_GAIN


def test_active_learner_qbc(news):
    """A few query-by-committee rounds with EM (McCallum & Nigam 1998)."""
    from probssl import EMNaiveBayes
    from probssl.active import ActiveLearner, SimulatedOracle

    rng = np.random.RandomState(0)
    pool = np.sort(rng.permutation(news["y"].size)[:3000])
    X, y = news["X"][pool], news["y"][pool]
    y_lab = draw_labels(y, 2, seed=0)
    learner = ActiveLearner(
        EMNaiveBayes(alpha=0.01, event_model="multinomial", **EM),
        strategy="qbc", batch_size=20, committee_size=3, random_state=0)
    fit_quiet(learner, X, y_lab)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        history = learner.simulate(SimulatedOracle(y), 3, news["Xt"],
                                   news["yt"])
    assert history[-1]["n_labeled"] == 40 + 60
    check_recorded("active_qbc[2+60]", history[-1]["accuracy"])
    assert history[-1]["accuracy"] > history[0]["accuracy"]


# -- Blum & Mitchell's course pages -------------------------------------------
def _html_text(raw):
    text = raw.decode("latin-1")
    return re.sub(r"<[^>]*>", " ", text)


def read_course_pages(path):
    """(page texts, anchor texts, labels 1 = course) of
    ``course-cotrain-data.tar.gz``: ``fulltext/{course,non-course}/NAME``
    and ``inlinks/{course,non-course}/NAME`` are the two views of a page."""
    views = {"fulltext": {}, "inlinks": {}}
    with tarfile.open(path, "r:gz") as tar:
        for member in tar:
            parts = member.name.split("/")
            if (not member.isfile() or len(parts) != 4
                    or parts[1] not in views):
                continue
            views[parts[1]][parts[2], parts[3]] = _html_text(
                tar.extractfile(member).read())
    keys = sorted(views["fulltext"])
    assert keys == sorted(views["inlinks"]), "the two views differ in pages"
    return ([views["fulltext"][k] for k in keys],
            [views["inlinks"][k] for k in keys],
            np.array([k[0] == "course" for k in keys], dtype=np.int64))


@pytest.fixture(scope="module")
def course(newsgroups_archive):
    path = Path(newsgroups_archive).parent / COURSE_ARCHIVE
    if not path.is_file():
        pytest.skip(f"course pages not found at {path}")
    from sklearn.feature_extraction.text import CountVectorizer

    pages, links, y = read_course_pages(path)
    assert y.size == 1051 and y.sum() == 230  # PAPERS.md section 7
    views = [CountVectorizer(stop_words="english", min_df=2).fit_transform(
        texts) for texts in (pages, links)]
    return views, y


def course_draws(y, n_draws=5):
    """Blum & Mitchell's protocol: 263 test pages, 3 course and 9
    non-course pages labeled, the rest unlabeled; ``n_draws`` seeds."""
    for seed in range(n_draws):
        rng = np.random.RandomState(seed)
        order = rng.permutation(y.size)
        test, train = np.sort(order[:263]), np.sort(order[263:])
        y_lab = np.full(train.size, -1)
        for c, n in ((1, 3), (0, 9)):
            rows = rng.permutation(np.flatnonzero(y[train] == c))[:n]
            y_lab[rows] = c
        yield train, test, y_lab


def course_accuracy(make, course, n_draws=5):
    """Mean test accuracy of ``make()`` over the draws."""
    from probssl import MultiView

    (pages, links), y = course
    scores = []
    for train, test, y_lab in course_draws(y, n_draws):
        est = fit_quiet(make(), MultiView(pages[train], links[train]),
                          y_lab)
        scores.append(accuracy(est, MultiView(pages[test], links[test]),
                               y[test]))
    return float(np.mean(scores))


# Blum & Mitchell (1998), Table 2: the combined classifier errs 11.1 %
# supervised, 5.0 % co-trained; asserted with a margin.
PAPER_COTRAINING_GAIN = 0.03


def test_co_training_course_pages(course):
    from sklearn.naive_bayes import MultinomialNB

    from probssl import CoTraining

    def make(max_iter):
        return lambda: CoTraining(MultinomialNB(alpha=1.0), n_per_class=1,
                                  pool_size=75, max_iter=max_iter,
                                  random_state=0)

    supervised = course_accuracy(make(0), course)
    acc = course_accuracy(make(30), course)
    check_recorded("co_training_course", acc)
    assert acc >= supervised + PAPER_COTRAINING_GAIN


def test_co_em_course_pages(course):
    from sklearn.naive_bayes import MultinomialNB

    from probssl import CoEM

    acc = course_accuracy(lambda: CoEM(MultinomialNB(alpha=1.0), max_iter=10,
                                       tol=1e-4, random_state=0), course)
    check_recorded("co_em_course", acc)


# -- WebKB, four universities (Nigam et al. 2000, section 6.3) ----------------
WEBKB_ARCHIVE = "webkb-4universities-raw.tar.gz"
WEBKB_CLASSES = ("course", "faculty", "project", "student")
WEBKB_TESTS = ("cornell", "texas", "washington", "wisconsin")


def read_webkb(path):
    """(texts, class index, university) of the four classes' pages of
    ``webkb/<class>/<university>/<page>``."""
    texts, labels, places = [], [], []
    with tarfile.open(path, "r:gz") as tar:
        for member in tar:
            parts = member.name.split("/")
            if (member.isfile() and len(parts) == 4
                    and parts[1] in WEBKB_CLASSES):
                texts.append(_html_text(tar.extractfile(member).read()))
                labels.append(WEBKB_CLASSES.index(parts[1]))
                places.append(parts[2])
    return texts, np.array(labels), np.array(places)


def top_mutual_information(X, y, k):
    """Columns of the ``k`` words whose occurrence has the highest mutual
    information with the class."""
    present = (X > 0).astype(np.float64)
    n = X.shape[0]
    p_word = np.asarray(present.mean(axis=0)).ravel()
    mi = np.zeros(X.shape[1])
    for c in np.unique(y):
        p_c = np.mean(y == c)
        p_wc = np.asarray(present[y == c].sum(axis=0)).ravel() / n
        for joint, marg in ((p_wc, p_word), (p_c - p_wc, 1.0 - p_word)):
            with np.errstate(divide="ignore", invalid="ignore"):
                term = joint * np.log(joint / (marg * p_c))
            mi += np.where(joint > 0, term, 0.0)
    return np.argsort(-mi, kind="stable")[:k]


@pytest.fixture(scope="module")
def webkb(newsgroups_archive):
    path = Path(newsgroups_archive).parent / WEBKB_ARCHIVE
    if not path.is_file():
        pytest.skip(f"WebKB pages not found at {path}")
    texts, y, places = read_webkb(path)
    assert y.size == 4199  # PAPERS.md section 1
    return texts, y, places


def test_em_naive_bayes_webkb(webkb):
    """Basic EM against NB at 20 labeled pages (Nigam et al. 2000, Fig. 4:
    60.3 -> 67.2 %): leave one university out, 300 words of highest
    mutual information, 2,500 unlabeled pages; mean over the four test
    universities."""
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.naive_bayes import MultinomialNB

    from probssl import EMNaiveBayes

    texts, y, places = webkb
    nb_scores, em_scores = [], []
    for seed, held_out in enumerate(WEBKB_TESTS):
        train, test = places != held_out, places == held_out
        vec = CountVectorizer(dtype=np.float64)
        X = vec.fit_transform([t for t, keep in zip(texts, train) if keep])
        Xt = vec.transform([t for t, keep in zip(texts, test) if keep])
        words = top_mutual_information(X, y[train], 300)
        X, Xt, y_train = X[:, words], Xt[:, words], y[train]
        y_lab = draw_labels(y_train, 5, seed)
        rows = labeled_and_some_unlabeled(y_lab, 2500, seed)
        lab = y_lab >= 0
        nb = MultinomialNB(alpha=1.0).fit(X[lab], y_lab[lab])
        em = fit_quiet(EMNaiveBayes(alpha=1.0, event_model="multinomial",
                                      **EM), X[rows], y_lab[rows])
        nb_scores.append(accuracy(nb, Xt, y[test]))
        em_scores.append(accuracy(em, Xt, y[test]))
    check_recorded("webkb_supervised_nb[20]", np.mean(nb_scores))
    check_recorded("webkb_em[20]", np.mean(em_scores))
    assert np.mean(em_scores) >= np.mean(nb_scores) + PAPER_EM_GAIN


# -- Reuters-21578, ModApte (Nigam et al. 2000, section 6.4) -----------------
@pytest.fixture(scope="module")
def reuters(newsgroups_archive):
    from probssl.experiments import nigam2000_reuters

    path = Path(newsgroups_archive).parent / "reuters21578.tar.gz"
    if not path.is_file():
        pytest.skip(f"Reuters-21578 not found at {path}")
    return nigam2000_reuters.load(str(path))


@pytest.mark.parametrize("category", ["acq", "crude"])
def test_reuters_negative_components(reuters, category):
    """EM with several negative components (EM*) against naive Bayes with
    one component a class (NB1), precision-recall breakeven on the ModApte
    test set, mean of two draws (Table 4: acq 69.4 -> 83.9, crude 65.2 ->
    75.4)."""
    from probssl.experiments import nigam2000_reuters

    rows = [r for seed in (0, 1) for r in nigam2000_reuters.run_draw(
        reuters, category, seed, methods=("NB1", "EM*"))]
    nb1, em = (np.mean([r["breakeven"] for r in rows if r["method"] == m])
               for m in ("NB1", "EM*"))
    check_recorded(f"reuters_nb1[{category}]", nb1)
    check_recorded(f"reuters_em_star[{category}]", em)
    assert em > nb1
