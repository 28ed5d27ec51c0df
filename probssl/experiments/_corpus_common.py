"""What the WebKB, co-training, Reuters and user-corpus protocols share:
the precision-recall breakeven, side-by-side tables (ours beside the
published values) and saving a figure as PNG and PDF."""

# SPDX-License-Identifier: BSD-3-Clause

from collections import defaultdict

import numpy as np


def breakeven(y_true, scores):
    """Precision-recall breakeven point of ``scores`` for the positive
    class ``y_true == 1`` (Nigam et al. 2000, Table 4; Lewis 1992).

    The ranking is cut after as many rows as there are positives: there
    precision and recall are both ``hits / n_positive``, which is where
    they meet. Ties keep row order.
    """
    y_true = np.asarray(y_true).astype(bool)
    n_pos = int(y_true.sum())
    if n_pos == 0:
        raise ValueError("breakeven needs at least one positive row.")
    order = np.argsort(-np.asarray(scores, dtype=float), kind="stable")
    return float(y_true[order[:n_pos]].sum() / n_pos)


def group_mean(rows, keys, metric):
    """``{key tuple: (mean, n)}`` of ``metric`` over rows."""
    groups = defaultdict(list)
    for row in rows:
        if row.get(metric) is not None:
            groups[tuple(row[k] for k in keys)].append(row[metric])
    return {k: (float(np.mean(v)), len(v)) for k, v in groups.items()}


def side_by_side(rows, keys, metric, published, scale=100.0, digits=1,
                 time_key="fit_time_s"):
    """Markdown table: one line per key, ours (mean of draws) beside the
    published value and the gap; ``published`` maps key tuples to numbers
    (in the same unit as ``metric * scale``)."""
    means = group_mean(rows, keys, metric)
    times = group_mean(rows, keys, time_key)
    header = list(keys) + [f"ours ({metric})", "published", "gap", "draws",
                           "fit time (s)"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    gaps, by_first = [], defaultdict(list)
    for key, (mean, n) in means.items():
        ours = scale * mean
        pub = published.get(key)
        gap = "" if pub is None else f"{ours - pub:+.{digits}f}"
        if pub is not None:
            gaps.append(abs(ours - pub))
            by_first[key[0]].append(abs(ours - pub))
        t = times.get(key, (float("nan"), 0))[0]
        lines.append("| " + " | ".join(
            [str(k) for k in key] + [f"{ours:.{digits}f}",
                                     "" if pub is None else f"{pub:.{digits}f}",
                                     gap, str(n), f"{t:.2f}"]) + " |")
    if gaps:
        lines.append(f"\nmean |gap| {np.mean(gaps):.1f} points, largest "
                     f"{np.max(gaps):.1f}, over {len(gaps)} published values.")
        if len(keys) > 1:
            lines += [f"- {first}: mean |gap| {np.mean(g):.1f}, largest "
                      f"{np.max(g):.1f} ({len(g)} values)"
                      for first, g in by_first.items()]
    return "\n".join(lines)


def save(fig, stem):
    """Write ``fig`` as PNG and PDF and close it."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(stem + ".png", dpi=120)
    fig.savefig(stem + ".pdf")
    plt.close(fig)
