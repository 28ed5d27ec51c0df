"""Nigam et al. (2000), ``probssl run nigam2000 --protocol paper``: the
paper's own recipe on all 18,846 bydate posts.

The test set is the last 20 % of every group by article number; counts are
scaled to one constant length (``--length``); add-one smoothing; 10,000
unlabeled posts and, per labeled size, up to ``--sets`` non-overlapping
balanced labeled sets (:class:`PaperDraws`). Besides Figure 2 (NB, EM):
EM-λ (λ by leave-one-out on the labeled rows, the estimator's
:meth:`~probssl.EMNaiveBayes.leave_one_out_score`) on the
first ``--lambda-sets`` sets, Figure 3 (accuracy against the number of
unlabeled posts, ``--fig3-sets``), an ablation switching each of the
paper's choices to the modern one (``--ablation-sets``) and a sweep of the
constant length (``--length-sets``); 0 sets leaves a part out. See
docs/results.md.
"""

import functools
import time

import numpy as np

from .engine import (Option, Protocol, data_option, integer, labeled_option,
                     number, text_file)
from .nigam2000 import PAPER_FIG2, need_archive
from ._nigam2000_tables import plot_paper, summarize_paper
from ._nigam2000_recipe import (  # noqa: F401  (public names)
    ABLATION, FIG3_UNLABELED, LAMBDAS, MODERN_CHOICES, PAPER_CHOICES,
    PAPER_FIG3)

_TOKEN_PATTERNS = {"letters": r"[A-Za-z]+", "sklearn": r"(?u)\b\w\w+\b"}


def _smoothing(choice):
    """``(alpha, prior_smoothing)`` of a smoothing choice."""
    if choice == "laplace":
        return 1.0, 1.0
    return float(choice), 0.0


def read_stop_list(path):
    """The words of a stop-list file (whitespace-separated, lower-cased).

    For the paper's own list: Rainbow's built-in SMART list (524 entries,
    ``stopwords.c`` of McCallum's libbow), which probssl does not ship.
    """
    with open(path, encoding="utf-8") as f:
        return sorted({w.lower() for w in f.read().split()})


def _stop_label(choice):
    """What identifies a stop-list choice in the settings: the name, or a
    file's word count and SHA-256 (not its path)."""
    import hashlib

    if choice in ("english", "none"):
        return choice
    words = read_stop_list(choice)
    digest = hashlib.sha256("\n".join(words).encode()).hexdigest()[:16]
    return f"file:{len(words)} words:sha256={digest}"


def scale_rows(X, length):
    """Every row of ``X`` scaled to sum ``length`` (fractional counts);
    ``None`` leaves ``X`` as it is; empty rows stay empty."""
    import scipy.sparse as sp

    if length is None:
        return X
    totals = np.asarray(X.sum(axis=1), dtype=np.float64).ravel()
    factor = np.divide(float(length), totals, out=np.zeros_like(totals),
                       where=totals > 0)
    return sp.csr_matrix(sp.diags(factor) @ X)


def paper_corpus(archive, choices=None, verbose=False):
    """Features of the paper's protocol (or of one ablation variant).

    Parameters
    ----------
    archive : str
        The 20 Newsgroups bydate archive.
    choices : dict, default=None
        :data:`PAPER_CHOICES` with any entries replaced (``split``,
        ``tokens``, ``stop_words``, ``vocabulary``, ``length``;
        ``smoothing`` is for the models).

    Returns
    -------
    X_rest, y_rest, X_test, y_test, info
        CSR matrices (scaled when ``length`` is set) and labels; ``rest``
        is where unlabeled and labeled posts are drawn from. ``info`` holds
        the vocabulary size and the mean raw length.
    """
    c = {**PAPER_CHOICES, **(choices or {})}
    X_rest, y_rest, X_test, y_test, info = _count_features(
        archive, c["split"], c["tokens"], c["stop_words"], c["vocabulary"])
    if verbose:
        print(f"  corpus {c}: {info}", flush=True)
    return (scale_rows(X_rest, c["length"]), y_rest,
            scale_rows(X_test, c["length"]), y_test, dict(info))


@functools.lru_cache(maxsize=3)
def _count_features(archive, split, tokens, stop_words, vocabulary):
    """Raw count matrices of one preprocessing; cached in the process
    because the ablation's length and smoothing variants (and repeated
    runs in one process) share them. Callers must not modify them."""
    from sklearn.feature_extraction.text import (
        ENGLISH_STOP_WORDS,
        CountVectorizer,
    )

    from probssl.datasets import (
        load_20newsgroups,
        load_20newsgroups_by_article,
    )

    c = {"split": split, "tokens": tokens, "stop_words": stop_words,
         "vocabulary": vocabulary}
    # Headers (the Subject line among them) end at the first blank line.
    if c["split"] == "time":
        rest, test = load_20newsgroups_by_article(archive=archive)
    elif c["split"] == "bydate":
        rest = load_20newsgroups("train", archive=archive)
        test = load_20newsgroups("test", archive=archive)
    else:
        raise ValueError(f"unknown split {c['split']!r}")
    if c["stop_words"] == "english":
        stop = sorted(ENGLISH_STOP_WORDS)
    elif c["stop_words"] == "none":
        stop = None
    else:
        stop = read_stop_list(c["stop_words"])
    pattern = _TOKEN_PATTERNS[c["tokens"]]
    if c["vocabulary"] == "count2":
        # The paper keeps words occurring more than once in the corpus (no
        # labels involved, so the test posts count too).
        counter = CountVectorizer(token_pattern=pattern, stop_words=stop)
        counts = counter.fit_transform(list(rest.data) + list(test.data))
        keep = np.asarray(counts.sum(axis=0)).ravel() >= 2
        words = np.asarray(counter.get_feature_names_out())[keep]
        vectorizer = CountVectorizer(token_pattern=pattern, stop_words=stop,
                                     vocabulary=words)
        vectorizer.fit(rest.data[:1])
    elif c["vocabulary"] == "min_df2":
        vectorizer = CountVectorizer(token_pattern=pattern, stop_words=stop,
                                     min_df=2).fit(rest.data)
    else:
        raise ValueError(f"unknown vocabulary {c['vocabulary']!r}")
    X_rest = vectorizer.transform(rest.data).astype(np.float64)
    X_test = vectorizer.transform(test.data).astype(np.float64)
    info = {"n_words": int(X_rest.shape[1]),
            "mean_length": float(X_rest.sum() / X_rest.shape[0]),
            "n_rest": int(X_rest.shape[0]), "n_test": int(X_test.shape[0])}
    return X_rest, rest.target, X_test, test.target, info


class PaperDraws:
    """The paper's random sets: 10,000 unlabeled posts and, per size,
    non-overlapping balanced labeled sets from the remaining pool.

    One permutation of the ``rest`` posts (seed ``split_seed``): its first
    ``n_unlabeled`` are the unlabeled set; the pool is the rest, each
    class's pool in permutation order, and labeled set ``t`` of size ``n``
    takes posts ``t * n/C .. (t + 1) * n/C - 1`` of every class's pool, so
    sets of one size never overlap. The Figure 3 unlabeled sets are
    prefixes of the unlabeled set followed by the pool minus the labeled
    set, so 10,000 is Figure 2's set and more takes posts from the pool.
    """

    def __init__(self, y_rest, n_unlabeled=10_000, split_seed=0):
        self.y = np.asarray(y_rest)
        self.classes = np.unique(self.y)
        if n_unlabeled >= self.y.size:
            raise ValueError(f"n_unlabeled={n_unlabeled} leaves no labeled "
                             f"pool among {self.y.size} posts")
        perm = np.random.RandomState(split_seed).permutation(self.y.size)
        self.unlabeled = perm[:n_unlabeled]
        self.pool = perm[n_unlabeled:]
        self.class_pool = [self.pool[self.y[self.pool] == c]
                           for c in self.classes]

    def n_sets(self, n_labeled, max_sets=10):
        """How many non-overlapping balanced sets of ``n_labeled`` fit."""
        C = self.classes.size
        if n_labeled % C:
            raise ValueError(f"n_labeled={n_labeled} is not a multiple of "
                             f"the {C} classes")
        per = n_labeled // C
        return min(max_sets, min(p.size for p in self.class_pool) // per)

    def labeled(self, n_labeled, t):
        per = n_labeled // self.classes.size
        return np.concatenate([p[t * per:(t + 1) * per]
                               for p in self.class_pool])

    def unlabeled_set(self, n_unlabeled, labeled):
        """``n_unlabeled`` posts, or None if the pool is too small."""
        extra = self.pool[~np.isin(self.pool, labeled)]
        order = np.concatenate([self.unlabeled, extra])
        if n_unlabeled > order.size:
            return None
        return np.sort(order[:n_unlabeled])


def _stack(X, lab, unl):
    import scipy.sparse as sp

    return sp.vstack([X[lab], X[unl]], format="csr")


def _labels(y, lab, unl):
    return np.concatenate([y[lab], np.full(len(unl), -1)])


_CORPORA = {}


def corpus(s, variant):
    """Features, labels, draws and choices of one variant (cached)."""
    key = (variant, s["data"], s["length"], s["stop_list"])
    if key not in _CORPORA:
        choices = {**PAPER_CHOICES, "length": s["length"] or None,
                   "stop_words": s["stop_list"], **ABLATION.get(variant, {})}
        if variant.startswith("length="):
            choices["length"] = float(variant.split("=")[1])
        data = paper_corpus(s["data"], choices)
        _CORPORA[key] = data + (PaperDraws(data[1], s["n_unlabeled"],
                                           s["split_seed"]), choices)
    return _CORPORA[key]


def _draws(s):
    """Every fit of the protocol, in the order the paper's parts list them
    (a fit two parts share is made once: Figure 3 at 10,000 is Figure 2)."""
    draws = corpus(s, "paper")[5]
    sizes = s["labeled"] or [n for n in PAPER_FIG2
                             if draws.n_sets(n, s["sets"]) > 0]
    out = []

    def add(variant, method, n, t, u, curve):
        out.append({"variant": variant, "method": method, "n_labeled": n,
                    "n_unlabeled": u, "seed": t, "curve": curve})

    for n in sizes:
        for t in range(draws.n_sets(n, s["sets"])):
            add("paper", "NB", n, t, 0, "fig2")
            add("paper", "EM", n, t, s["n_unlabeled"], "fig2")
            if t < s["lambda_sets"]:
                add("paper", "EM-lambda", n, t, s["n_unlabeled"], "fig2")
    for n in PAPER_FIG3 if s["fig3_sets"] else ():
        for t in range(min(s["fig3_sets"], draws.n_sets(n, s["sets"]))):
            for u in FIG3_UNLABELED:
                if draws.unlabeled_set(u, draws.labeled(n, t)) is not None:
                    add("paper", "EM" if u else "NB", n, t, u, "fig3")
    for variant in ["paper", *ABLATION] if s["ablation_sets"] else ():
        for n in ABLATION_SIZES:
            for t in range(min(s["ablation_sets"],
                               draws.n_sets(n, s["sets"]))):
                add(variant, "NB", n, t, 0, "ablation")
                add(variant, "EM", n, t, s["n_unlabeled"], "ablation")
    for L in LENGTHS if s["length_sets"] else ():
        for n in LENGTH_SIZES:
            if L == s["length"] or draws.n_sets(n, s["sets"]) == 0:
                continue
            for t in range(min(s["length_sets"], draws.n_sets(n, s["sets"]))):
                add(f"length={L:g}", "NB", n, t, 0, "length")
                add(f"length={L:g}", "EM", n, t, s["n_unlabeled"], "length")
    seen, unique = set(), []
    for d in out:
        k = tuple(d[f] for f in KEY)
        if k not in seen:
            seen.add(k)
            unique.append(d)
    return unique


def _fit(ctx, draw):
    from probssl import EMNaiveBayes

    key = {k: draw[k] for k in KEY}
    row = ctx.get(key)
    if row is not None:
        return [row]
    s = ctx.s
    X, y, X_test, y_test, info, draws, choices = corpus(s, draw["variant"])
    alpha, prior = _smoothing(choices["smoothing"])
    method, n, t, n_unl = (draw[k] for k in ("method", "n_labeled", "seed",
                                             "n_unlabeled"))
    lab = draws.labeled(n, t)
    unl = (draws.unlabeled_set(n_unl, lab) if n_unl
           else np.array([], dtype=int))
    start = time.perf_counter()
    extra, lam = {}, 1.0
    params = dict(alpha=alpha, prior_smoothing=prior, tol=s["tol"],
                  max_iter=s["max_iter"], event_model="multinomial")
    if method == "NB" or n_unl == 0:
        model = EMNaiveBayes(**params).fit(X[lab], y[lab])
    elif method == "EM":
        model = EMNaiveBayes(**params).fit(_stack(X, lab, unl),
                                           _labels(y, lab, unl))
    else:  # EM-lambda, lambda by leave-one-out on the labeled rows
        best, loo = None, {}
        for lam in s["lambdas"]:
            X_fit, y_fit = _stack(X, lab, unl), _labels(y, lab, unl)
            m = EMNaiveBayes(unlabeled_weight=lam, **params).fit(X_fit, y_fit)
            # The paper's shortcut: EM once on all rows, then each labeled
            # row tested with its counts taken out of its class's statistics.
            loo[lam] = m.leave_one_out_score(X_fit, y_fit)
            # Ties go to the larger lambda (more unlabeled weight).
            if best is None or loo[lam] >= loo[best[0]]:
                best = (lam, m)
        lam, model = best
        extra = {"loo_accuracy": {str(k): v for k, v in loo.items()}}
    fit_time = time.perf_counter() - start
    acc = float(np.mean(model.predict(X_test) == y_test))
    row = ctx.add({**draw, "accuracy": acc,
                   "unlabeled_weight": float(lam) if method != "NB" else 0.0,
                   "alpha": alpha, "prior_smoothing": prior,
                   "n_test": int(y_test.size), "n_words": info["n_words"],
                   "fit_time_s": fit_time,
                   "n_iter": int(getattr(model, "n_iter_", 0)), **extra})
    ctx.log(f"{draw['variant']:10s} {method:9s} labeled={n:5d} "
            f"unlabeled={n_unl:5d} set={t} accuracy {acc:.4f} "
            f"({fit_time:.1f} s)")
    return [row]


def _check(s):
    need_archive(s)
    s["stop_list"] = s["stop_list"] or "english"
    s["stop_words"] = _stop_label(s["stop_list"])


KEY = ("variant", "method", "n_labeled", "n_unlabeled", "seed")
ABLATION_SIZES = (100, 300)
LENGTHS = (157.0, 500.0, 5000.0)
LENGTH_SIZES = (20, 100, 300, 1000, 3000)


def _sets(default, what):
    return Option(f"{what}_sets", default, integer(0, 100),
                  f"labeled sets per size of the {what.replace('_', ' ')} "
                  "part (0 leaves it out)", selects=True)


PROTOCOL = Protocol(
    name="nigam2000", title="Nigam et al. (2000), the paper's recipe: "
    "Figures 2-3, EM-λ, ablation",
    options=(data_option(),
             labeled_option((), 20, "Figure 2 sizes (default: every "
                            "published size the pool allows)"),
             Option("sets", 10, integer(1, 100),
                    "labeled sets per size at most (the paper: 10)",
                    selects=True),
             Option("length", PAPER_CHOICES["length"], number(0, 1e9),
                    "the constant document length (0 keeps raw counts)"),
             Option("stop_list", None, text_file,
                    "a stop-list file (whitespace-separated words) instead "
                    "of scikit-learn's English list, e.g. Rainbow's SMART "
                    "list"),
             _sets(3, "lambda"), _sets(3, "fig3"), _sets(5, "ablation"),
             _sets(3, "length"),
             Option("lambdas", LAMBDAS, None, cli=False)),
    constants={"n_unlabeled": 10_000, "split_seed": 0, "tol": 1e-6,
               "max_iter": 100},
    load=None, check=_check, draws=_draws, run_draw=_fit, key=KEY,
    summarize=lambda rows, s: summarize_paper(rows, {
        "length": s["length"] or None, "stop_words": s["stop_list"]}),
    figure=plot_paper, metrics=("accuracy",),
    table=False,
    report={"labeled": "20,100,300,1000,3000", "sets": 3, "lambda_sets": 1,
            "fig3_sets": 1, "ablation_sets": 1, "length_sets": 1},
    about=__doc__.split("\n\n", 1)[1].strip())
