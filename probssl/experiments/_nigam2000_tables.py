"""Tables and figure of ``nigam2000 --protocol paper``: Figure 2 against
the published values, Figure 3, the ablation and the length sweep."""

import os

import numpy as np

from .nigam2000 import PAPER_FIG2
from ._nigam2000_recipe import (ABLATION, FIG3_UNLABELED, PAPER_CHOICES,
                                PAPER_FIG3)


def _mean(rows, **where):
    acc = [r["accuracy"] for r in rows
           if all(r.get(k) == v for k, v in where.items())]
    return (100 * np.mean(acc), 100 * np.std(acc), len(acc)) if acc else None


def _short(choice):
    text = str(choice)
    return os.path.basename(text) if os.sep in text else text


def summarize_paper(rows, choices=None):
    """Markdown: Figure 2 against the published values (gap column, mean
    absolute gap), the EM-lambda curve, Figure 3 and the ablation."""
    paper = {**PAPER_CHOICES, **(choices or {})}
    out = []
    fig2 = [r for r in rows if r["variant"] == "paper"]
    n_unl = max((r["n_unlabeled"] for r in rows
                 if r.get("curve") == "fig2"), default=10_000)
    sizes = sorted({r["n_labeled"] for r in rows if r.get("curve") == "fig2"})
    out.append("| labeled | sets | NB | published NB | gap NB | EM | "
               "published EM | gap EM | EM-λ (EM, same sets) | λ chosen |")
    out.append("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    gaps = {"NB": [], "EM": []}
    for n in sizes:
        nb = _mean(fig2, variant="paper", method="NB", n_labeled=n,
                   n_unlabeled=0)
        em = _mean(fig2, variant="paper", method="EM", n_labeled=n,
                   n_unlabeled=n_unl)
        lam = _mean(fig2, variant="paper", method="EM-lambda", n_labeled=n,
                    n_unlabeled=n_unl)
        chosen = [r["unlabeled_weight"] for r in fig2
                  if r["method"] == "EM-lambda" and r["n_labeled"] == n]
        lam_sets = {r["seed"] for r in fig2
                    if r["method"] == "EM-lambda" and r["n_labeled"] == n}
        em_same = [r["accuracy"] for r in fig2 if r["method"] == "EM"
                   and r["n_labeled"] == n and r["n_unlabeled"] == n_unl
                   and r["seed"] in lam_sets]
        pub = PAPER_FIG2.get(n)
        cells = [str(n), str(nb[2] if nb else 0)]
        for i, (name, s) in enumerate((("NB", nb), ("EM", em))):
            cells.append(f"{s[0]:.1f} ± {s[1]:.1f}" if s else "–")
            cells.append(f"{pub[i]:.1f}" if pub else "–")
            if s and pub:
                gaps[name].append(s[0] - pub[i])
                cells.append(f"{s[0] - pub[i]:+.1f}")
            else:
                cells.append("–")
        cells.append(f"{lam[0]:.1f} ({100 * np.mean(em_same):.1f})" if lam
                     else "–")
        cells.append(", ".join(f"{v:g}" for v in sorted(set(chosen)))
                     if chosen else "–")
        out.append("| " + " | ".join(cells) + " |")
    out.append("")
    for name, g in gaps.items():
        if g:
            g = np.abs(g)
            out.append(f"- {name}: mean absolute gap {g.mean():.2f} points "
                       f"over {g.size} sizes, largest {g.max():.1f} "
                       f"(target ≤ 2 and ≤ 4: "
                       f"{'met' if g.mean() <= 2 and g.max() <= 4 else 'not met'}).")
    fig3 = [r for r in rows if r["variant"] == "paper"]
    have3 = [n for n in PAPER_FIG3 if any(r.get("curve") == "fig3"
                                          and r["n_labeled"] == n
                                          for r in rows)]
    if have3:
        out += ["", "Figure 3 (ours / published, %):", "",
                "| labeled \\ unlabeled | "
                + " | ".join(str(u) for u in FIG3_UNLABELED) + " |",
                "|---|" + "---:|" * len(FIG3_UNLABELED)]
        for n in have3:
            sets = sorted({r["seed"] for r in rows if r.get("curve") == "fig3"
                           and r["n_labeled"] == n})
            cells = []
            for u, pub in zip(FIG3_UNLABELED, PAPER_FIG3[n]):
                s = [r["accuracy"] for r in fig3 if r["n_labeled"] == n
                     and r["n_unlabeled"] == u and r["seed"] in sets
                     and r["method"] == ("NB" if u == 0 else "EM")]
                cells.append(f"{100 * np.mean(s):.1f} / {pub:.1f}" if s
                             else f"– / {pub:.1f}")
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
                for m in ("NB", "EM"):
                    sets = ({r["seed"] for r in abl if r["variant"] == variant
                             and r["n_labeled"] == n}
                            if variant != "paper" else set(range(n_sets)))
                    u = 0 if m == "NB" else n_unl

                    def accs(v):
                        return [r["accuracy"] for r in rows
                                if r["variant"] == v and r["method"] == m
                                and r["n_labeled"] == n
                                and r["n_unlabeled"] == u
                                and r["seed"] in sets]
                    mine, ref = accs(variant), accs("paper")
                    if not mine:
                        cells.append("–")
                    elif variant == "paper":
                        cells.append(f"{100 * np.mean(mine):.1f}")
                    else:
                        d = 100 * (np.mean(mine) - np.mean(ref))
                        cells.append(f"{100 * np.mean(mine):.1f} ({d:+.1f})")
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
            cells = []
            for L in ls:
                v = "paper" if L == base_len else f"length={L:g}"
                pair = []
                for m, u in (("NB", 0), ("EM", n_unl)):
                    a = [r["accuracy"] for r in rows if r["variant"] == v
                         and r["method"] == m and r["n_labeled"] == n
                         and r["n_unlabeled"] == u and r["seed"] < n_sets]
                    pair.append(f"{100 * np.mean(a):.1f}" if a else "–")
                cells.append(" / ".join(pair))
            pub = PAPER_FIG2.get(n)
            cells.append(f"{pub[0]:.1f} / {pub[1]:.1f}" if pub else "–")
            out.append(f"| {n} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def plot_paper(rows, s, stem):
    """Figure 2 (ours with error bars, published points over them) and
    Figure 3 side by side."""
    from ._output import pyplot, save_figure

    plt = pyplot()

    fig, (ax, ax3) = plt.subplots(1, 2, figsize=(10, 3.8))
    fig2 = [r for r in rows if r.get("curve") == "fig2"]
    sizes = sorted({r["n_labeled"] for r in fig2})
    colors = {"NB": "C0", "EM": "C1", "EM-lambda": "C2"}
    for m in ("NB", "EM", "EM-lambda"):
        stats = [(n, _mean(fig2, method=m, n_labeled=n)) for n in sizes]
        stats = [(n, s) for n, s in stats if s]
        if not stats:
            continue
        ax.errorbar([n for n, _ in stats], [s[0] for _, s in stats],
                    yerr=[s[1] for _, s in stats], marker="o", ms=3,
                    capsize=2, color=colors[m], label=f"{m} (ours)")
    for i, m in enumerate(("NB", "EM")):
        ax.plot(list(PAPER_FIG2), [v[i] for v in PAPER_FIG2.values()], "x",
                color=colors[m], ms=7, mew=2, label=f"{m} (published)")
    ax.set_xscale("log")
    ax.set_xlabel("labeled documents")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title("Fig. 2: 10,000 unlabeled")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    for k, n in enumerate(PAPER_FIG3):
        pts = []
        for u in FIG3_UNLABELED:
            s = [r["accuracy"] for r in rows if r["variant"] == "paper"
                 and r["n_labeled"] == n and r["n_unlabeled"] == u
                 and r.get("curve") in ("fig3", "fig2")
                 and r["seed"] < 3 and r["method"] == ("NB" if u == 0
                                                       else "EM")]
            if s:
                pts.append((u, 100 * np.mean(s)))
        if pts:
            ax3.plot(*zip(*pts), "-o", ms=3, color=f"C{k}",
                     label=f"{n} labeled")
        ax3.plot(FIG3_UNLABELED, PAPER_FIG3[n], "x", color=f"C{k}")
    ax3.set_xlabel("unlabeled documents")
    ax3.set_title("Fig. 3 (lines: ours; x: published)")
    if ax3.get_legend_handles_labels()[0]:
        ax3.legend(fontsize=7)
    ax3.grid(alpha=0.3)
    save_figure(fig, stem)
