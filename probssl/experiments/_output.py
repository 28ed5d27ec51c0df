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


def sources(proto, metric):
    """``[(column, values, label)]``: the published values of ``metric``
    (``Protocol.published`` for the first metric, then
    ``Protocol.references``)."""
    first = ([("published", proto.published, proto.published_label)]
             if proto.published and metric == proto.metrics[0] else [])
    return first + [(col, values, label) for col, m, values, label
                    in proto.references if m == metric]


def summary(proto, rows, metric=None):
    """The default table of ``metric``: one line per (group..., x), per
    column (``Protocol.column``, default the method; the metric itself
    when ``x`` is that field) the mean and standard deviation over draws,
    then each source's value. Returns ``(header, lines, metric, pairs)``:
    ``lines`` of dicts, ``pairs`` (source column, our column) for gaps."""
    metric = metric or proto.metrics[0]
    fields = (*proto.group, proto.x)
    single = proto.x == proto.column
    groups, cols = defaultdict(lambda: defaultdict(list)), {}
    for r in rows:
        if r.get(metric) is not None and all(f in r for f in fields):
            col = metric if single else r[proto.column]
            cols[col] = None
            groups[tuple(r[f] for f in fields)][col].append(r[metric])
    pairs, lines = [], []
    for key in sorted(groups, key=lambda k: [_sortable(v) for v in k]):
        line = dict(zip(fields, key))
        for c in cols:
            vals = np.asarray(groups[key].get(c, []), dtype=float)
            line[c] = (vals.mean(), vals.std(), vals.size) if vals.size \
                else None
        for name, values, _ in sources(proto, metric):
            for c in cols:
                table = values.get(key[-1] if single else c, {})
                value = table.get(key if len(key) > 1 else key[0])
                pub = name if single else f"{c} {name}"
                if value is not None:
                    line[pub] = value
                    pairs += [(pub, c)] * ((pub, c) not in pairs)
        lines.append(line)
    return [*fields, *cols, *(p for p, _ in pairs)], lines, metric, pairs


def _cell(value):
    if value is None:
        return "–"
    if isinstance(value, tuple):
        return f"{100 * value[0]:.1f} ± {100 * value[1]:.1f}"
    if isinstance(value, float):
        return f"{100 * value:.1f}"
    return str(value)


def markdown(proto, rows, metric=None):
    """One table of ``metric``, its published values, gaps and the mean
    absolute gap per published column."""
    header, lines, metric, pairs = summary(proto, rows, metric)
    n = max((v[2] for ln in lines for v in ln.values()
             if isinstance(v, tuple)), default=0)
    cols = header + [f"gap {p}" for p, _ in pairs]
    out = ["| " + " | ".join(cols) + " |", "|" + "---:|" * len(cols)]
    gaps = defaultdict(list)
    for ln in lines:
        cells = [_cell(ln.get(h)) for h in header]
        for pub, c in pairs:
            gap = (100 * (ln[c][0] - ln[pub]) if ln.get(c) and
                   ln.get(pub) is not None else None)
            gaps[pub] += [] if gap is None else [gap]
            cells.append("–" if gap is None else f"{gap:+.1f}")
        out.append("| " + " | ".join(cells) + " |")
    labels = "; ".join(f"{name}: {label}" for name, _, label
                       in sources(proto, metric))
    out += ["", f"{metric} in %, mean ± standard deviation over up to {n} "
            f"draws" + (f"; {labels}" if labels else "") + "."]
    out += [f"- {pub}: mean |gap| {np.mean(np.abs(g)):.1f} points, largest "
            f"{np.max(np.abs(g)):.1f}, over {len(g)} values."
            for pub, g in gaps.items() if g]
    return "\n".join(out)


def table_csv(proto, rows):
    header, lines, _, _ = summary(proto, rows)
    buf = io.StringIO(newline="")
    w = csv.writer(buf)
    stats = {h for h in header if any(isinstance(ln.get(h), tuple)
                                      for ln in lines)}
    w.writerow([c for h in header for c in ([f"{h} mean", f"{h} std",
                                             f"{h} n"] if h in stats
                                            else [h])])
    for ln in lines:
        w.writerow([c for h in header for c in (
            (list(ln[h]) if ln.get(h) else ["", "", 0]) if h in stats
            else ["" if ln.get(h) is None else ln[h]])])
    return buf.getvalue()


def _tex(text):
    for a, b in (("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"),
                 ("_", r"\_"), ("#", r"\#"), ("λ", r"$\lambda$"),
                 ("±", r"$\pm$"), ("–", "--")):
        text = text.replace(a, b)
    return text


def latex(proto, rows):
    header, lines, _, _ = summary(proto, rows)
    out = [r"\begin{tabular}{" + "r" * len(header) + "}", r"\toprule",
           " & ".join(_tex(h) for h in header) + r" \\", r"\midrule"]
    out += [" & ".join(_tex(_cell(ln.get(h))) for h in header) + r" \\"
            for ln in lines]
    return "\n".join(out + [r"\bottomrule", r"\end{tabular}"])


def figure(proto, rows, stem):
    """Ours (mean ± std over draws) against ``proto.x``: a line per column
    (and group) for a numeric ``x``, grouped bars for named ones; the
    published values as markers of its colour (black on bars). Written to
    ``stem.png`` (120 dpi) and ``stem.pdf``; ImportError without
    matplotlib (figures are optional)."""
    import matplotlib

    matplotlib.use("Agg")  # files only, no window
    import matplotlib.pyplot as plt

    header, lines, metric, pairs = summary(proto, rows)
    ours = [h for h in header[len(proto.group) + 1:] if h not in dict(pairs)]
    numeric = all(isinstance(ln[proto.x], (int, float)) for ln in lines)
    # Lines: one per group and column; bars: one set per column.
    groups = (dict.fromkeys(tuple(ln[g] for g in proto.group) for ln in lines)
              if numeric else [()])
    fig, ax = plt.subplots(figsize=(6.5, 4))
    k, width = 0, 0.8 / max(len(ours), 1)
    for g in groups:
        for j, c in enumerate(ours):
            sel = [(i, ln) for i, ln in enumerate(lines) if ln.get(c) and (
                not numeric or tuple(ln[f] for f in proto.group) == g)]
            if not sel:
                continue
            color, label = f"C{k % 10}", " ".join(map(str, (*g, c)))
            xs = [ln[proto.x] if numeric else i + j * width for i, ln in sel]
            ys, err = ([100 * ln[c][m] for _, ln in sel] for m in (0, 1))
            if numeric:
                ax.errorbar(xs, ys, yerr=err, marker="o", ms=3, capsize=3,
                            color=color, label=label)
            else:
                ax.bar(xs, ys, width, yerr=err, color=color, label=label)
            for pub in [p for p, mine in pairs if mine == c]:
                pts = [(x, 100 * ln[pub]) for x, (_, ln) in zip(xs, sel)
                       if ln.get(pub) is not None]
                if pts:
                    ax.plot(*zip(*pts), "x" if numeric else "_", ms=9,
                            color=color if numeric else "k", mew=2,
                            label=f"{label} ({pub.split()[-1]})")
            k += 1
    xs = [ln[proto.x] for ln in lines]
    if numeric and lines and min(xs) > 0 and max(xs) >= 10 * min(xs):
        ax.set_xscale("log")
    if not numeric:
        ax.set_xticks(np.arange(len(lines)) + 0.4 - width / 2,
                      [" ".join(str(ln[f]) for f in (*proto.group, proto.x))
                       for ln in lines],
                      rotation=30 if len(lines) > 3 else 0, ha="right",
                      fontsize=7)
    ax.set_xlabel(proto.x.replace("_", " "))
    ax.set_ylabel(f"test {metric} (%)")
    ax.set_title(proto.title, fontsize=9)
    ax.grid(alpha=0.3)
    if k:
        ax.legend(fontsize=6, ncol=2)
    fig.tight_layout()
    fig.savefig(stem + ".png", dpi=120)
    fig.savefig(stem + ".pdf")
    plt.close(fig)


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
    """``results.md`` (a table per metric, then ``Protocol.summarize``'s
    text), ``table.csv``, ``table.tex`` and the figure."""
    text = "\n\n".join(
        [markdown(proto, rows, m) for m in proto.metrics if proto.table]
        + ([proto.summarize(rows, s)] if proto.summarize else []))
    files = {"results.md": f"# {proto.title}\n\n{header(proto, settings)}"
                           f"\n\n{text}\n",
             "table.csv": table_csv(proto, rows),
             "table.tex": latex(proto, rows) + "\n"}
    for name, content in files.items():
        atomic_write(os.path.join(out, name), content.encode())
    stem = os.path.join(out, proto.metrics[0])
    try:
        (proto.figure or (lambda rows, s, stem: figure(proto, rows, stem)))(
            rows, s, stem)
    except ImportError:
        if not quiet:
            print("matplotlib is not installed: no figure (pip install "
                  "'probssl[plot]').", file=sys.stderr)
    if not quiet:
        print(f"\n{text}\n\nwritten to {out}/ (results.json, results.csv, "
              f"results.md, table.csv, table.tex, {proto.metrics[0]}.png/"
              ".pdf)", flush=True)
