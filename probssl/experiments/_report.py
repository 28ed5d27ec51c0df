"""Result rows to CSV, JSON and Markdown; shared by the protocols."""

import csv
import json
import os
from collections import defaultdict

import numpy as np


def write_rows(rows, out):
    """``results.csv`` and ``results.json`` in folder ``out``."""
    os.makedirs(out, exist_ok=True)
    fields = list(dict.fromkeys(k for row in rows for k in row))
    with open(os.path.join(out, "results.csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(rows, f, indent=1)


def mean_std_table(rows, keys, metrics=("accuracy", "macro_f1"),
                   extra=None):
    """Markdown table of ``metrics`` (mean ± std over seeds, in %) for each
    distinct value of ``keys``, in order of first appearance. ``extra``
    maps a key tuple to more cells (e.g. published figures)."""
    groups = defaultdict(list)
    for row in rows:
        groups[tuple(row[k] for k in keys)].append(row)
    header = list(keys) + list(metrics) + ["fit time (s)", "seeds"]
    if extra:
        header += extra["columns"]
    lines = ["| " + " | ".join(header) + " |",
             "|" + "---|" * len(header)]
    for key, group in groups.items():
        cells = [str(v) for v in key]
        for m in metrics:
            vals = 100 * np.array([r[m] for r in group])
            cells.append(f"{vals.mean():.1f} ± {vals.std():.1f}")
        cells.append(f"{np.mean([r['fit_time_s'] for r in group]):.2f}")
        cells.append(str(len(group)))
        if extra:
            cells += extra["cells"](key)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
