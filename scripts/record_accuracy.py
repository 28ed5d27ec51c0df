"""Record the accuracies that tests/test_accuracy.py guards.

Runs ``python -m pytest -m accuracy tests/test_accuracy.py`` with
``PROBSSL_RECORD_ACCURACY`` set, so that each test writes the accuracy it
measured instead of checking it, and stores them in
``tests/accuracy_recorded.json`` (written atomically; entries not measured
in this run are kept). Extra arguments go to pytest, e.g. ``-k hybrid`` to
record one test again::

    python scripts/record_accuracy.py
    python scripts/record_accuracy.py -k hybrid

The data are found as the tests find them (``PROBSSL_DATA``); a skipped
test records nothing. Review the change (``git diff``) before committing.
"""

import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RECORD_FILE = ROOT / "tests" / "accuracy_recorded.json"


def _versions():
    import numpy
    import scipy
    import sklearn

    return {"python": platform.python_version(), "numpy": numpy.__version__,
            "scipy": scipy.__version__, "scikit-learn": sklearn.__version__}


def _commit():
    try:
        out = subprocess.run(["git", "describe", "--always", "--dirty"],
                             cwd=ROOT, capture_output=True, text=True,
                             check=True)
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, PROBSSL_RECORD_ACCURACY=tmp)
        code = subprocess.call(
            [sys.executable, "-m", "pytest", "-m", "accuracy", "-q",
             "-p", "no:cacheprovider",
             str(ROOT / "tests" / "test_accuracy.py"),
             *argv], cwd=ROOT, env=env)
        measured = {}
        for path in sorted(Path(tmp).glob("*.json")):
            measured.update(json.loads(path.read_text()))
    if code != 0:  # a failed check other than the recorded value's
        print(f"pytest exited with {code}; nothing recorded.", file=sys.stderr)
        return code
    if not measured:
        print("no accuracy measured (data missing?); nothing recorded.",
              file=sys.stderr)
        return 1
    record = json.loads(RECORD_FILE.read_text(encoding="utf-8"))
    for name, value in sorted(measured.items()):
        old = record["values"].get(name)
        change = "" if old is None else f" (was {old:.4f})"
        print(f"{name:40s} {value:.4f}{change}")
    record["values"].update(measured)
    record["values"] = dict(sorted(record["values"].items()))
    record["recorded_with"] = {
        "date": datetime.date.today().isoformat(), "commit": _commit(),
        **_versions()}
    fd, tmp = tempfile.mkstemp(dir=RECORD_FILE.parent, prefix=".tmp-")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(record, f, indent=2)
        f.write("\n")
    os.replace(tmp, RECORD_FILE)
    print(f"{len(measured)} value(s) written to {RECORD_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
