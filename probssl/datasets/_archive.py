"""Reading the 20 Newsgroups "bydate" archive: its posts in a fixed order,
and what is wrong with a damaged copy."""

# SPDX-License-Identifier: BSD-3-Clause

import gzip
import os
import tarfile
import zlib

_SPLIT_FOLDERS = {"train": "20news-bydate-train", "test": "20news-bydate-test"}


def _member_sort_key(filename):
    # Numeric ids sort numerically ("9" before "10"); any stray non-numeric
    # file names go after them, alphabetically, so the order stays total.
    group, post = filename.split("/")[-2:]
    if post.isdigit():
        return group, 0, int(post), ""
    return group, 1, 0, post


def _archive_problem(exc):
    """What is wrong with an archive, in words, from the reader's error."""
    text = str(exc)
    if isinstance(exc, EOFError):
        return ("it is truncated, or its gzip header is damaged (the "
                "compressed data ends too early)")
    if "CRC check failed" in text or "Incorrect length" in text:
        return ("its content does not match the gzip checksum (the file is "
                "damaged, e.g. a changed byte)")
    if "Not a gzipped file" in text:
        return ("it is not gzip-compressed, or bytes that are not gzip data "
                "follow its end")
    if isinstance(exc, zlib.error):
        return "its compressed data is damaged"
    if isinstance(exc, tarfile.TarError):
        return "the gzip data inside it is not a valid tar file"
    return "it is not a complete gzip-compressed tar file"


def _parse_archive(path):
    """Read every post of the archive into ``{split: (filenames, texts)}``.

    Raises ``ValueError`` naming the archive if it is damaged in any way
    (truncated, changed bytes, not a gzip-compressed tar file).
    """
    folder_to_split = {folder: split for split, folder in _SPLIT_FOLDERS.items()}
    parsed = {split: [] for split in _SPLIT_FOLDERS}
    try:
        # gzip.GzipFile under tarfile's stream mode: the gzip data is read
        # once, front to back (random access, "r:gz", would re-decompress
        # from the start on every backward seek), and GzipFile, unlike
        # tarfile's own gzip reader, checks the CRC-32 and length trailer.
        with open(path, "rb") as raw_file, gzip.GzipFile(
                fileobj=raw_file, mode="rb") as gz:
            with tarfile.open(fileobj=gz, mode="r|") as tar:
                for member in tar:
                    if not member.isfile():
                        continue
                    name = member.name
                    if name.startswith("./"):
                        name = name[2:]
                    parts = name.split("/")
                    if len(parts) != 3 or parts[0] not in folder_to_split:
                        continue
                    text = tar.extractfile(member).read().decode("latin-1")
                    parsed[folder_to_split[parts[0]]].append((name, text))
            # The tar reader stops at the end-of-archive blocks, before the
            # gzip trailer: only reading to the end checks the CRC (and
            # rejects bytes appended after the gzip stream).
            while gz.read(1 << 20):
                pass
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        if isinstance(exc, (FileNotFoundError, PermissionError)):
            raise
        problem = (_archive_problem(exc) if os.path.getsize(path)
                   else "it is empty (0 bytes)")
        raise ValueError(
            f"Cannot read the 20 Newsgroups archive {path!r}: {problem} "
            f"({type(exc).__name__}: {exc}). Nothing was cached; replace it "
            "with a good copy."
        ) from exc

    for split, folder in _SPLIT_FOLDERS.items():
        if not parsed[split]:
            raise ValueError(
                f"The archive {path!r} is not a 20 Newsgroups 'bydate' "
                f"archive: it has no '{folder}/<group>/<id>' members."
            )

    raw = {}
    for split, posts in parsed.items():
        posts.sort(key=lambda post: _member_sort_key(post[0]))
        raw[split] = ([name for name, _ in posts], [text for _, text in posts])
    return raw
