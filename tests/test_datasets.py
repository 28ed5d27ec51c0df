import io
import os
import pickle
import re
import tarfile
import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn.datasets
from sklearn.datasets._twenty_newsgroups import (
    strip_newsgroup_footer,
    strip_newsgroup_header,
    strip_newsgroup_quoting,
)
from sklearn.utils import Bunch

from probssl.datasets import _archive, _post_cache, _synthetic
from probssl.datasets import (
    get_data_home,
    load_20newsgroups,
    make_multinomial_mixture,
    mask_labels,
)

TARGET_NAMES = [
    "alt.atheism",
    "comp.graphics",
    "comp.os.ms-windows.misc",
    "comp.sys.ibm.pc.hardware",
    "comp.sys.mac.hardware",
    "comp.windows.x",
    "misc.forsale",
    "rec.autos",
    "rec.motorcycles",
    "rec.sport.baseball",
    "rec.sport.hockey",
    "sci.crypt",
    "sci.electronics",
    "sci.med",
    "sci.space",
    "soc.religion.christian",
    "talk.politics.guns",
    "talk.politics.mideast",
    "talk.politics.misc",
    "talk.religion.misc",
]
TRAIN_COUNTS = [480, 584, 591, 590, 578, 593, 585, 594, 598, 597,
                600, 595, 591, 594, 593, 599, 546, 564, 465, 377]  # fmt: skip
TEST_COUNTS = [319, 389, 394, 392, 385, 395, 390, 396, 398, 397,
               399, 396, 393, 396, 394, 398, 364, 376, 310, 251]  # fmt: skip


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch, tmp_path):
    # The user's own PROBSSL_* settings must not leak into the tests, and
    # nothing may be written to the real default data home.
    monkeypatch.delenv("PROBSSL_DATA", raising=False)
    monkeypatch.setenv("PROBSSL_HOME", str(tmp_path / "default_home"))


@pytest.fixture
def no_network(monkeypatch):
    """Make the scikit-learn fallback fail instead of downloading."""
    calls = []

    def fetch(**kwargs):
        calls.append(kwargs)
        raise OSError("network is unreachable (test)")

    monkeypatch.setattr(sklearn.datasets, "fetch_20newsgroups", fetch)
    return calls


# --------------------------------------------------------------------------
# A tiny fake archive with the layout of the real one
# --------------------------------------------------------------------------

FAKE_GROUPS = ["comp.graphics", "alt.atheism", "sci.space"]
# Ids 9 and 10 check that ids sort numerically, not as strings.
FAKE_IDS = {"train": [10, 9, 300], "test": [12, 11]}


def _post(split, group, post_id):
    return (
        f"From: user{post_id}@example.com\n"
        f"Subject: {split} post {post_id} in {group}\n"
        "Lines: 6\n"
        "\n"
        f"Body of {split} post {post_id} in {group}.\n"
        "> quoted line\n"
        "someone writes:\n"
        "Last line of the body.\n"
        "\n"
        "--\n"
        "Signature \xe9\n"
    )


def _write_archive(path, members, filler=0):
    """Write a .tar.gz with ``{member name: text}``; ``filler`` random bytes
    of incompressible padding make truncation land inside the data."""
    with tarfile.open(path, "w:gz") as tar:
        for name in ["20news-bydate-train", "20news-bydate-test"]:
            info = tarfile.TarInfo(name)
            info.type = tarfile.DIRTYPE
            tar.addfile(info)
        items = list(members.items())
        if filler:
            rng = np.random.RandomState(0)
            items.append(("20news-bydate-train/zz.padding/1", rng.bytes(filler)))
        for name, text in items:
            data = text if isinstance(text, bytes) else text.encode("latin-1")
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return str(path)


def _fake_members():
    members = {}
    for split, ids in FAKE_IDS.items():
        for group in FAKE_GROUPS:
            for post_id in ids:
                name = f"20news-bydate-{split}/{group}/{post_id}"
                members[name] = _post(split, group, post_id)
    return members


@pytest.fixture
def fake_archive(tmp_path):
    folder = tmp_path / "archive_dir"
    folder.mkdir()
    return _write_archive(folder / "20news-bydate.tar.gz", _fake_members())


@pytest.fixture
def cache_home(tmp_path):
    return str(tmp_path / "cache")


def _cache_files(folder):
    return sorted(p.name for p in Path(folder).iterdir())


# --------------------------------------------------------------------------
# load_20newsgroups on the fake archive
# --------------------------------------------------------------------------


def test_fake_archive_content_and_order(fake_archive, cache_home):
    train = load_20newsgroups("train", archive=fake_archive, data_home=cache_home)
    assert isinstance(train, Bunch)
    assert train.target_names == sorted(FAKE_GROUPS)
    expected = [
        f"20news-bydate-train/{group}/{post_id}"
        for group in sorted(FAKE_GROUPS)
        for post_id in sorted(FAKE_IDS["train"])
    ]
    assert list(train.filenames) == expected
    assert train.filenames.dtype.kind == "U"
    assert train.target.dtype == np.int64
    np.testing.assert_array_equal(train.target, np.repeat([0, 1, 2], 3))
    assert isinstance(train.data, list) and len(train.data) == 9
    assert train.data[0].startswith("Body of train post 9 in alt.atheism.")
    # latin-1 decoding of the non-ASCII byte
    assert train.data[0].endswith("Signature \xe9\n")
    assert "20 Newsgroups" in train.DESCR and fake_archive in train.DESCR


def test_subset_all_is_train_then_test(fake_archive, cache_home):
    kw = dict(archive=fake_archive, data_home=cache_home)
    train = load_20newsgroups("train", **kw)
    test = load_20newsgroups("test", **kw)
    full = load_20newsgroups("all", **kw)
    assert full.data == train.data + test.data
    np.testing.assert_array_equal(full.target, np.r_[train.target, test.target])
    np.testing.assert_array_equal(
        full.filenames, np.r_[train.filenames, test.filenames]
    )
    assert full.target_names == train.target_names == test.target_names


def test_remove_options_match_sklearn(fake_archive, cache_home):
    kw = dict(subset="all", archive=fake_archive, data_home=cache_home)
    raw = load_20newsgroups(remove=(), **kw).data
    assert all(text.startswith("From: ") for text in raw)

    headers = load_20newsgroups(remove=("headers",), **kw).data
    assert headers == load_20newsgroups(remove="headers", **kw).data
    assert headers == load_20newsgroups(**kw).data  # the default
    assert not any(text.startswith("From:") for text in headers)
    assert headers == [strip_newsgroup_header(t) for t in raw]

    everything = load_20newsgroups(remove=("quotes", "footers", "headers"), **kw).data
    expected = [
        strip_newsgroup_quoting(strip_newsgroup_footer(strip_newsgroup_header(t)))
        for t in raw
    ]
    assert everything == expected
    assert not any("Signature" in t or "> quoted" in t for t in everything)


@pytest.mark.parametrize("subset", ["training", "", None, "ALL"])
def test_invalid_subset(subset, fake_archive, cache_home):
    with pytest.raises(ValueError, match="'train', 'test', 'all'"):
        load_20newsgroups(subset, archive=fake_archive, data_home=cache_home)


@pytest.mark.parametrize("remove", [("header",), "signature", ("headers", "x")])
def test_invalid_remove(remove, fake_archive, cache_home):
    with pytest.raises(ValueError, match="remove"):
        load_20newsgroups(archive=fake_archive, data_home=cache_home, remove=remove)


def test_archive_may_be_a_folder(fake_archive, cache_home):
    by_file = load_20newsgroups(archive=fake_archive, data_home=cache_home)
    by_dir = load_20newsgroups(
        archive=os.path.dirname(fake_archive), data_home=cache_home
    )
    assert by_dir.data == by_file.data


# --------------------------------------------------------------------------
# Disk cache
# --------------------------------------------------------------------------


def _forbid_tar(monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("the archive was opened although a cache exists")

    monkeypatch.setattr(_archive.tarfile, "open", fail)


def test_second_load_uses_disk_cache(fake_archive, cache_home, monkeypatch):
    first = load_20newsgroups("all", archive=fake_archive, data_home=cache_home)
    files = _cache_files(cache_home)
    assert len(files) == 1 and re.fullmatch(r"20news-bydate-\w+\.pkl", files[0])

    _forbid_tar(monkeypatch)
    second = load_20newsgroups("all", archive=fake_archive, data_home=cache_home)
    assert second.data == first.data
    np.testing.assert_array_equal(second.target, first.target)
    np.testing.assert_array_equal(second.filenames, first.filenames)
    # Other remove options are served from the same (raw) cache.
    raw = load_20newsgroups(
        "test", archive=fake_archive, data_home=cache_home, remove=()
    )
    assert raw.data[0].startswith("From:")


def test_cache_stores_unstripped_text(fake_archive, cache_home, monkeypatch):
    load_20newsgroups(archive=fake_archive, data_home=cache_home, remove="quotes")
    _forbid_tar(monkeypatch)
    raw = load_20newsgroups(archive=fake_archive, data_home=cache_home, remove=())
    assert all("> quoted line" in t and t.startswith("From:") for t in raw.data)


def test_changed_archive_is_not_confused_with_cache(tmp_path, cache_home):
    path = tmp_path / "20news-bydate.tar.gz"
    _write_archive(path, _fake_members())
    before = load_20newsgroups(archive=path, data_home=cache_home)

    members = _fake_members()
    members["20news-bydate-train/alt.atheism/1"] = "From: x\n\nnew post\n"
    _write_archive(path, members)
    stat = os.stat(path)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    after = load_20newsgroups(archive=path, data_home=cache_home)
    assert len(after.data) == len(before.data) + 1
    assert after.data[0] == "new post\n"


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty", "wrong_object"])
def test_corrupt_cache_is_rebuilt(damage, fake_archive, cache_home, monkeypatch):
    expected = load_20newsgroups("all", archive=fake_archive, data_home=cache_home)
    (cache_file,) = Path(cache_home).iterdir()
    content = cache_file.read_bytes()
    cache_file.write_bytes(
        {
            "garbage": b"\x00not a pickle" * 10,
            "truncated": content[: len(content) // 2],
            "empty": b"",
            "wrong_object": pickle.dumps({"version": 1, "archive": None}),
        }[damage]
    )

    if damage == "wrong_object":
        # Well-formed but for another archive: silently stale, not corrupt.
        result = load_20newsgroups("all", archive=fake_archive, data_home=cache_home)
    else:
        with pytest.warns(UserWarning, match="unreadable cache"):
            result = load_20newsgroups(
                "all", archive=fake_archive, data_home=cache_home
            )
    assert result.data == expected.data

    # The rebuilt cache is valid and complete: no tar access needed now.
    assert _cache_files(cache_home) == [cache_file.name]
    _forbid_tar(monkeypatch)
    again = load_20newsgroups("all", archive=fake_archive, data_home=cache_home)
    assert again.data == expected.data


def test_unwritable_cache_dir_still_loads(fake_archive, tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    # A path below a regular file cannot be created, even by root.
    data_home = blocker / "cache"
    with pytest.warns(UserWarning, match="Could not write"):
        bunch = load_20newsgroups(archive=fake_archive, data_home=data_home)
    assert len(bunch.data) == 9


def test_failed_cache_write_leaves_no_temp_file(fake_archive, cache_home, monkeypatch):
    def broken_dump(*args, **kwargs):
        raise OSError("disk full (test)")

    monkeypatch.setattr(_post_cache.pickle, "dump", broken_dump)
    with pytest.warns(UserWarning, match="disk full"):
        load_20newsgroups(archive=fake_archive, data_home=cache_home)
    assert _cache_files(cache_home) == []


# --------------------------------------------------------------------------
# Where the archive is looked for
# --------------------------------------------------------------------------


@pytest.mark.parametrize("as_folder", [False, True])
def test_probssl_data_env(as_folder, fake_archive, cache_home, monkeypatch, no_network):
    value = os.path.dirname(fake_archive) if as_folder else fake_archive
    monkeypatch.setenv("PROBSSL_DATA", value)
    bunch = load_20newsgroups("test", data_home=cache_home)
    assert len(bunch.data) == 6
    assert not no_network
    # The cache goes to data_home, never next to the archive.
    assert len(_cache_files(cache_home)) == 1


def test_archive_in_data_home(fake_archive, tmp_path, no_network):
    home = tmp_path / "home"
    home.mkdir()
    os.replace(fake_archive, home / "20news-bydate.tar.gz")
    bunch = load_20newsgroups(data_home=home)
    assert len(bunch.data) == 9
    assert not no_network


def test_default_data_home_from_env(tmp_path, monkeypatch):
    monkeypatch.setenv("PROBSSL_HOME", str(tmp_path / "ph"))
    assert get_data_home() == str(tmp_path / "ph")
    assert (tmp_path / "ph").is_dir()
    assert get_data_home(tmp_path / "other") == str(tmp_path / "other")
    monkeypatch.delenv("PROBSSL_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    assert get_data_home() == str(tmp_path / "user" / ".cache" / "probssl")


def test_explicit_archive_wins_over_env(
    fake_archive, tmp_path, cache_home, monkeypatch
):
    monkeypatch.setenv("PROBSSL_DATA", str(tmp_path / "nowhere.tar.gz"))
    bunch = load_20newsgroups(archive=fake_archive, data_home=cache_home)
    assert len(bunch.data) == 9


@pytest.mark.parametrize("kind", ["file", "folder"])
def test_explicit_archive_missing(kind, tmp_path, cache_home, no_network):
    if kind == "file":
        missing = tmp_path / "missing.tar.gz"
        expected = str(missing)
    else:
        missing = tmp_path / "empty_dir"
        missing.mkdir()
        expected = str(missing / "20news-bydate.tar.gz")
    with pytest.raises(FileNotFoundError, match=re.escape(expected)):
        load_20newsgroups(archive=missing, data_home=cache_home)
    assert not no_network  # an explicit archive never falls back


def test_nothing_found_raises_and_says_where_to_put_it(
    tmp_path, monkeypatch, no_network
):
    # A missing archive used to warn and call sklearn's fetch_20newsgroups,
    # which downloads: now it is an error, and nothing touches the network.
    env_dir = tmp_path / "env_dir"
    env_dir.mkdir()
    monkeypatch.setenv("PROBSSL_DATA", str(env_dir))
    home = tmp_path / "home"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(FileNotFoundError) as excinfo:
            load_20newsgroups("test", data_home=home, remove=("headers", "quotes"))
    message = str(excinfo.value)
    for path in (env_dir / "20news-bydate.tar.gz", home / "20news-bydate.tar.gz"):
        assert str(path) in message
    assert "PROBSSL_DATA" in message and "archive=" in message
    assert "never downloads" in message
    assert no_network == []


# --------------------------------------------------------------------------
# Corrupt archives
# --------------------------------------------------------------------------


def _garbage(tmp_path, fake_archive):
    path = tmp_path / "garbage.tar.gz"
    path.write_bytes(b"this is not a gzip file at all" * 100)
    return path


def _truncated(tmp_path, fake_archive):
    path = tmp_path / "truncated.tar.gz"
    full = _write_archive(tmp_path / "full.tar.gz", _fake_members(), filler=50_000)
    content = Path(full).read_bytes()
    path.write_bytes(content[: len(content) // 2])
    return path


def _plain_tar(tmp_path, fake_archive):
    # A valid tar file, but not gzip-compressed.
    path = tmp_path / "plain.tar.gz"
    with tarfile.open(fake_archive, "r:gz") as src, tarfile.open(path, "w") as dst:
        for member in src:
            dst.addfile(member, src.extractfile(member) if member.isfile() else None)
    return path


def _gzip_not_tar(tmp_path, fake_archive):
    import gzip

    path = tmp_path / "not_tar.tar.gz"
    path.write_bytes(gzip.compress(np.random.RandomState(0).bytes(5000)))
    return path


def _wrong_layout(tmp_path, fake_archive):
    path = tmp_path / "wrong.tar.gz"
    return _write_archive(path, {"some-other-dataset/group/1": "hello"})


def _no_test_split(tmp_path, fake_archive):
    members = {k: v for k, v in _fake_members().items() if "-train/" in k}
    return _write_archive(tmp_path / "train_only.tar.gz", members)


@pytest.mark.parametrize(
    "make",
    [_garbage, _truncated, _plain_tar, _gzip_not_tar, _wrong_layout, _no_test_split],
)
def test_corrupt_archive(make, tmp_path, fake_archive, cache_home):
    path = str(make(tmp_path, fake_archive))
    with pytest.raises(ValueError, match=re.escape(path)):
        load_20newsgroups(archive=path, data_home=cache_home)
    # Nothing half-parsed may be cached.
    assert not os.path.exists(cache_home) or _cache_files(cache_home) == []


# --------------------------------------------------------------------------
# load_20newsgroups on the real archive
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_cache(newsgroups_archive, tmp_path_factory):
    """A cache folder already holding the parsed real archive."""
    home = str(tmp_path_factory.mktemp("real_cache"))
    load_20newsgroups("train", archive=newsgroups_archive, data_home=home)
    return home


def test_real_archive_sizes_and_targets(newsgroups_archive, real_cache):
    kw = dict(archive=newsgroups_archive, data_home=real_cache)
    train = load_20newsgroups("train", **kw)
    test = load_20newsgroups("test", **kw)
    full = load_20newsgroups("all", **kw)
    for bunch, n in [(train, 11314), (test, 7532), (full, 18846)]:
        assert len(bunch.data) == len(bunch.target) == len(bunch.filenames) == n
        assert bunch.target_names == TARGET_NAMES
        assert bunch.target.dtype == np.int64
        assert bunch.target.min() == 0 and bunch.target.max() == 19
    np.testing.assert_array_equal(np.bincount(train.target), TRAIN_COUNTS)
    np.testing.assert_array_equal(np.bincount(test.target), TEST_COUNTS)
    assert train.filenames[0] == "20news-bydate-train/alt.atheism/49960"
    assert all(f.startswith("20news-bydate-train/") for f in train.filenames)
    assert all(f.startswith("20news-bydate-test/") for f in test.filenames)
    # Labels agree with the group in each file name.
    groups = [f.split("/")[1] for f in full.filenames]
    assert [TARGET_NAMES[t] for t in full.target] == groups
    assert full.data == train.data + test.data


def test_real_archive_order_is_deterministic(newsgroups_archive, real_cache):
    kw = dict(subset="train", archive=newsgroups_archive, data_home=real_cache)
    first = load_20newsgroups(**kw)
    second = load_20newsgroups(**kw)
    np.testing.assert_array_equal(first.filenames, second.filenames)
    assert first.data == second.data
    keys = [(f.split("/")[1], int(f.split("/")[2])) for f in first.filenames]
    assert keys == sorted(keys)


def test_real_archive_headers(newsgroups_archive, real_cache):
    kw = dict(subset="all", archive=newsgroups_archive, data_home=real_cache)
    raw = load_20newsgroups(remove=(), **kw).data
    stripped = load_20newsgroups(remove=("headers",), **kw).data
    assert np.mean([t.startswith("From:") for t in raw]) > 0.9
    # A handful of bodies begin with a forwarded post's own "From:" line.
    assert np.mean([t.startswith("From:") for t in stripped]) < 0.001
    assert all(len(s) < len(r) for s, r in zip(stripped, raw))
    assert stripped == [strip_newsgroup_header(t) for t in raw]


# --------------------------------------------------------------------------
# mask_labels
# --------------------------------------------------------------------------


def _labels(n_classes=4, n_per_class=30, seed=0):
    y = np.repeat(np.arange(n_classes), n_per_class)
    return np.random.RandomState(seed).permutation(y)


@pytest.mark.parametrize("n_labeled", [1, 5, 30])
def test_mask_labels_per_class(n_labeled):
    y = _labels()
    y_before = y.copy()
    masked = mask_labels(y, n_labeled, random_state=0)
    np.testing.assert_array_equal(y, y_before)  # input untouched
    assert masked is not y and masked.dtype == y.dtype
    kept = masked != -1
    np.testing.assert_array_equal(masked[kept], y[kept])
    counts = np.bincount(masked[kept], minlength=4)
    np.testing.assert_array_equal(counts, [n_labeled] * 4)


def test_mask_labels_deterministic():
    y = _labels()
    a = mask_labels(y, 3, random_state=42)
    b = mask_labels(y, 3, random_state=42)
    c = mask_labels(y, 3, random_state=43)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    d = mask_labels(y, 3, random_state=np.random.RandomState(42))
    np.testing.assert_array_equal(a, d)


def test_mask_labels_selection_is_uniform():
    # Every row of a class should be kept about equally often.
    y = _labels(n_classes=2, n_per_class=10)
    counts = np.zeros(y.shape[0])
    rng = np.random.RandomState(0)
    for _ in range(2000):
        counts += mask_labels(y, 2, random_state=rng) != -1
    np.testing.assert_allclose(counts / 2000, 0.2, atol=0.05)


def test_mask_labels_total():
    y = _labels()
    masked = mask_labels(y, 7, per_class=False, random_state=0)
    assert np.count_nonzero(masked != -1) == 7
    kept = masked != -1
    np.testing.assert_array_equal(masked[kept], y[kept])


@pytest.mark.parametrize("per_class", [True, False])
def test_mask_labels_never_picks_unlabeled(per_class):
    y = np.repeat(np.arange(4), 30)
    y[::2] = -1  # 15 labeled rows left in each class
    n = 15 if per_class else 60  # exactly all remaining rows
    for seed in range(5):
        masked = mask_labels(y, n, per_class=per_class, random_state=seed)
        assert np.all(masked[y == -1] == -1)
    np.testing.assert_array_equal(masked, y)


def test_mask_labels_too_many_requested():
    y = np.array([0, 0, 0, 1, 1, 2, 2, 2])
    with pytest.raises(ValueError, match=r"class 1 has 2"):
        mask_labels(y, 3)
    with pytest.raises(ValueError, match="only 8 labeled rows"):
        mask_labels(y, 9, per_class=False)
    with pytest.raises(ValueError, match="no labeled rows"):
        mask_labels(np.full(5, -1), 1)


@pytest.mark.parametrize(
    "n_labeled, error",
    [(0, ValueError), (-3, ValueError), (2.0, TypeError), (True, TypeError),
     ("5", TypeError), (None, TypeError)],
)  # fmt: skip
def test_mask_labels_bad_n(n_labeled, error):
    with pytest.raises(error, match="n_labeled"):
        mask_labels(_labels(), n_labeled)


def test_mask_labels_dtypes():
    y = _labels()
    assert mask_labels(y.astype(np.uint8), 2, random_state=0).dtype == np.int64
    assert mask_labels(y.astype(np.int32), 2, random_state=0).dtype == np.int32
    assert mask_labels(list(y), 2, random_state=0).dtype.kind == "i"
    names = np.array(["a", "b", "c", "d"])[y]
    masked = mask_labels(names, 2, random_state=0)
    assert masked.dtype == object
    assert np.count_nonzero(masked == -1) == len(y) - 8
    with pytest.raises(ValueError, match="1-dimensional"):
        mask_labels(y.reshape(-1, 2), 1)


def test_mask_labels_on_newsgroups_like_targets():
    # 5 labeled posts per group out of 20 groups: the usual setting.
    y = np.repeat(np.arange(20), 50)
    masked = mask_labels(y, 5, random_state=0)
    assert np.count_nonzero(masked != -1) == 100


# --------------------------------------------------------------------------
# make_multinomial_mixture
# --------------------------------------------------------------------------


def test_mixture_shapes_and_types():
    X, y, params = make_multinomial_mixture(
        n_samples=300, n_features=40, n_classes=3, n_components_per_class=2,
        random_state=0, return_params=True,
    )  # fmt: skip
    assert sp.issparse(X) and X.format == "csr" and isinstance(X, sp.csr_matrix)
    assert X.shape == (300, 40) and X.dtype == np.float64
    assert X.has_canonical_format
    assert y.shape == (300,) and y.dtype == np.int64
    assert set(np.unique(y)) == {0, 1, 2}
    np.testing.assert_array_equal(X.data, np.round(X.data))
    assert X.data.min() >= 1

    assert params["class_prior"].shape == (3,)
    assert params["component_weights"].shape == (6,)
    np.testing.assert_allclose(params["component_weights"].sum(), 1)
    np.testing.assert_array_equal(params["component_class"], [0, 0, 1, 1, 2, 2])
    theta = params["feature_prob"]
    assert theta.shape == (6, 40) and np.all(theta > 0)
    np.testing.assert_allclose(theta.sum(axis=1), 1)

    X2, y2 = make_multinomial_mixture(n_samples=10, random_state=0)
    assert X2.shape == (10, 500) and y2.shape == (10,)


def test_mixture_document_lengths():
    X, _ = make_multinomial_mixture(n_samples=2000, n_features=30, doc_length=50,
                                    random_state=0)  # fmt: skip
    lengths = np.asarray(X.sum(axis=1)).ravel()
    assert lengths.min() >= 1
    assert abs(lengths.mean() - 50) < 1
    assert abs(lengths.var() - 50) < 10  # Poisson: variance == mean

    # Poisson(0.01) is almost always 0, which is raised to 1.
    X, _ = make_multinomial_mixture(n_samples=500, n_features=30, doc_length=0.01,
                                    random_state=0)  # fmt: skip
    lengths = np.asarray(X.sum(axis=1)).ravel()
    assert lengths.min() == 1 and np.mean(lengths == 1) > 0.95


@pytest.mark.parametrize("n_components_per_class", [1, 3])
def test_mixture_word_frequencies_converge(n_components_per_class):
    X, y, params = make_multinomial_mixture(
        n_samples=4000, n_features=50, n_classes=4,
        n_components_per_class=n_components_per_class, doc_length=100,
        concentration=0.5, random_state=0, return_params=True,
    )  # fmt: skip
    theta = params["feature_prob"]
    for c in range(4):
        counts = np.asarray(X[y == c].sum(axis=0)).ravel()
        empirical = counts / counts.sum()
        # Within-class components are equally likely.
        expected = theta[params["component_class"] == c].mean(axis=0)
        assert np.max(np.abs(empirical - expected)) < 0.01


def test_mixture_class_prior():
    prior = [0.7, 0.2, 0.1]
    _, y, params = make_multinomial_mixture(
        n_samples=5000, n_features=5, n_classes=3, class_prior=[7, 2, 1],
        doc_length=3, random_state=0, return_params=True,
    )  # fmt: skip
    np.testing.assert_allclose(params["class_prior"], prior)
    np.testing.assert_allclose(np.bincount(y) / 5000, prior, atol=0.02)
    np.testing.assert_allclose(params["component_weights"], prior)


def test_mixture_deterministic():
    kw = dict(n_samples=200, n_features=60, n_classes=3, return_params=True)
    X1, y1, p1 = make_multinomial_mixture(random_state=7, **kw)
    X2, y2, p2 = make_multinomial_mixture(random_state=7, **kw)
    X3, y3, _ = make_multinomial_mixture(random_state=8, **kw)
    assert (X1 != X2).nnz == 0
    np.testing.assert_array_equal(y1, y2)
    np.testing.assert_array_equal(p1["feature_prob"], p2["feature_prob"])
    assert (X1 != X3).nnz > 0


def test_mixture_in_several_blocks(monkeypatch):
    # Force many small blocks to exercise the block-wise assembly.
    monkeypatch.setattr(_synthetic, "_WORDS_PER_BLOCK", 1000)
    X, y, params = make_multinomial_mixture(
        n_samples=3000, n_features=20, n_classes=2, doc_length=20,
        concentration=1.0, random_state=0, return_params=True,
    )  # fmt: skip
    assert X.shape == (3000, 20) and X.format == "csr"
    assert np.asarray(X.sum(axis=1)).min() >= 1
    for c in range(2):
        counts = np.asarray(X[y == c].sum(axis=0)).ravel()
        error = np.abs(counts / counts.sum() - params["feature_prob"][c])
        assert error.max() < 0.01


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(n_samples=0), ValueError, "n_samples"),
        (dict(n_features=2.5), TypeError, "n_features"),
        (dict(n_classes=0), ValueError, "n_classes"),
        (dict(n_components_per_class=-1), ValueError, "n_components_per_class"),
        (dict(doc_length=0), ValueError, "doc_length"),
        (dict(concentration=-1.0), ValueError, "concentration"),
        (dict(class_prior=[0.5, 0.5]), ValueError, "class_prior"),
        (dict(class_prior=[1, -1, 1, 1, 1]), ValueError, "class_prior"),
    ],
)
def test_mixture_invalid_params(kwargs, error, match):
    with pytest.raises(error, match=match):
        make_multinomial_mixture(**kwargs)


# --------------------------------------------------------------------------
# Issue 14: damaged archives and caches are never taken as good
# --------------------------------------------------------------------------


def _damaged_copy(tmp_path, damage):
    """A copy of a small fake archive (incompressible filler, so the bytes
    changed land in stored deflate data that zlib alone cannot check)."""
    good = Path(_write_archive(tmp_path / "good.tar.gz", _fake_members(),
                               filler=20_000))
    blob = bytearray(good.read_bytes())
    if damage == "flip_middle":
        blob[len(blob) // 2] ^= 0x01
    elif damage == "flip_early":
        blob[200] ^= 0x80
    elif damage == "flip_crc":
        blob[-6] ^= 0x01
    elif damage == "flip_length":
        blob[-2] ^= 0x01
    elif damage == "truncated_trailer":
        blob = blob[:-4]
    elif damage == "appended_junk":
        blob += b"not gzip"
    path = tmp_path / "20news-bydate.tar.gz"
    path.write_bytes(bytes(blob))
    return str(path)


@pytest.mark.parametrize("damage, problem", [
    ("flip_middle", "checksum"), ("flip_early", "checksum|damaged"),
    ("flip_crc", "checksum"), ("flip_length", "checksum"),
    ("truncated_trailer", "truncated"), ("appended_junk", "not gzip"),
])
def test_damaged_archive_raises_and_caches_nothing(tmp_path, cache_home,
                                                   damage, problem):
    path = _damaged_copy(tmp_path, damage)
    with pytest.raises(ValueError, match=re.escape(path)) as info:
        load_20newsgroups("all", archive=path, data_home=cache_home)
    assert re.search(problem, str(info.value)), str(info.value)
    assert not os.path.exists(cache_home) or _cache_files(cache_home) == []


def test_no_flipped_byte_gives_other_posts(tmp_path):
    good = Path(_write_archive(tmp_path / "good.tar.gz", _fake_members(),
                               filler=5_000))
    expected = _archive._parse_archive(str(good))
    good = good.read_bytes()
    path = tmp_path / "bad.tar.gz"
    caught = 0
    positions = sorted(set(range(0, len(good), 5)) | set(range(len(good) - 8,
                                                              len(good))))
    for pos in positions:
        blob = bytearray(good)
        blob[pos] ^= 0x04
        path.write_bytes(bytes(blob))
        try:
            raw = _archive._parse_archive(str(path))
        except ValueError as exc:
            assert str(path) in str(exc)
            caught += 1
        else:
            # Only bytes that do not change the data may pass: the gzip
            # header's name and time fields, unused padding bits.
            assert raw == expected, pos
    assert caught > 0.99 * len(positions) - 5


def _one_cache_file(folder):
    (path,) = Path(folder).iterdir()
    return path


def test_changed_byte_in_post_cache_is_rebuilt(fake_archive, cache_home,
                                               monkeypatch):
    expected = load_20newsgroups("all", archive=fake_archive,
                                 data_home=cache_home, remove=())
    cache_file = _one_cache_file(cache_home)
    blob = bytearray(cache_file.read_bytes())
    # A byte of a post's text, inside the pickled payload: pickle would
    # load it without complaint.
    at = bytes(blob).rindex(b"Last line of the body")
    blob[at] = ord("X")
    cache_file.write_bytes(bytes(blob))
    with pytest.warns(UserWarning, match=re.escape(str(cache_file))
                      + ".*checksum"):
        again = load_20newsgroups("all", archive=fake_archive,
                                  data_home=cache_home, remove=())
    assert again.data == expected.data
    _forbid_tar(monkeypatch)  # rebuilt: now good again
    with warnings_as_errors():
        assert load_20newsgroups("all", archive=fake_archive,
                                 data_home=cache_home, remove=()).data == \
            expected.data


def test_foreign_post_cache_entry_is_rebuilt(tmp_path, cache_home):
    # The cache entry of one archive copied under the name of another's.
    a = _write_archive(tmp_path / "a.tar.gz", _fake_members())
    members = _fake_members()
    members["20news-bydate-train/alt.atheism/1"] = "From: x\n\nother\n"
    b = _write_archive(tmp_path / "b.tar.gz", members)
    load_20newsgroups(archive=a, data_home=cache_home)
    entry_a = _one_cache_file(cache_home)
    path_b = _post_cache._cache_path(
        cache_home, _post_cache._archive_identity(os.path.abspath(b)))
    os.replace(entry_a, path_b)
    with pytest.warns(UserWarning, match="other data or settings"):
        bunch = load_20newsgroups(archive=b, data_home=cache_home)
    assert bunch.data[0] == "other\n"


def test_unwritable_cache_warning_names_the_folder(fake_archive, tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    with pytest.warns(UserWarning, match=re.escape(str(blocker))):
        bunch = load_20newsgroups(archive=fake_archive,
                                  data_home=blocker / "cache")
    assert len(bunch.data) == 9


class warnings_as_errors:
    def __enter__(self):
        import warnings

        self._ctx = warnings.catch_warnings()
        self._ctx.__enter__()
        warnings.simplefilter("error")

    def __exit__(self, *exc):
        return self._ctx.__exit__(*exc)


def test_empty_archive_says_so(tmp_path, cache_home):
    path = tmp_path / "20news-bydate.tar.gz"
    path.write_bytes(b"")
    with pytest.raises(ValueError, match="empty"):
        load_20newsgroups(archive=path, data_home=cache_home)
