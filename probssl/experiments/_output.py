"""Tables (Markdown, CSV, LaTeX) and figures (PNG, PDF) of a protocol's
rows, with the published values beside ours (see :mod:`.engine`)."""

import csv
import io
import os
import sys
import time
from collections import defaultdict

import numpy as np

from .._cache import atomic_write


def _sortable(v):
    return (0, v, "") if isinstance(v, (int, float)) else (1, 0, str(v))


def _published(proto, method, key):
    table = proto.published.get(method, {})
    if key in table:
        return table[key]
    return table.get(key[0]) if len(key) == 1 else None


def summary(proto, rows, metric=None):
    """The default table: one line per (group..., x), per method the mean
    and standard deviation of ``metric`` over draws, the published value
    and the gap. Returns ``(header, lines)``: ``lines`` of dicts."""
    metric = metric or proto.metrics[0]
    fields = (*proto.group, proto.x)
    methods = list(dict.fromkeys(r["method"] for r in rows))
    groups = defaultdict(lambda: defaultdict(list))
    for r in rows:
        if r.get(metric) is None or any(f not in r for f in fields):
            continue
        groups[tuple(r[f] for f in fields)][r["method"]].append(r[metric])
    published = [m for m in methods if proto.published.get(m)]
    lines = []
    for key in sorted(groups, key=lambda k: [_sortable(v) for v in k]):
        line = dict(zip(fields, key))
        for m in methods:
            vals = np.asarray(groups[key].get(m, []), dtype=float)
            line[m] = (vals.mean(), vals.std(), vals.size) if vals.size \
                else None
        for m in published:
            line[f"{m} published"] = _published(proto, m, key[len(
                proto.group):] if not proto.group else key)
        lines.append(line)
    header = list(fields) + methods + [f"{m} published" for m in published]
    return header, lines, metric


def _cell(value):
    if value is None:
        return "–"
    if isinstance(value, tuple):
        mean, std, n = value
        return f"{100 * mean:.1f} ± {100 * std:.1f}"
    if isinstance(value, float):
        return f"{100 * value:.1f}"
    return str(value)


def markdown(proto, rows):
    header, lines, metric = summary(proto, rows)
    n = max((v[2] for ln in lines for v in ln.values()
             if isinstance(v, tuple)), default=0)
    cols = header + [f"gap {h.split(' published')[0]}" for h in header
                     if h.endswith(" published")]
    out = ["| " + " | ".join(cols) + " |", "|" + "---:|" * len(cols)]
    for ln in lines:
        cells = [_cell(ln.get(h)) for h in header]
        for h in header:
            if h.endswith(" published"):
                ours, pub = ln.get(h[:-len(" published")]), ln.get(h)
                cells.append(f"{100 * (ours[0] - pub):+.1f}"
                             if ours and pub is not None else "–")
        out.append("| " + " | ".join(cells) + " |")
    out += ["", f"{metric} in %, mean ± standard deviation over up to {n} "
            f"draws" + (f"; published: {proto.published_label}"
                        if proto.published else "") + "."]
    return "\n".join(out)


def table_csv(proto, rows):
    header, lines, metric = summary(proto, rows)
    buf = io.StringIO(newline="")
    w = csv.writer(buf)
    cols = []
    for h in header:
        cols += ([f"{h} mean", f"{h} std", f"{h} n"]
                 if any(isinstance(ln.get(h), tuple) for ln in lines)
                 else [h])
    w.writerow(cols)
    for ln in lines:
        cells = []
        for h in header:
            v = ln.get(h)
            if any(isinstance(x.get(h), tuple) for x in lines):
                cells += list(v) if v else ["", "", 0]
            else:
                cells.append("" if v is None else v)
        w.writerow(cells)
    return buf.getvalue()


def _tex(text):
    for a, b in (("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"),
                 ("_", r"\_"), ("#", r"\#"), ("λ", r"$\lambda$"),
                 ("±", r"$\pm$"), ("–", "--")):
        text = text.replace(a, b)
    return text


def latex(proto, rows):
    header, lines, metric = summary(proto, rows)
    out = [r"\begin{tabular}{" + "r" * len(header) + "}", r"\toprule",
           " & ".join(_tex(h) for h in header) + r" \\", r"\midrule"]
    for ln in lines:
        out.append(" & ".join(_tex(_cell(ln.get(h))) for h in header)
                   + r" \\")
    out += [r"\bottomrule", r"\end{tabular}"]
    return "\n".join(out)


def pyplot():
    """matplotlib.pyplot on the file-only Agg backend (ImportError without
    matplotlib: figures are optional)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, stem):
    """Lay out, write ``stem.png`` (120 dpi) and ``stem.pdf``, close."""
    plt = pyplot()
    fig.tight_layout()
    fig.savefig(stem + ".png", dpi=120)
    fig.savefig(stem + ".pdf")
    plt.close(fig)


def figure(proto, rows, stem):
    """Ours (mean ± std over draws) against ``proto.x``, one line per
    method (and group), the published values as crosses of its colour."""
    plt = pyplot()
    header, lines, metric = summary(proto, rows)
    methods = [h for h in header if h not in (*proto.group, proto.x)
               and not h.endswith(" published")]
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    groups = list(dict.fromkeys(tuple(ln[g] for g in proto.group)
                                for ln in lines))
    k = 0
    for g in groups:
        sel = [ln for ln in lines
               if tuple(ln[f] for f in proto.group) == g]
        for m in methods:
            pts = [(ln[proto.x], ln[m]) for ln in sel if ln.get(m)]
            if not pts:
                continue
            label = " ".join(map(str, (*g, m)))
            xs = list(range(len(pts))) if isinstance(pts[0][0], str) \
                else [p[0] for p in pts]
            ax.errorbar(xs, [100 * p[1][0] for p in pts],
                        yerr=[100 * p[1][1] for p in pts], marker="o",
                        ms=3, capsize=3, color=f"C{k % 10}", label=label)
            pub = [(x, ln.get(f"{m} published")) for x, ln in
                   zip(xs, [ln for ln in sel if ln.get(m)])]
            pub = [(x, v) for x, v in pub if v is not None]
            if pub:
                ax.plot([p[0] for p in pub], [100 * p[1] for p in pub], "x",
                        color=f"C{k % 10}", ms=8, mew=2,
                        label=f"{label} (published)")
            k += 1
    xs = [ln[proto.x] for ln in lines]
    if xs and all(isinstance(v, (int, float)) for v in xs) and \
            min(xs) > 0 and max(xs) / min(xs) >= 10:
        ax.set_xscale("log")
    ax.set_xlabel(proto.x.replace("_", " "))
    ax.set_ylabel(f"test {metric} (%)")
    ax.set_title(proto.title, fontsize=9)
    ax.grid(alpha=0.3)
    if k:
        ax.legend(fontsize=7)
    save_figure(fig, stem)


def header(proto, settings):
    """Where the numbers come from: code identity, date, settings."""
    code = settings.get("code", {})
    data = settings.get("data") or {}
    shown = {k: v for k, v in settings.items()
             if k not in ("code", "data", "protocol")}
    return (f"Made by probssl {code.get('version')} (source "
            f"{code.get('source_sha256')}) on "
            f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
            + (f", data {data.get('name')} (sha256 "
               f"{str(data.get('sha256'))[:12]})" if data.get("name") else "")
            + ".\nSettings: " + ", ".join(f"{k}={v}" for k, v in
                                        shown.items()) + ".")


def write_outputs(proto, s, rows, out, settings, quiet=False):
    """``results.md``, ``table.csv``, ``table.tex`` and the figure."""
    text = (proto.summarize(rows, s) if proto.summarize is not None
            else markdown(proto, rows))
    atomic_write(os.path.join(out, "results.md"),
                 f"# {proto.title}\n\n{header(proto, settings)}\n\n{text}\n"
                 .encode())
    atomic_write(os.path.join(out, "table.csv"),
                 table_csv(proto, rows).encode())
    atomic_write(os.path.join(out, "table.tex"),
                 (latex(proto, rows) + "\n").encode())
    stem = os.path.join(out, proto.metrics[0])
    try:
        if proto.figure is None:
            figure(proto, rows, stem)
        else:
            proto.figure(rows, s, stem)
    except ImportError:
        if not quiet:
            print("matplotlib is not installed: no figure (pip install "
                  "'probssl[plot]').", file=sys.stderr)
    if not quiet:
        print(f"\n{text}\n\nwritten to {out}/ (results.json, results.csv, "
              f"results.md, table.csv, table.tex, {proto.metrics[0]}.png/"
              ".pdf)", flush=True)
