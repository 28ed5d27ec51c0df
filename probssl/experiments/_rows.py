"""Stored result rows checked: types, ranges and a checksum per row."""

import hashlib
import json
import math

import numpy as np


def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON-serializable")


CHECKSUM_FIELD = "checksum"
# Fields of a stored row that hold a fraction in [0, 1].
FRACTIONS = ("accuracy", "macro_f1", "breakeven", "error")


def row_checksum(row):
    """SHA-256 (16 hex digits) of a stored row without its checksum."""
    body = {k: v for k, v in row.items() if k != CHECKSUM_FIELD}
    text = json.dumps(body, sort_keys=True, default=_plain)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def check_row(row):
    """Why a result row is not sound (types, ranges), or None."""
    if not isinstance(row.get("method"), str):
        return f"method {row.get('method')!r} is not a name"
    for name in ("n_labeled", "seed"):
        v = row.get(name, 0)
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            return f"{name} {v!r} is not a count"
    if "accuracy" not in row:
        return "it has no accuracy"
    for name in FRACTIONS:
        if name not in row:
            continue
        v = row[name]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or \
                not math.isfinite(v) or not 0 <= v <= 1:
            return f"{name} {v!r} is not a fraction in [0, 1]"
    v = row.get("fit_time_s", 0)
    if v is not None and (isinstance(v, bool) or not isinstance(
            v, (int, float)) or not v >= 0):
        return f"fit_time_s {v!r} is not a time"
    return None


def checked_rows(rows, path):
    """``rows`` if every checksummed row is intact and sound; else
    ``ValueError`` naming the file and the row (the store is refused
    whole: one damaged row puts every other in doubt)."""
    for i, row in enumerate(rows):
        if CHECKSUM_FIELD not in row:
            continue  # an older probssl's row: kept, never reused
        why = (None if row[CHECKSUM_FIELD] == row_checksum(row)
               else "its checksum does not match (edited or damaged)")
        why = why or check_row(row)
        if why:
            raise ValueError(
                f"The results file {path} is damaged: row {i} "
                f"({row.get('method')!r}, n_labeled={row.get('n_labeled')!r},"
                f" seed={row.get('seed')!r}): {why}. Its rows are not "
                "reused and it is not overwritten; move it away (or run "
                "with another --out) and run again.")
    return rows
