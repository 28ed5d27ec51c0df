"""The text helpers the papers' protocols use, as library API: word
selection by mutual information, length scaling, 20 Newsgroups counts by
the paper's recipe, and the binary mixture with several negative
components (each against the implementation the experiments layer had)."""

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import logsumexp

from probssl.binary_mixture import BinaryMixtureNB
from probssl.datasets import read_stop_list, vectorize_20newsgroups
from probssl.feature_selection import (mutual_information, scale_to_length,
                                       top_mutual_information)

from _helpers import write_tiny_archive


def test_mutual_information_matches_scikit_learn():
    from sklearn.metrics import mutual_info_score

    rng = np.random.RandomState(0)
    X = sp.csr_matrix(rng.poisson(0.7, size=(60, 8)))
    y = rng.randint(3, size=60)
    ref = [mutual_info_score(y, X[:, j].toarray().ravel() > 0)
           for j in range(8)]
    np.testing.assert_allclose(mutual_information(X, y), ref, atol=1e-12)
    np.testing.assert_allclose(mutual_information(X.toarray(), y), ref,
                               atol=1e-12)


def test_top_mutual_information_order_and_ties():
    # Columns 0 and 2 identical (a tie): the earlier column first; the
    # constant column 3 carries no information and comes last.
    X = np.array([[1, 0, 1, 1], [2, 0, 2, 1], [0, 3, 0, 1], [0, 1, 0, 1]])
    y = [0, 0, 1, 1]
    assert top_mutual_information(X, y, 4).tolist() == [0, 1, 2, 3]
    assert top_mutual_information(X, y, 2).tolist() == [0, 1]
    assert top_mutual_information(X, y, 10).tolist() == [0, 1, 2, 3]
    rng = np.random.RandomState(1)
    X = sp.csr_matrix(rng.poisson(0.3, size=(50, 40)))
    y = rng.randint(2, size=50)
    # What the WebKB / Reuters protocols did by hand before.
    expected = np.argsort(-mutual_information(X, y), kind="stable")[:7]
    np.testing.assert_array_equal(top_mutual_information(X, y, 7), expected)
    with pytest.raises(ValueError, match="n_features"):
        top_mutual_information(X, y, 0)
    with pytest.raises(ValueError, match="unlabeled rows"):
        mutual_information(X, np.r_[y[:-1], -1])


def test_scale_to_length_constant_length():
    X = sp.csr_matrix(np.array([[1, 3, 0], [0, 0, 0], [2, 2, 4]], float))
    S = scale_to_length(X, 10.0)
    np.testing.assert_allclose(np.asarray(S.sum(axis=1)).ravel(), [10, 0, 10])
    np.testing.assert_allclose(S.toarray()[0], [2.5, 7.5, 0])
    assert sp.isspmatrix_csr(S)
    assert scale_to_length(X, None) is X


def test_read_stop_list(tmp_path):
    path = tmp_path / "stop.txt"
    path.write_text("The a\nof  and the\n")
    assert read_stop_list(path) == ["a", "and", "of", "the"]


def _old_counts(archive, split, tokens, stop_words, vocabulary):
    """nigam2000_paper._count_features as it was in the experiments layer."""
    from sklearn.feature_extraction.text import (ENGLISH_STOP_WORDS,
                                                 CountVectorizer)

    from probssl.datasets import (load_20newsgroups,
                                  load_20newsgroups_by_article)

    if split == "time":
        rest, test = load_20newsgroups_by_article(archive=archive)
    else:
        rest = load_20newsgroups("train", archive=archive)
        test = load_20newsgroups("test", archive=archive)
    stop = (sorted(ENGLISH_STOP_WORDS) if stop_words == "english" else None
            if stop_words == "none" else read_stop_list(stop_words))
    pattern = {"letters": r"[A-Za-z]+", "sklearn": r"(?u)\b\w\w+\b"}[tokens]
    if vocabulary == "count2":
        counter = CountVectorizer(token_pattern=pattern, stop_words=stop)
        counts = counter.fit_transform(list(rest.data) + list(test.data))
        keep = np.asarray(counts.sum(axis=0)).ravel() >= 2
        words = np.asarray(counter.get_feature_names_out())[keep]
        vec = CountVectorizer(token_pattern=pattern, stop_words=stop,
                              vocabulary=words).fit(rest.data[:1])
    else:
        vec = CountVectorizer(token_pattern=pattern, stop_words=stop,
                              min_df=2).fit(rest.data)
    return (vec.transform(rest.data).astype(float), rest.target,
            vec.transform(test.data).astype(float), test.target)


@pytest.mark.parametrize("choices", [
    dict(),
    dict(split="bydate", tokens="sklearn", vocabulary="min_df2"),
    dict(stop_words="none", length=1500.0),
    dict(stop_words="FILE", length=157.0),
])
def test_vectorize_20newsgroups_is_the_papers_recipe(tmp_path, monkeypatch,
                                                     choices):
    monkeypatch.setenv("PROBSSL_HOME", str(tmp_path / "home"))
    archive = write_tiny_archive(tmp_path / "20news-bydate.tar.gz", (6, 3))
    if choices.get("stop_words") == "FILE":
        (tmp_path / "stop.txt").write_text("the of and a to in is")
        choices = {**choices, "stop_words": str(tmp_path / "stop.txt")}
    c = {"split": "time", "tokens": "letters", "stop_words": "english",
         "vocabulary": "count2", "length": None, **choices}
    b = vectorize_20newsgroups(archive, **c)
    X, y, X_test, y_test = _old_counts(archive, c["split"], c["tokens"],
                                       c["stop_words"], c["vocabulary"])
    for ours, ref in ((b.X, X), (b.X_test, X_test)):
        ref = scale_to_length(ref, c["length"])
        assert ours.dtype == np.float64 and ours.shape == ref.shape
        assert (ours != ref).nnz == 0
    np.testing.assert_array_equal(b.y, y)
    np.testing.assert_array_equal(b.y_test, y_test)
    assert b.n_words == X.shape[1] and b.n_rest == len(y)
    assert b.mean_length == pytest.approx(X.sum() / X.shape[0])
    if c["length"]:
        np.testing.assert_allclose(b.X.sum(axis=1).A.ravel()[
            X.sum(axis=1).A.ravel() > 0], c["length"])
    with pytest.raises(ValueError, match="split"):
        vectorize_20newsgroups(archive, split="random")


# -- BinaryMixtureNB --------------------------------------------------------


def _old_fit_mixture(X_lab, y_lab, X_unl, n_neg, alpha=1.0, max_iter=30,
                     tol=1e-5, random_state=0):
    """nigam2000_reuters.fit_mixture as it was in the experiments layer."""
    rng = np.random.RandomState(random_state)
    K = 1 + n_neg
    allowed = np.zeros((2, K), dtype=bool)
    allowed[1, 0] = True
    allowed[0, 1:] = True
    X_lab = sp.csr_matrix(X_lab, dtype=np.float64)
    n_lab = X_lab.shape[0]
    R_lab = np.zeros((n_lab, K))
    R_lab[y_lab == 1, 0] = 1.0
    neg = np.flatnonzero(y_lab == 0)
    R_lab[neg, 1 + rng.randint(n_neg, size=len(neg))] = 1.0
    X_all = X_lab if X_unl is None else sp.vstack(
        [X_lab, sp.csr_matrix(X_unl, dtype=np.float64)]).tocsr()
    mask = np.where(allowed[y_lab], 0.0, -np.inf)
    X_stats, R, previous = X_lab, R_lab, -np.inf
    for _ in range(max_iter + 1):
        words = np.asarray((X_stats.T @ R).T)
        log_theta = (np.log(alpha + words) - np.log(
            alpha * words.shape[1] + words.sum(axis=1))[:, None])
        log_pi = np.log(1.0 + R.sum(axis=0)) - np.log(K + R.shape[0])
        joint = np.asarray(X_all @ log_theta.T) + log_pi
        joint[:n_lab] += mask
        norm = logsumexp(joint, axis=1, keepdims=True)
        bound = float(norm.sum())
        R, X_stats = np.exp(joint - norm), X_all
        if abs(bound - previous) <= tol * abs(bound):
            break
        previous = bound
    return log_theta, log_pi


def _topics(seed=1, n=500, V=40, k=4):
    rng = np.random.RandomState(seed)
    topics = rng.dirichlet(np.full(V, 0.1), size=k)   # topic 0 = positive
    z = rng.randint(k, size=n)
    X = sp.csr_matrix(np.array([rng.multinomial(30, topics[t]) for t in z]))
    return X, (z == 0).astype(int)


@pytest.mark.parametrize("n_neg,semi", [(1, False), (3, False), (1, True),
                                        (4, True)])
def test_binary_mixture_is_the_protocols_em_bit_for_bit(n_neg, semi):
    X, y = _topics()
    lab = np.r_[np.flatnonzero(y == 1)[:5], np.flatnonzero(y == 0)[:15]]
    unl = np.setdiff1d(np.arange(len(y)), lab)
    log_theta, log_pi = _old_fit_mixture(X[lab], y[lab],
                                         X[unl] if semi else None, n_neg,
                                         random_state=3)
    X_fit = sp.vstack([X[lab], X[unl]]) if semi else X[lab]
    y_fit = np.r_[y[lab], np.full(len(unl), -1)] if semi else y[lab]
    model = BinaryMixtureNB(n_neg, random_state=3).fit(X_fit, y_fit)
    np.testing.assert_array_equal(model.feature_log_prob_, log_theta)
    np.testing.assert_array_equal(model.component_log_prior_, log_pi)
    joint = np.asarray(X[unl] @ log_theta.T) + log_pi
    score = joint[:, 0] - logsumexp(joint[:, 1:], axis=1)
    np.testing.assert_array_equal(model.decision_function(X[unl]), score)
    np.testing.assert_array_equal(model.predict(X[unl]), score > 0)
    proba = model.predict_proba(X[unl])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert ((proba[:, 1] > 0.5) == (score > 0)).all()
    if semi:
        # The unlabeled rows first in the input: the same fit.
        first = BinaryMixtureNB(n_neg, random_state=3).fit(
            sp.vstack([X[unl], X[lab]]), np.r_[np.full(len(unl), -1), y[lab]])
        np.testing.assert_array_equal(first.feature_log_prob_, log_theta)


def test_one_component_binary_mixture_is_naive_bayes():
    from sklearn.naive_bayes import MultinomialNB

    rng = np.random.RandomState(0)
    X = sp.csr_matrix(rng.poisson(1.0, size=(30, 12)).astype(float))
    y = np.r_[np.ones(10, int), np.zeros(20, int)]
    model = BinaryMixtureNB().fit(X, y)
    nb = MultinomialNB(alpha=1.0).fit(X, y)
    # Component 0 is class 1, component 1 class 0.
    np.testing.assert_allclose(model.feature_log_prob_,
                               nb.feature_log_prob_[::-1])
    np.testing.assert_allclose(np.exp(model.component_log_prior_),
                               [11 / 32, 21 / 32])
    np.testing.assert_array_equal(model.classes_, [0, 1])


def test_negative_components_and_em_use_the_unlabeled_rows():
    from probssl.experiments.engine import breakeven

    X, y = _topics()
    lab = np.r_[np.flatnonzero(y == 1)[:5], np.flatnonzero(y == 0)[:15]]
    unl = np.setdiff1d(np.arange(500), lab)
    y_fit = np.r_[y[lab], np.full(len(unl), -1)]
    for n_neg in (1, 3):
        model = BinaryMixtureNB(n_neg).fit(sp.vstack([X[lab], X[unl]]), y_fit)
        assert model.feature_log_prob_.shape == (1 + n_neg, 40)
        assert breakeven(y[unl], model.decision_function(X[unl])) > 0.9
        assert 1 <= model.n_iter_ <= 31


def test_log_odds_rank_clearly_positive_documents():
    """Two documents both far on the positive side keep their order: the
    log-odds does not round to a tie as log P(1 | x) does (both 0.0)."""
    model = BinaryMixtureNB()
    model.feature_log_prob_ = np.log(np.array([[0.9, 0.1], [0.1, 0.9]]))
    model.component_log_prior_ = np.log([0.5, 0.5])
    model.classes_ = np.array([0, 1])
    X = sp.csr_matrix(np.array([[40.0, 0.0], [80.0, 0.0], [0.0, 5.0]]))
    score = model.decision_function(X)
    assert score[1] > score[0] > 0 > score[2]


@pytest.mark.parametrize("y,match", [([0, 1, 2], "y must hold"),
                                     ([0, 1, 1], None)])
def test_binary_mixture_checks(y, match):
    X = np.ones((3, 2))
    if match:
        with pytest.raises(ValueError, match=match):
            BinaryMixtureNB().fit(X, y)
    with pytest.raises(ValueError, match="n_negative_components"):
        BinaryMixtureNB(0).fit(X, [0, 1, 1])


def test_labeled_unlabeled_split_is_the_bydate_draw():
    """The draw nigam2000 / fujino2005 / mccallum1998 made by hand:
    mask_labels per class, then the unlabeled rows from the rest, one
    generator for both."""
    from probssl.datasets import labeled_unlabeled_split, mask_labels

    y = np.random.RandomState(0).randint(4, size=200)
    lab, unl = labeled_unlabeled_split(y, 20, 50, random_state=7)
    rng = np.random.RandomState(7)
    masked = mask_labels(y, 5, random_state=rng)
    np.testing.assert_array_equal(lab, np.flatnonzero(masked != -1))
    expected = rng.choice(np.flatnonzero(masked == -1), 50, replace=False)
    np.testing.assert_array_equal(unl, np.sort(expected))
    assert np.bincount(y[lab]).tolist() == [5] * 4
    assert not np.intersect1d(lab, unl).size
    with pytest.raises(ValueError, match="multiple of the 4 classes"):
        labeled_unlabeled_split(y, 22, 10)
    with pytest.raises(ValueError, match="exceeds the 180"):
        labeled_unlabeled_split(y, 20, 181)


@pytest.mark.parametrize("case, error, match", [
    ("nan", ValueError, "NaN"),
    ("negative", ValueError, "Negative values"),
    ("short y", ValueError, "inconsistent numbers of rows"),
    ("text labels", ValueError, "as integers"),
    ("no labeled rows", ValueError, "each class"),
    ("components", ValueError, "n_negative_components"),
])
def test_binary_mixture_refuses_bad_input(case, error, match):
    rng = np.random.RandomState(0)
    X = rng.poisson(1.0, size=(20, 5)).astype(float)
    y = np.r_[np.zeros(5, int), np.ones(5, int), np.full(10, -1)]
    params = {}
    if case == "nan":
        X[3, 2] = np.nan
    elif case == "negative":
        X[3, 2] = -1.0
    elif case == "short y":
        y = y[:-1]
    elif case == "text labels":
        y = y.astype(str)
    elif case == "no labeled rows":
        y = np.full(20, -1)
    else:
        params["n_negative_components"] = 0
    with pytest.raises(error, match=match):
        BinaryMixtureNB(**params).fit(X, y)


def test_binary_mixture_checks_the_width_at_predict_time():
    rng = np.random.RandomState(0)
    X = rng.poisson(1.0, size=(20, 5)).astype(float)
    y = np.r_[np.zeros(5, int), np.ones(5, int), np.full(10, -1)]
    model = BinaryMixtureNB().fit(X, y)
    with pytest.raises(ValueError, match="5 features"):
        model.predict(X[:, :4])


def test_word_selection_and_scaling_refuse_bad_input():
    from probssl.feature_selection import mutual_information, scale_to_length

    X = np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]])
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        mutual_information(X, [0, 1])
    with pytest.raises(ValueError, match="NaN"):
        mutual_information(np.where(X > 1, np.nan, X), [0, 1, 1])
    with pytest.raises(ValueError, match="Negative values"):
        scale_to_length(sp.csr_matrix(-X), 10.0)
    with pytest.raises(ValueError, match="length"):
        scale_to_length(sp.csr_matrix(X), -1.0)


def test_binary_mixture_scores_the_labeled_rows():
    rng = np.random.RandomState(0)
    X = rng.poisson(1.0, size=(20, 5)).astype(float)
    y = np.r_[np.zeros(5, int), np.ones(5, int), np.full(10, -1)]
    model = BinaryMixtureNB().fit(X, y)
    expected = np.mean(model.predict(X[:10]) == y[:10])
    assert model.score(X, y) == expected
