"""Write docs/results_figures.md: every figure and folder note of
docs/results/*/.

docs/results.md and docs/results/*/ are rewritten by the protocols
(``probssl run ... --out docs/results/NAME``); this page shows every figure
there, so that a new run's plot appears without editing the docs.
"""

import os


def results_figures_page(docs_dir):
    """The page's Markdown for the folders under ``docs_dir/results``."""
    lines = ["# Every figure of the results", "",
             "Each folder of `docs/results/` is one `probssl run … --out` of "
             "{doc}`results`; its `results.csv` / `results.json` hold every row.", ""]
    results = os.path.join(docs_dir, "results")
    for name in sorted(os.listdir(results)):
        folder = os.path.join(results, name)
        if not os.path.isdir(folder):
            continue
        pngs = sorted(f for f in os.listdir(folder) if f.endswith(".png"))
        lines += [f"## `{name}`", ""]
        # the folder's notes: README.md, and analyses such as ablation.md
        for note in ("README.md", "ablation.md"):
            if os.path.isfile(os.path.join(folder, note)):
                lines += [f"```{{include}} results/{name}/{note}",
                          ":relative-images:", ":heading-offset: 2", "```", ""]
        lines += [f"![{name}: {png}](results/{name}/{png})" for png in pngs] + [""]
    return "\n".join(lines)


def write_results_figures(docs_dir):
    """Write the page, only when it changed (Sphinx keeps its cache)."""
    text = results_figures_page(docs_dir)
    path = os.path.join(docs_dir, "results_figures.md")
    old = None
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            old = f.read()
    if text != old:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    return path
