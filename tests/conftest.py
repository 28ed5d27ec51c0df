import os
from pathlib import Path

import pytest

ARCHIVE_NAME = "20news-bydate.tar.gz"


@pytest.fixture(scope="session")
def newsgroups_archive():
    """Path of the real 20 Newsgroups "bydate" archive; skip if absent.

    Taken from the environment variable ``PROBSSL_DATA`` (the archive or a
    folder holding it) if set, else from ``../shared/data`` next to the
    repository.
    """
    env = os.environ.get("PROBSSL_DATA")
    if env:
        path = Path(env).expanduser()
        if path.is_dir():
            path = path / ARCHIVE_NAME
    else:
        repo_root = Path(__file__).resolve().parent.parent
        path = repo_root.parent / "shared" / "data" / ARCHIVE_NAME
    if not path.is_file():
        pytest.skip(f"20 Newsgroups archive not found at {path}")
    return str(path)
