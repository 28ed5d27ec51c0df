"""README.md's Python blocks run as written, in order, in one fresh
process: the quickstart a new user copies must work."""

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


def python_blocks(text):
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.S | re.M)


def test_readme_is_short_and_has_the_two_commands():
    text = README.read_text("utf-8")
    assert len(text.splitlines()) < 200
    ci = (ROOT / ".ci" / "run").read_text("utf-8")
    # The test command is the one CI runs.
    command = ('pip install torch==2.13.0 && pip install -e ".[test,text,distributed]"'
               " && python -m pytest")
    assert command in text and command in ci
    assert "probssl demo" in text


def test_readme_python_blocks_run_in_a_fresh_process(tmp_path):
    blocks = python_blocks(README.read_text("utf-8"))
    assert len(blocks) >= 4
    script = tmp_path / "readme.py"
    # One script, each block announced, so that a failure names its block.
    script.write_text("\n".join(
        f"print('--- README block {i}', flush=True)\n{block}"
        for i, block in enumerate(blocks, 1)), "utf-8")
    env = dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="Agg",
               PROBSSL_HOME=str(tmp_path / "home"))
    result = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, textwrap.shorten(
        result.stdout[-2000:], 2000) + "\n" + result.stderr[-4000:]
    out = result.stdout
    assert out.count("--- README block") == len(blocks)
    nb, em = map(float, re.search(r"naive Bayes ([\d.]+), EM ([\d.]+)", out).groups())
    assert em > nb   # the README's claim, on the shipped sample
    difference = float(out.strip().splitlines()[-1])
    assert difference < 1e-8   # out of core = in memory
