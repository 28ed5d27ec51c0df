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

import time

import numpy as np

from .engine import (Option, Protocol, data_option, integer, labeled_option,
                     number, text_file)
from .nigam2000 import PAPER_FIG2, need_archive
from ._nigam2000_tables import (  # noqa: F401  (public names)
    ABLATION, FIG3_UNLABELED, LAMBDAS, MODERN_CHOICES, PAPER_CHOICES,
    PAPER_FIG3, plot_paper, summarize_paper)


def _smoothing(choice):
    """``(alpha, prior_smoothing)`` of a smoothing choice."""
    return (1.0, 1.0) if choice == "laplace" else (float(choice), 0.0)


def _stop_label(choice):
    """What identifies a stop-list choice in the settings: the name, or a
    file's word count and SHA-256 (not its path)."""
    import hashlib

    from probssl.datasets import read_stop_list

    if choice in ("english", "none"):
        return choice
    words = read_stop_list(choice)
    digest = hashlib.sha256("\n".join(words).encode()).hexdigest()[:16]
    return f"file:{len(words)} words:sha256={digest}"


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


_CORPORA = {}


def corpus(s, variant):
    """Features, labels, draws and choices of one variant (cached)."""
    from probssl.datasets import vectorize_20newsgroups

    key = (variant, s["data"], s["length"], s["stop_list"])
    if key not in _CORPORA:
        c = {**PAPER_CHOICES, "length": s["length"] or None,
             "stop_words": s["stop_list"], **ABLATION.get(variant, {})}
        if variant.startswith("length="):
            c["length"] = float(variant.split("=")[1])
        b = vectorize_20newsgroups(s["data"], **{
            k: c[k] for k in ("split", "tokens", "stop_words", "vocabulary",
                              "length")})
        _CORPORA[key] = (b.X, b.y, b.X_test, b.y_test, b.n_words,
                         PaperDraws(b.y, s["n_unlabeled"], s["split_seed"]), c)
    return _CORPORA[key]


def _draws(s):
    """Every fit of the protocol, in the order the paper's parts list them
    (a fit two parts share is made once: Figure 3 at 10,000 is Figure 2)."""
    draws, U, out = corpus(s, "paper")[5], s["n_unlabeled"], {}

    def n_sets(n, most):
        return min(most, draws.n_sets(n, s["sets"]))

    def add(variant, n, t, curve, methods=(("NB", 0), ("EM", U))):
        for method, u in methods:
            d = {"variant": variant, "method": method, "n_labeled": n,
                 "n_unlabeled": u, "seed": t, "curve": curve}
            out.setdefault(tuple(d[f] for f in KEY), d)

    for n in s["labeled"] or [n for n in PAPER_FIG2 if n_sets(n, 1)]:
        for t in range(n_sets(n, s["sets"])):
            add("paper", n, t, "fig2", (("NB", 0), ("EM", U)) + (
                (("EM-lambda", U),) if t < s["lambda_sets"] else ()))
    for n in PAPER_FIG3 if s["fig3_sets"] else ():
        for t in range(n_sets(n, s["fig3_sets"])):
            add("paper", n, t, "fig3", [
                ("EM" if u else "NB", u) for u in FIG3_UNLABELED
                if draws.unlabeled_set(u, draws.labeled(n, t)) is not None])
    for variant in ["paper", *ABLATION] if s["ablation_sets"] else ():
        for n in ABLATION_SIZES:
            for t in range(n_sets(n, s["ablation_sets"])):
                add(variant, n, t, "ablation")
    for L in LENGTHS if s["length_sets"] else ():
        for n in LENGTH_SIZES:
            for t in range(0 if L == s["length"]
                           else n_sets(n, s["length_sets"])):
                add(f"length={L:g}", n, t, "length")
    return list(out.values())


def _fit(ctx, draw):
    import scipy.sparse as sp

    from probssl import EMNaiveBayes

    row = ctx.get({k: draw[k] for k in KEY})
    if row is not None:
        return [row]
    s = ctx.s
    X, y, X_test, y_test, n_words, draws, c = corpus(s, draw["variant"])
    alpha, prior = _smoothing(c["smoothing"])
    method, n, t, n_unl = (draw[k] for k in ("method", "n_labeled", "seed",
                                             "n_unlabeled"))
    lab = draws.labeled(n, t)
    unl = draws.unlabeled_set(n_unl, lab) if n_unl else lab[:0]
    X_fit = sp.vstack([X[lab], X[unl]], format="csr") if n_unl else X[lab]
    y_fit = np.r_[y[lab], np.full(len(unl), -1)]
    start = time.perf_counter()
    fits, extra = {}, {}
    for lam in s["lambdas"] if method == "EM-lambda" else (1.0,):
        fits[lam] = EMNaiveBayes(
            alpha=alpha, prior_smoothing=prior, tol=s["tol"],
            max_iter=s["max_iter"], event_model="multinomial",
            unlabeled_weight=lam).fit(X_fit, y_fit)
    lam = 1.0
    if method == "EM-lambda":
        # The paper's shortcut: EM once on all rows, then each labeled row
        # tested with its counts taken out of its class's statistics; ties
        # go to the larger lambda (more unlabeled weight).
        loo = {k: m.leave_one_out_score(X_fit, y_fit) for k, m in fits.items()}
        lam = max(reversed(s["lambdas"]), key=loo.get)
        extra = {"loo_accuracy": {str(k): v for k, v in loo.items()}}
    model, fit_time = fits[lam], time.perf_counter() - start
    acc = float(np.mean(model.predict(X_test) == y_test))
    row = ctx.add({**draw, "accuracy": acc,
                   "unlabeled_weight": float(lam) if method != "NB" else 0.0,
                   "alpha": alpha, "prior_smoothing": prior,
                   "n_test": int(y_test.size), "n_words": n_words,
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
