"""Reuters-21578 (Distribution 1.0), the ModApte split, from the SGML files."""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

from html.parser import HTMLParser

import numpy as np
from sklearn.utils import Bunch

from .._typing import PathLike
from ._corpus_files import (
    PUBLISHED_SHA256,
    cached_parse,
    find_archive,
    iter_tar,
    verify_sha256,
)

REUTERS_ARCHIVE = "reuters21578.tar.gz"
_PUBLISHED = object()
_SUBSETS = ("train", "test", "all")


class _SGMLReader(HTMLParser):
    """One ``reut2-*.sgm`` file to a list of documents (dicts)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.docs = []
        self._doc = None
        self._stack = []

    def handle_starttag(self, tag, attrs):
        if tag == "reuters":
            attrs = dict(attrs)
            self._doc = {"newid": int(attrs.get("newid", -1)),
                         "lewissplit": attrs.get("lewissplit", ""),
                         "has_topics": attrs.get("topics", "") == "YES",
                         "topics": [], "title": [], "body": []}
            self._stack = []
        elif self._doc is not None:
            self._stack.append(tag)

    def handle_endtag(self, tag):
        if tag == "reuters" and self._doc is not None:
            d = self._doc
            d["title"] = "".join(d["title"]).strip()
            d["body"] = "".join(d["body"]).strip()
            self.docs.append(d)
            self._doc = None
        elif tag in self._stack:
            while self._stack and self._stack.pop() != tag:
                pass

    def handle_data(self, data):
        d, stack = self._doc, self._stack
        if d is None or not stack:
            return
        if stack[-1] == "d" and "topics" in stack:
            d["topics"].append(data.strip())
        elif stack[-1] == "title":
            d["title"].append(data)
        elif "text" in stack and stack[-1] in ("body", "text"):
            d["body"].append(data)


def _parse_reuters(path):
    docs = []
    for name, raw in iter_tar(path, "Reuters-21578"):
        base = name.rsplit("/", 1)[-1]
        if not (base.startswith("reut2-") and base.endswith(".sgm")):
            continue
        reader = _SGMLReader()
        # The files are ASCII with a few stray high bytes: latin-1 keeps them.
        reader.feed(raw.decode("latin-1"))
        reader.close()
        docs.extend(reader.docs)
    if not docs:
        raise ValueError(f"The archive {path!r} is not Reuters-21578: it has "
                         "no reut2-NNN.sgm file with <REUTERS> documents.")
    docs.sort(key=lambda d: d["newid"])
    return docs


def load_reuters(
    archive: PathLike | None = None,
    subset: str = "train",
    data_home: PathLike | None = None,
    sha256: str | None = _PUBLISHED,  # type: ignore[assignment]
) -> Bunch:
    """Load Reuters-21578's ModApte split from the SGML files.

    ModApte (Apté et al. 1994; the README's "Modified Apte" split):
    ``LEWISSPLIT="TRAIN"`` and ``TOPICS="YES"`` is training (9,603
    documents), ``LEWISSPLIT="TEST"`` and ``TOPICS="YES"`` test (3,299);
    every other document is left out. Documents may have no topic.

    Parameters
    ----------
    archive : str or path-like, default=None
        ``reuters21578.tar.gz`` or a folder holding it; by default
        ``$PROBSSL_DATA`` then ``data_home``. Nothing is downloaded.
    subset : {"train", "test", "all"}, default="train"
        ``"all"`` is training followed by test.
    data_home : str or path-like, default=None
        Folder of the parse cache.
    sha256 : str or None, default=the published digest
        Expected SHA-256 of the archive; None skips the check.

    Returns
    -------
    bunch : :class:`~sklearn.utils.Bunch`
        ``data`` (title, a blank line, body), ``topics`` (list of topic
        lists), ``target`` (binary indicator matrix, documents x topics, of
        the topics present in the loaded documents), ``target_names``
        (those topics, sorted), ``split`` (``"train"``/``"test"``),
        ``newid``.

    Examples
    --------
    Documents of one category against the rest::

        bunch = load_reuters(subset="train")
        y = bunch.target[:, bunch.target_names.index("acq")]
    """
    if subset not in _SUBSETS:
        raise ValueError(f"subset must be one of {_SUBSETS}, got {subset!r}.")
    path = find_archive(archive, REUTERS_ARCHIVE, "Reuters-21578", data_home)
    expected = PUBLISHED_SHA256[REUTERS_ARCHIVE] if sha256 is _PUBLISHED else sha256
    digest = verify_sha256(path, expected, "Reuters-21578")
    docs = cached_parse("reuters", digest, data_home, lambda: _parse_reuters(path))
    splits = ("train", "test") if subset == "all" else (subset,)
    chosen = [(s, d) for s in splits for d in docs
              if d["has_topics"] and d["lewissplit"] == s.upper()]
    names = sorted({t for _, d in chosen for t in d["topics"] if t})
    index = {t: i for i, t in enumerate(names)}
    target = np.zeros((len(chosen), len(names)), dtype=np.int8)
    for row, (_, d) in enumerate(chosen):
        for t in d["topics"]:
            if t:
                target[row, index[t]] = 1
    return Bunch(
        data=[f"{d['title']}\n\n{d['body']}" for _, d in chosen],
        topics=[[t for t in d["topics"] if t] for _, d in chosen],
        target=target, target_names=names,
        split=np.array([s for s, _ in chosen]),
        newid=np.array([d["newid"] for _, d in chosen], dtype=np.int64),
        DESCR=("Reuters-21578 Distribution 1.0, ModApte split, "
               f"{len(chosen)} documents ({subset}); source {path}. Research "
               "use only (see the archive's README)."),
    )
