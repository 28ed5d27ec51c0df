"""The user's own corpus: CSV, JSON lines, Parquet, or one folder of text
files per class (scikit-learn's ``load_files`` layout)."""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import csv
import io
import json
import math
import os

import numpy as np
from sklearn.utils import Bunch

from .._typing import PathLike

_CSV = (".csv", ".tsv")
_JSONL = (".jsonl", ".jsonlines", ".ndjson", ".json")
_PARQUET = (".parquet", ".pq")
# A folder of this name holds unlabeled texts in the class-folder layout.
UNLABELED_FOLDER = "unlabeled"
_SPLITS = {"train": "train", "training": "train", "test": "test",
           "testing": "test"}


def _decode(raw, path, what="file"):
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise ValueError(
            f"{path}: line {line} (byte {exc.start}) is not UTF-8 "
            f"({exc.reason}); re-encode the {what} as UTF-8.") from None


def _is_missing(value):
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    if isinstance(value, str) and value.strip() in ("", "-1"):
        return True
    return isinstance(value, (int, np.integer)) and value == -1


def _read_csv(path, columns):
    with open(path, "rb") as f:
        text = _decode(f.read(), path)
    # csv's default field limit (128 KiB) refuses long documents; the limit
    # is process-wide, so it is only ever raised.
    csv.field_size_limit(max(csv.field_size_limit(), 2**31 - 1))
    dialect = "excel-tab" if path.lower().endswith(".tsv") else "excel"
    reader = csv.DictReader(io.StringIO(text, newline=""), dialect=dialect)
    header = reader.fieldnames or []
    _check_columns(path, header, columns)
    rows = []
    try:
        for record in reader:
            rows.append(({c: record.get(c) for c in columns},
                         f"row {len(rows) + 1} (line {reader.line_num})"))
    except csv.Error as exc:
        raise ValueError(f"{path}: line {reader.line_num} is not valid CSV "
                         f"({exc}).") from None
    return rows


def _read_jsonl(path, columns):
    with open(path, "rb") as f:
        text = _decode(f.read(), path)
    rows, seen = [], set()
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}: line {number} is not a JSON object "
                             f"({exc.msg}).") from None
        if not isinstance(record, dict):
            raise ValueError(f"{path}: line {number} is a JSON "
                             f"{type(record).__name__}, not an object.")
        seen.update(record)
        rows.append(({c: record.get(c) for c in columns},
                     f"row {len(rows) + 1} (line {number})"))
    _check_columns(path, sorted(seen), columns)
    return rows


def _read_parquet(path, columns):
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise ImportError(
            f"Reading the Parquet file {path} needs pyarrow "
            "(pip install pyarrow), or save the corpus as CSV or JSON "
            "lines.") from None
    schema = pq.read_schema(path)
    _check_columns(path, schema.names, columns)
    table = pq.read_table(path, columns=list(columns)).to_pydict()
    n = len(table[columns[0]])
    return [({c: table[c][i] for c in columns}, f"row {i + 1}")
            for i in range(n)]


def _check_columns(path, header, columns):
    missing = [c for c in columns if c not in header]
    if missing:
        raise ValueError(
            f"{path}: no column {missing[0]!r} (columns: {list(header)}); "
            "name the right one with text_column= / label_column= / "
            "split_column=.")


def _read_folder(path):
    from sklearn.datasets import load_files

    bunch = load_files(path, encoding=None, load_content=True, shuffle=False)
    rows = []
    for raw, name, label in zip(bunch.data, bunch.filenames, bunch.target):
        cls = bunch.target_names[label]
        text = _decode(raw, name, "text file")
        rows.append(({"text": text,
                      "label": None if cls == UNLABELED_FOLDER else cls},
                     f"file {name}"))
    if not rows:
        raise ValueError(f"{path}: no text files in class sub-folders "
                         "(expected <folder>/<class>/<file>).")
    return rows


def _read_any(path, text_column, label_column, split_column):
    if os.path.isdir(path):
        if split_column is not None:
            raise ValueError(f"{path}: a class-folder corpus has no "
                             "columns; use test_path= for a test folder.")
        return _read_folder(path), "folder"
    columns = [text_column, label_column] + (
        [split_column] if split_column is not None else [])
    ext = os.path.splitext(path)[1].lower()
    if ext in _CSV:
        rows = _read_csv(path, columns)
    elif ext in _JSONL:
        rows = _read_jsonl(path, columns)
    elif ext in _PARQUET:
        rows = _read_parquet(path, columns)
    else:
        raise ValueError(
            f"{path}: unknown corpus format {ext or '(no extension)'!r}; use "
            f"CSV {_CSV}, JSON lines {_JSONL}, Parquet {_PARQUET}, or a "
            "folder with one sub-folder of text files per class.")
    key = {text_column: "text", label_column: "label"}
    if split_column is not None:
        key[split_column] = "split"
    return [({key[c]: v for c, v in row.items()}, where)
            for row, where in rows], ext


def load_corpus(path: PathLike, text_column: str = "text",
                label_column: str = "label", split_column: str | None = None,
                test_path: PathLike | None = None) -> Bunch:
    """Load the user's own labeled / unlabeled text corpus.

    Parameters
    ----------
    path : str or path-like
        A CSV (``.csv``, or ``.tsv`` tab-separated, with a header row),
        JSON-lines (``.jsonl``, ``.ndjson``, ``.json``: one object per
        line) or Parquet (``.parquet``, needs pyarrow) file, UTF-8; or a
        folder with one sub-folder of text files per class
        (:func:`sklearn.datasets.load_files`; a sub-folder named
        ``unlabeled`` holds unlabeled texts).
    text_column, label_column : str, default="text", "label"
        The columns holding each document's text and label. An empty or
        missing label (or ``-1``) marks an unlabeled row.
    split_column : str, default=None
        A column whose values are ``train`` or ``test``.
    test_path : str or path-like, default=None
        A separate test file or folder, in any of the formats above.

    Returns
    -------
    bunch : :class:`~sklearn.utils.Bunch`
        ``data``, ``target`` (index into ``target_names``; ``-1`` =
        unlabeled), ``target_names`` (the labels, sorted; numerically when
        they are all numbers), ``split`` (``"train"`` or ``"test"`` per
        row; all ``"train"`` without a split column or test file),
        ``source`` (the file each row came from).

    Raises
    ------
    ValueError
        Naming the file and row: a missing column, bytes that are not
        UTF-8, a row without text, an unknown split value, fewer than two
        classes, or an unknown file format.

    Examples
    --------
    >>> import os, tempfile
    >>> from probssl.datasets import load_corpus
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "posts.csv")
    ...     with open(path, "w", encoding="utf-8") as f:
    ...         for line in ["text,label", "Cheap flights to Rome,travel",
    ...                      "The striker scored twice,sport",
    ...                      "Hotel deals in Lisbon,"]:   # no label
    ...             print(line, file=f)
    ...     corpus = load_corpus(path)
    >>> corpus.target_names, corpus.target.tolist()
    (['sport', 'travel'], [1, 0, -1])
    """
    path = os.fspath(path)
    if split_column is not None and test_path is not None:
        raise ValueError("Give split_column or test_path, not both.")
    parts = [(path, "train")]
    if test_path is not None:
        parts.append((os.fspath(test_path), "test"))
    data, labels, split, source = [], [], [], []
    for file, default_split in parts:
        if not os.path.exists(file):
            raise FileNotFoundError(f"Corpus not found: {file!r}.")
        rows, _ = _read_any(file, text_column, label_column, split_column)
        for row, where in rows:
            text = row["text"]
            if not isinstance(text, str) or not text.strip():
                raise ValueError(
                    f"{file}: {where} has no text in column "
                    f"{text_column!r} (got {text!r}).")
            data.append(text)
            label = row["label"]
            labels.append(None if _is_missing(label) else str(label).strip())
            if split_column is not None:
                value = str(row["split"]).strip().lower()
                if value not in _SPLITS:
                    raise ValueError(
                        f"{file}: {where} has {row['split']!r} in the split "
                        f"column {split_column!r}; expected train or test.")
                split.append(_SPLITS[value])
            else:
                split.append(default_split)
            source.append(file)
    names = sorted({lab for lab in labels if lab is not None}, key=_label_key)
    if len(names) < 2:
        raise ValueError(
            f"{path}: {len(names)} class(es) among the labels "
            f"({names}); a classifier needs at least two.")
    index = {name: i for i, name in enumerate(names)}
    return Bunch(
        data=data,
        target=np.array([-1 if lab is None else index[lab] for lab in labels],
                        dtype=np.int64),
        target_names=names, split=np.array(split), source=np.array(source),
        DESCR=f"User corpus {path}" + (f" + test {test_path}" if test_path else ""),
    )


def _label_key(label):
    try:
        return (0, float(label), label)
    except ValueError:
        return (1, 0.0, label)
