"""Tables and figure of ``nigam2000 --protocol paper``: Figure 2 against
the published values, Figure 3, the ablation and the length sweep."""

import os

import numpy as np

from .nigam2000 import PAPER_FIG2, PUBLISHED
from ._nigam2000_recipe import (ABLATION, FIG3_UNLABELED, PAPER_CHOICES,
                                PAPER_FIG3)


def _acc(rows, sets=None, **where):
    """Mean accuracy (%) of the rows with these field values (and seeds in
    ``sets``), or None."""
    acc = [r["accuracy"] for r in rows if (sets is None or r["seed"] in sets)
           and all(r.get(k) == v for k, v in where.items())]
    return 100 * np.mean(acc) if acc else None


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
    out = [markdown(proto, fig2)]
    chosen = {}
    for r in fig2:
        if r["method"] == "EM-lambda":
            chosen.setdefault(r["n_labeled"], set()).add(r["unlabeled_weight"])
    if chosen:
        out.append("- λ chosen by leave-one-out (EM-lambda): " + "; ".join(
            f"{n}: " + ", ".join(f"{v:g}" for v in sorted(c))
            for n, c in sorted(chosen.items())))
    have3 = [n for n in PAPER_FIG3 if any(r.get("curve") == "fig3"
                                          and r["n_labeled"] == n
                                          for r in rows)]
    if have3:
        out += ["", "Figure 3 (ours / published, %):", "",
                "| labeled \\ unlabeled | "
                + " | ".join(str(u) for u in FIG3_UNLABELED) + " |",
                "|---|" + "---:|" * len(FIG3_UNLABELED)]
        for n in have3:
            sets = {r["seed"] for r in rows if r.get("curve") == "fig3"
                    and r["n_labeled"] == n}
            cells = [(lambda a: "–" if a is None else f"{a:.1f}")(_acc(
                rows, sets, variant="paper", n_labeled=n, n_unlabeled=u,
                method="EM" if u else "NB")) + f" / {pub:.1f}"
                for u, pub in zip(FIG3_UNLABELED, PAPER_FIG3[n])]
            out.append(f"| {n} ({len(sets)} sets) | " + " | ".join(cells)
                       + " |")
    abl = [r for r in rows if r.get("curve") == "ablation"]
    if abl:
        asizes = sorted({r["n_labeled"] for r in abl})
        out += ["", "Ablation (each paper choice switched to the modern "
                "one; accuracy %, Δ against the paper recipe on the same "
                "sets):", "",
                "| variant | " + " | ".join(f"NB {n} | EM {n}"
                                           for n in asizes) + " |",
                "|---|" + "---:|---:|" * len(asizes)]
        n_sets = max(r["seed"] for r in abl) + 1
        for variant in ["paper", *ABLATION]:
            cells = []
            for n in asizes:
                sets = ({r["seed"] for r in abl if r["variant"] == variant
                         and r["n_labeled"] == n} if variant != "paper"
                        else set(range(n_sets)))
                for m, u in (("NB", 0), ("EM", n_unl)):
                    mine, ref = (_acc(rows, sets, variant=v, method=m,
                                      n_labeled=n, n_unlabeled=u)
                                 for v in (variant, "paper"))
                    cells.append("–" if mine is None else f"{mine:.1f}" + (
                        "" if variant == "paper" else f" ({mine - ref:+.1f})"))
            label = (variant if variant == "paper" else
                     f"{variant}: " + ", ".join(
                         f"{_short(paper[k])} → {v}"
                         for k, v in ABLATION[variant].items()))
            out.append(f"| {label} | " + " | ".join(cells) + " |")
    sweep = [r for r in rows if r.get("curve") == "length"]
    if sweep:
        ls = sorted({float(r["variant"].split("=")[1]) for r in sweep})
        base_len = (choices or PAPER_CHOICES)["length"]
        ls = sorted(set(ls) | {base_len})
        lsizes = sorted({r["n_labeled"] for r in sweep})
        n_sets = max(r["seed"] for r in sweep) + 1
        out += ["", f"The constant length (NB / EM, %, first {n_sets} sets; "
                f"published in the last column):", "",
                "| labeled | " + " | ".join(f"L = {L:g}" for L in ls)
                + " | published |",
                "|---:|" + "---:|" * (len(ls) + 1)]
        for n in lsizes:
            cells = [" / ".join("–" if a is None else f"{a:.1f}" for a in (
                _acc(rows, range(n_sets), method=m, n_labeled=n,
                     n_unlabeled=u, variant="paper" if L == base_len
                     else f"length={L:g}") for m, u in (("NB", 0),
                                                         ("EM", n_unl))))
                     for L in ls]
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
