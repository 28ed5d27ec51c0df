"""What the archive-backed corpora (WebKB, the co-training pages,
Reuters-21578) share: finding an archive, checking its SHA-256, reading a
gzip-compressed tar once, caching the parsed result, and HTML to text."""

# SPDX-License-Identifier: BSD-3-Clause

import gzip
import io
import os
import pickle
import tarfile
import warnings
import zlib
from html.parser import HTMLParser

from .._cache import CacheWarning, data_home_path, file_sha256, read_entry, write_entry
from ._archive import _archive_problem

# The published digests of the shipped archives (the ``.sha256`` files
# beside them); a copy whose digest differs is refused, never parsed.
PUBLISHED_SHA256 = {
    "webkb-4universities-raw.tar.gz":
        "69548e7f22d260d4ba76e74e5dd3ae993f248a349762bcd1409b681b070247ca",
    "course-cotrain-data.tar.gz":
        "1f0d9d7f55c90754e7581272d67613e7c358323e44e2b84c438bed063653e7db",
    "reuters21578.tar.gz":
        "d17c0dcff65d069af4ca42a0eedb1f5a47b280704a4a6f6c1be0ebe5df0810fb",
}

# Bump when what a parser returns changes, so that old caches are rebuilt.
_PARSE_VERSION = 2


def find_archive(archive, filename, what, data_home=None):
    """Path of ``filename`` from ``archive`` or ``$PROBSSL_DATA`` or the
    data home; ``FileNotFoundError`` listing the places tried if none."""
    def inside(path):
        return os.path.join(path, filename) if os.path.isdir(path) else path

    if archive is not None:
        path = inside(os.path.abspath(os.path.expanduser(os.fspath(archive))))
        if not os.path.isfile(path):
            raise FileNotFoundError(
                f"{what} archive not found at {path!r} (given as "
                f"archive={os.fspath(archive)!r}).")
        return path
    tried = []
    env = os.environ.get("PROBSSL_DATA")
    if env:
        env = os.path.abspath(os.path.expanduser(env))
        # PROBSSL_DATA may name another corpus's archive (the 20 Newsgroups
        # one, for the tests): its folder is searched then.
        if os.path.isfile(env) and os.path.basename(env) != filename:
            env = os.path.dirname(env)
        tried.append(inside(env))
    tried.append(os.path.join(data_home_path(data_home), filename))
    for path in tried:
        if os.path.isfile(path):
            return path
    raise FileNotFoundError(
        f"{what} archive {filename!r} not found; looked at {tried}. Pass "
        "archive=PATH or set PROBSSL_DATA to the file or its folder "
        "(nothing is downloaded).")


def verify_sha256(path, expected, what):
    """Raise ``ValueError`` naming the file if its SHA-256 is not ``expected``
    (None skips the check); return the digest."""
    digest = file_sha256(path)
    if expected is not None and digest != expected.lower():
        raise ValueError(
            f"The {what} archive {path!r} has SHA-256 {digest}, not the "
            f"published {expected}: it is damaged or another file. Replace "
            "it with a good copy (or pass sha256=None to skip the check).")
    return digest


def iter_tar(path, what):
    """Yield ``(member name without './', bytes)`` for every regular file of
    a gzip-compressed tar, read once front to back, the gzip CRC checked."""
    try:
        with open(path, "rb") as raw, gzip.GzipFile(fileobj=raw, mode="rb") as gz:
            with tarfile.open(fileobj=gz, mode="r|") as tar:
                for member in tar:
                    if member.isfile():
                        name = member.name[2:] if member.name.startswith("./") else member.name
                        yield name, tar.extractfile(member).read()
            while gz.read(1 << 20):  # the trailer: CRC and length
                pass
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        if isinstance(exc, (FileNotFoundError, PermissionError)):
            raise
        problem = _archive_problem(exc) if os.path.getsize(path) else "it is empty (0 bytes)"
        raise ValueError(
            f"Cannot read the {what} archive {path!r}: {problem} "
            f"({type(exc).__name__}: {exc}).") from exc


def cached_parse(kind, digest, data_home, parse):
    """``parse()``, cached on disk under the data home keyed by ``kind`` and
    the archive's SHA-256; an unwritable or damaged cache only warns."""
    folder = os.path.join(data_home_path(data_home), "corpora")
    path = os.path.join(folder, f"{kind}-v{_PARSE_VERSION}-{digest[:16]}.pkl")
    meta = {"version": _PARSE_VERSION, "sha256": digest}
    payload = read_entry(path, kind, meta, stacklevel=3)
    if payload is not None:
        try:
            return pickle.loads(payload)  # only a checksummed payload
        except Exception as exc:
            warnings.warn(f"Ignoring the unreadable cache file {path} ({exc}); "
                          "it is rebuilt.", CacheWarning, stacklevel=3)
    parsed = parse()
    buf = io.BytesIO()
    pickle.dump(parsed, buf, protocol=pickle.HIGHEST_PROTOCOL)
    write_entry(path, buf.getvalue(), kind, meta, stacklevel=3)
    return parsed


class _TextExtractor(HTMLParser):
    """Collect the text a browser would show (title included), not the
    markup, scripts or style sheets; block tags become line breaks."""

    _SKIP = {"script", "style"}
    _BLOCK = {"p", "br", "div", "li", "tr", "td", "th", "h1", "h2", "h3",
              "h4", "h5", "h6", "title", "hr", "ul", "ol", "dl", "dt", "dd",
              "table", "pre", "blockquote", "center", "address"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts = []
        self._skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in self._SKIP:
            self._skipping += 1
        elif tag in self._BLOCK:
            self.parts.append("\n")
        elif tag == "img":
            # An image's alternative text is what a text browser shows.
            alt = dict(attrs).get("alt")
            if alt:
                self.parts.append(f" {alt} ")

    def handle_endtag(self, tag):
        if tag in self._SKIP:
            self._skipping = max(0, self._skipping - 1)
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self._skipping:
            self.parts.append(data)


def strip_http_header(text):
    """Drop the HTTP response header the crawler stored before a page
    (``Date: ...``, ``Content-Type: ...`` up to the first blank line)."""
    text = text.replace("\r\n", "\n")
    head, sep, rest = text.lstrip().partition("\n\n")
    lines = [line for line in head.splitlines() if line.strip()]
    if sep and lines and all(":" in line and not line.lstrip().startswith("<")
                             for line in lines) and (
            lines[0].split(":", 1)[0].strip().replace("-", "").isalpha()):
        return rest
    return text


def html_to_text(html):
    """The visible text of an HTML page, by :class:`html.parser.HTMLParser`
    (tags, comments, scripts and style sheets removed; entities decoded)."""
    parser = _TextExtractor()
    try:
        parser.feed(html)
        parser.close()
    except AssertionError:  # very old Pythons on broken markup declarations
        pass
    lines = "".join(parser.parts).splitlines()
    return "\n".join(" ".join(line.split()) for line in lines if line.strip())
