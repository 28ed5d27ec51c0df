"""Nigam et al.'s (2000) recipe as data (the published Figure 3 points,
the paper's choices and the modern variant's, the ablation's variants) and
the tables and figure of ``nigam2000 --protocol paper``: Figure 2 against
the published values, Figure 3, the ablation and the length sweep."""

import os

import numpy as np

from .engine import published_values
from .nigam2000 import PAPER_FIG2, PUBLISHED

FIG3_UNLABELED = (0, 500, 1000, 1500, 2000, 3000, 5000, 7000, 10000, 13000)
PAPER_FIG3 = {n: tuple(v) for n, v in published_values(
    "nigam2000 Fig. 3 (EM by unlabeled)", int).items()}
LAMBDAS = (0.0, 0.01, 0.03, 0.1, 0.3, 1.0)

# The paper's choices, and the modern variant's (``--protocol bydate``) one
# for each, switched one at a time by the ablation.
PAPER_CHOICES = {
    "split": "time",          # last 20 % of each group by article number
    "tokens": "letters",      # runs of letters, lower-cased, unstemmed
    "stop_words": "english",  # scikit-learn's English list (see below)
    "vocabulary": "count2",   # words occurring more than once, all posts
    "length": 1500.0,         # counts scaled to this length (see docs)
    "smoothing": "laplace",   # alpha = 1 on words, 1 on class priors
}
MODERN_CHOICES = {
    "split": "bydate",        # the bydate train / test folders
    "tokens": "sklearn",      # CountVectorizer's default (\b\w\w+\b)
    "stop_words": "none",     # both protocols use the English list: the
                              # ablation shows the list's worth instead
    "vocabulary": "min_df2",  # words in >= 2 training documents
    "length": None,           # raw counts
    "smoothing": "0.01",      # alpha = 0.01, ML class priors
}
# The ablation's variants: each paper choice switched alone, then the two
# that act together (length and smoothing: add-one on 1,500-word documents
# is a weak prior, on raw counts a strong one), then all of them but the
# split, and all (the modern recipe of --protocol bydate, with this
# protocol's draws). Both recipes use scikit-learn's English stop list.
ABLATION = {
    **{name: {name: value} for name, value in MODERN_CHOICES.items()},
    "length+smoothing": {"length": None, "smoothing": "0.01"},
    "all but split": {k: v for k, v in MODERN_CHOICES.items()
                      if k not in ("split", "stop_words")},
    "all": {k: v for k, v in MODERN_CHOICES.items() if k != "stop_words"},
}


def _acc(rows, sets=None, **where):
    """Mean accuracy (%) of the rows with these field values (and seeds in
    ``sets``), or None."""
    acc = [r["accuracy"] for r in rows if (sets is None or r["seed"] in sets)
           and all(r.get(k) == v for k, v in where.items())]
    return 100 * np.mean(acc) if acc else None


def _pct(a):
    return "–" if a is None else f"{a:.1f}"


def _head(title, cols, first="|---|"):
    return ["", title, "", "| " + " | ".join(cols) + " |",
            first + "---:|" * (len(cols) - 1)]


def _short(choice):
    text = str(choice)
    return os.path.basename(text) if os.sep in text else text


def summarize_paper(rows, choices=None):
    """Markdown: Figure 2 against the published values (gap columns, mean
    absolute gap) with the EM-lambda curve and the λ it chose, Figure 3,
    the ablation and the length sweep."""
    from ._output import markdown

    paper = {**PAPER_CHOICES, **(choices or {})}
    fig2, proto = _fig2(rows)
    n_unl = max((r["n_unlabeled"] for r in fig2), default=10_000)
    both = (("NB", 0), ("EM", n_unl))
    out, chosen = [markdown(proto, fig2)], {}
    for r in fig2:
        if r["method"] == "EM-lambda":
            chosen.setdefault(r["n_labeled"], set()).add(r["unlabeled_weight"])
    if chosen:
        out.append("- λ chosen by leave-one-out (EM-lambda): " + "; ".join(
            f"{n}: " + ", ".join(f"{v:g}" for v in sorted(c))
            for n, c in sorted(chosen.items())))
    curve = {c: [r for r in rows if r.get("curve") == c]
             for c in ("fig3", "ablation", "length")}
    have3 = [n for n in PAPER_FIG3 if any(r["n_labeled"] == n
                                          for r in curve["fig3"])]
    if have3:
        out += _head("Figure 3 (ours / published, %):", [
            "labeled \\ unlabeled", *map(str, FIG3_UNLABELED)])
        for n in have3:
            sets = {r["seed"] for r in curve["fig3"] if r["n_labeled"] == n}
            out.append(f"| {n} ({len(sets)} sets) | " + " | ".join(
                _pct(_acc(rows, sets, variant="paper", n_labeled=n,
                          n_unlabeled=u, method="EM" if u else "NB"))
                + f" / {pub:.1f}"
                for u, pub in zip(FIG3_UNLABELED, PAPER_FIG3[n])) + " |")
    abl = curve["ablation"]
    if abl:
        asizes = sorted({r["n_labeled"] for r in abl})
        out += _head("Ablation (each paper choice switched to the modern "
                     "one; accuracy %, Δ against the paper recipe on the "
                     "same sets):", ["variant", *(f"{m} {n}" for n in asizes
                                                  for m in ("NB", "EM"))])
        n_sets = max(r["seed"] for r in abl) + 1
        for variant in ["paper", *ABLATION]:
            cells = []
            for n in asizes:
                sets = ({r["seed"] for r in abl if r["variant"] == variant
                         and r["n_labeled"] == n} if variant != "paper"
                        else set(range(n_sets)))
                for m, u in both:
                    mine, ref = (_acc(rows, sets, variant=v, method=m,
                                      n_labeled=n, n_unlabeled=u)
                                 for v in (variant, "paper"))
                    cells.append(_pct(mine) + ("" if mine is None or variant
                                               == "paper" else
                                               f" ({mine - ref:+.1f})"))
            label = (variant if variant == "paper" else
                     f"{variant}: " + ", ".join(
                         f"{_short(paper[k])} → {v}"
                         for k, v in ABLATION[variant].items()))
            out.append(f"| {label} | " + " | ".join(cells) + " |")
    if curve["length"]:
        base_len = (choices or PAPER_CHOICES)["length"]
        ls = sorted({float(r["variant"].split("=")[1])
                     for r in curve["length"]} | {base_len})
        n_sets = max(r["seed"] for r in curve["length"]) + 1
        out += _head(f"The constant length (NB / EM, %, first {n_sets} "
                     "sets; published in the last column):", [
                         "labeled", *(f"L = {L:g}" for L in ls),
                         "published"], "|---:|")
        for n in sorted({r["n_labeled"] for r in curve["length"]}):
            cells = [" / ".join(_pct(_acc(
                rows, range(n_sets), method=m, n_labeled=n, n_unlabeled=u,
                variant="paper" if L == base_len else f"length={L:g}"))
                for m, u in both) for L in ls]
            pub = PAPER_FIG2.get(n)
            cells.append(f"{pub[0]:.1f} / {pub[1]:.1f}" if pub else "–")
            out.append(f"| {n} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def _fig2(rows):
    """Figure 2's rows and a declaration of their table and figure (the
    engine's: ours, the published values, the gaps)."""
    from ._protocol import Protocol

    return [r for r in rows if r.get("curve") == "fig2"], Protocol(
        "nigam2000", "Nigam et al. (2000), Fig. 2: 10,000 unlabeled",
        published=PUBLISHED, published_label="Nigam et al. 2000, Fig. 2",
        metrics=("accuracy",))


def plot_paper(rows, s, stem):
    """Figure 2: ours with error bars, the published points over them."""
    from ._output import figure

    fig2, proto = _fig2(rows)
    figure(proto, fig2, stem)
