"""The WebKB, co-training, Reuters and user-corpus loaders, on tiny archives
and files made here, and (when present) on the real archives."""

import csv
import gzip
import hashlib
import io
import json
import os
import tarfile
from pathlib import Path

import numpy as np
import pytest

from probssl.datasets import (
    load_corpus,
    load_cotrain_pages,
    load_reuters,
    load_webkb,
)
from probssl.datasets import _corpus_files
from probssl.datasets._corpus_files import html_to_text, strip_http_header

HEADER = ("MIME-Version: 1.0\r\nServer: CERN/3.0\r\nDate: Monday, 06-Jan-97 "
          "19:36:31 GMT\r\nContent-Type: text/html\r\n\r\n")


def _page(title, body):
    return (HEADER + f"<HTML><HEAD><TITLE>{title}</TITLE><script>var x = "
            f"'hidden';</script></HEAD><BODY><H1>{body}</H1><!-- a comment -->"
            "<p>caf&eacute; &amp; more</BODY></HTML>")


def _tar_gz(path, members):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, text in members.items():
            data = text.encode("latin-1") if isinstance(text, str) else text
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    path.write_bytes(gzip.compress(buf.getvalue()))
    return path


def _digest(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.delenv("PROBSSL_DATA", raising=False)
    monkeypatch.setenv("PROBSSL_HOME", str(tmp_path / "home"))
    return tmp_path


@pytest.fixture
def webkb_archive(home):
    members = {}
    for cls, univ, page in [("student", "cornell", "http:^^a.edu^~ann"),
                            ("faculty", "texas", "http:^^b.edu^~bob"),
                            ("course", "misc", "http:^^c.edu^cs101"),
                            ("project", "wisconsin", "http:^^d.edu^proj"),
                            ("other", "texas", "http:^^e.edu^misc.html"),
                            ("staff", "cornell", "http:^^f.edu^~sue")]:
        members[f"webkb/{cls}/{univ}/{page}"] = _page(f"{cls} page", f"{univ} {cls}")
    return _tar_gz(home / "webkb-4universities-raw.tar.gz", members)


@pytest.fixture
def cotrain_archive(home):
    members = {}
    for cls, page, words in [("course", "cs101", "Intro CS101"),
                             ("non-course", "home", "Jane's home"),
                             ("non-course", "lab", "Robotics lab")]:
        members[f"course-cotrain-data/fulltext/{cls}/{page}"] = _page(words, words)
        members[f"course-cotrain-data/inlinks/{cls}/{page}"] = f"{words} link\n"
    return _tar_gz(home / "course-cotrain-data.tar.gz", members)


SGML = """<!DOCTYPE lewis SYSTEM "lewis.dtd">
<REUTERS TOPICS="YES" LEWISSPLIT="TRAIN" CGISPLIT="TRAINING-SET" OLDID="5544" NEWID="1">
<DATE>26-FEB-1987</DATE><TOPICS><D>cocoa</D></TOPICS><PLACES><D>el-salvador</D></PLACES>
<TEXT>&#2;<TITLE>BAHIA COCOA REVIEW</TITLE><DATELINE>SALVADOR, Feb 26 -</DATELINE>
<BODY>Showers continued &lt;throughout&gt; the week.&#3;</BODY></TEXT></REUTERS>
<REUTERS TOPICS="YES" LEWISSPLIT="TRAIN" CGISPLIT="TRAINING-SET" OLDID="5545" NEWID="2">
<TOPICS><D>grain</D><D>wheat</D></TOPICS><TEXT><TITLE>WHEAT UP</TITLE><BODY>Wheat rose.</BODY></TEXT></REUTERS>
<REUTERS TOPICS="YES" LEWISSPLIT="TEST" CGISPLIT="TRAINING-SET" OLDID="5546" NEWID="3">
<TOPICS></TOPICS><TEXT TYPE="UNPROC">no title here</TEXT></REUTERS>
<REUTERS TOPICS="NO" LEWISSPLIT="TRAIN" CGISPLIT="TRAINING-SET" OLDID="5547" NEWID="4">
<TOPICS><D>acq</D></TOPICS><TEXT><BODY>Not in ModApte.</BODY></TEXT></REUTERS>
<REUTERS TOPICS="YES" LEWISSPLIT="NOT-USED" CGISPLIT="TRAINING-SET" OLDID="5548" NEWID="5">
<TOPICS><D>acq</D></TOPICS><TEXT><BODY>Unused.</BODY></TEXT></REUTERS>
"""


@pytest.fixture
def reuters_archive(home):
    return _tar_gz(home / "reuters21578.tar.gz",
                   {"reuters21578/reut2-000.sgm": SGML,
                    "reuters21578/README.txt": "readme"})


def test_html_to_text_drops_markup_scripts_and_header():
    text = html_to_text(strip_http_header(_page("Title", "Hello <b>world</b>")))
    assert "Title" in text and "Hello world" in text
    assert "café & more" in text
    for gone in ("hidden", "comment", "<", "Content-Type", "MIME"):
        assert gone not in text
    # A page with no header keeps its first line.
    assert strip_http_header("Just: text\nsecond line") == "Just: text\nsecond line"


def test_webkb_four_and_all_classes(webkb_archive):
    four = load_webkb(webkb_archive, sha256=_digest(webkb_archive))
    assert four.target_names == ["course", "faculty", "project", "student"]
    assert len(four.data) == 4
    assert sorted(four.university) == ["cornell", "misc", "texas", "wisconsin"]
    i = list(four.filenames).index("student/cornell/http:^^a.edu^~ann")
    assert four.target_names[four.target[i]] == "student"
    assert "cornell student" in four.data[i] and "MIME" not in four.data[i]
    everything = load_webkb(webkb_archive, classes="all", sha256=None)
    assert len(everything.data) == 6 and "staff" in everything.target_names
    with pytest.raises(ValueError, match="classes"):
        load_webkb(webkb_archive, classes="three", sha256=None)


def test_published_checksum_refuses_another_file(webkb_archive):
    with pytest.raises(ValueError, match="webkb-4universities-raw.*SHA-256.*not the published"):
        load_webkb(webkb_archive)


def test_damaged_archive_is_named(home):
    good = _tar_gz(home / "good.tar.gz", {"webkb/course/misc/p": "x"})
    bad = home / "webkb-4universities-raw.tar.gz"
    bad.write_bytes(good.read_bytes()[:-20])
    with pytest.raises(ValueError, match="Cannot read the WebKB archive.*truncated"):
        load_webkb(bad, sha256=None)


def test_archive_found_through_probssl_data(webkb_archive, monkeypatch):
    monkeypatch.setenv("PROBSSL_DATA", str(webkb_archive.parent))
    assert len(load_webkb(sha256=None).data) == 4
    # PROBSSL_DATA naming another corpus's archive: its folder is searched.
    other = webkb_archive.parent / "20news-bydate.tar.gz"
    other.write_bytes(b"")
    monkeypatch.setenv("PROBSSL_DATA", str(other))
    assert len(load_webkb(sha256=None).data) == 4
    monkeypatch.setenv("PROBSSL_DATA", str(webkb_archive.parent / "nowhere"))
    with pytest.raises(FileNotFoundError, match="nothing is downloaded"):
        load_webkb(sha256=None, data_home=webkb_archive.parent / "empty")


def test_parse_is_cached(webkb_archive, monkeypatch):
    first = load_webkb(webkb_archive, sha256=None)

    def fail(*args):
        raise AssertionError("the archive was parsed again")

    monkeypatch.setattr(_corpus_files, "iter_tar", fail)
    monkeypatch.setattr("probssl.datasets._webkb.iter_tar", fail)
    second = load_webkb(webkb_archive, sha256=None)
    assert second.data == first.data
    assert list(second.filenames) == list(first.filenames)


def test_cotrain_two_aligned_views(cotrain_archive):
    b = load_cotrain_pages(cotrain_archive, sha256=_digest(cotrain_archive))
    assert b.target_names == ["non-course", "course"]
    assert b.target.tolist() == [1, 0, 0]
    assert b.views == (b.data, b.links)
    assert b.links[0] == "Intro CS101 link\n"
    assert "Intro CS101" in b.data[0] and "<H1>" not in b.data[0]


def test_cotrain_misaligned_views_refused(home):
    path = _tar_gz(home / "course-cotrain-data.tar.gz", {
        "course-cotrain-data/fulltext/course/a": "<p>a</p>",
        "course-cotrain-data/inlinks/course/a": "a",
        "course-cotrain-data/fulltext/non-course/b": "<p>b</p>"})
    with pytest.raises(ValueError, match="not aligned.*non-course/b"):
        load_cotrain_pages(path, sha256=None)


def test_reuters_modapte_and_topics(reuters_archive):
    train = load_reuters(reuters_archive, "train", sha256=None)
    test = load_reuters(reuters_archive, "test", sha256=None)
    both = load_reuters(reuters_archive, "all", sha256=None)
    assert train.newid.tolist() == [1, 2] and test.newid.tolist() == [3]
    assert len(both.data) == 3 and both.split.tolist() == ["train", "train", "test"]
    assert train.topics == [["cocoa"], ["grain", "wheat"]]
    assert train.target_names == ["cocoa", "grain", "wheat"]
    assert train.target.tolist() == [[1, 0, 0], [0, 1, 1]]
    assert train.data[0].startswith("BAHIA COCOA REVIEW\n\nShowers continued "
                                    "<throughout> the week.")
    assert "SALVADOR" not in train.data[0]
    assert test.topics == [[]] and "no title here" in test.data[0]
    with pytest.raises(ValueError, match="subset"):
        load_reuters(reuters_archive, "dev", sha256=None)


# --- the user's corpus ------------------------------------------------------

ROWS = [("the cat sat", "pets"), ("a dog barked", "pets"),
        ("stocks fell", "money"), ("bonds rose", "money"),
        ("an unlabeled text", "")]


def _csv(path, rows, header=("text", "label"), extra=None):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header + ((extra[0],) if extra else ()))
        for i, row in enumerate(rows):
            w.writerow(row + ((extra[1][i],) if extra else ()))
    return path


def test_csv_unlabeled_and_test_file(tmp_path):
    train = _csv(tmp_path / "train.csv", ROWS)
    test = _csv(tmp_path / "test.csv", [("cats purr", "pets"), ("cash", "money")])
    b = load_corpus(train, test_path=test)
    assert b.target_names == ["money", "pets"]
    assert b.target.tolist() == [1, 1, 0, 0, -1, 1, 0]
    assert b.split.tolist() == ["train"] * 5 + ["test"] * 2
    assert b.data[4] == "an unlabeled text"


def test_csv_longer_fields_than_the_csv_default(tmp_path):
    long_text = "word " * 60_000                  # 300 KB > csv's 128 KiB
    b = load_corpus(_csv(tmp_path / "long.csv", [(long_text, "a"), ("b", "b")]))
    assert b.data[0] == long_text


def test_split_column_and_numeric_labels(tmp_path):
    rows = [(f"text {i}", str(lab)) for i, lab in enumerate([2, 10, 2, 10])]
    path = _csv(tmp_path / "c.csv", rows,
                extra=("part", ["train", "TRAIN", "test", "Test"]))
    b = load_corpus(path, split_column="part")
    assert b.target_names == ["2", "10"]  # numerically, not as strings
    assert b.split.tolist() == ["train", "train", "test", "test"]
    bad = _csv(tmp_path / "d.csv", rows, extra=("part", ["train", "dev", "x", "y"]))
    with pytest.raises(ValueError, match=r"d\.csv: row 2 .*'dev'.*part"):
        load_corpus(bad, split_column="part")


def test_jsonl_and_parquet(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_text("\n".join(json.dumps({"body": t, "y": lab or None})
                              for t, lab in ROWS) + "\n", encoding="utf-8")
    b = load_corpus(path, text_column="body", label_column="y")
    assert b.target.tolist() == [1, 1, 0, 0, -1]
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    table = pa.table({"text": [t for t, _ in ROWS],
                      "label": [lab or None for _, lab in ROWS]})
    pq.write_table(table, tmp_path / "c.parquet")
    p = load_corpus(tmp_path / "c.parquet")
    assert p.target.tolist() == b.target.tolist() and p.data == b.data


def test_class_folders(tmp_path):
    for cls, texts in {"pets": ["cat", "dog"], "money": ["cash"],
                       "unlabeled": ["who knows"]}.items():
        (tmp_path / "corpus" / cls).mkdir(parents=True)
        for i, t in enumerate(texts):
            (tmp_path / "corpus" / cls / f"{i}.txt").write_text(t, encoding="utf-8")
    b = load_corpus(tmp_path / "corpus")
    assert b.target_names == ["money", "pets"]
    assert sorted(zip(b.data, b.target.tolist())) == [
        ("cash", 0), ("cat", 1), ("dog", 1), ("who knows", -1)]
    (tmp_path / "corpus" / "pets" / "bad.txt").write_bytes(b"caf\xe9\n")
    with pytest.raises(ValueError, match=r"bad\.txt: line 1 .*not UTF-8"):
        load_corpus(tmp_path / "corpus")


def test_bad_user_input_is_named(tmp_path):
    good = _csv(tmp_path / "g.csv", ROWS)
    with pytest.raises(ValueError, match=r"g\.csv: no column 'body'"):
        load_corpus(good, text_column="body")
    with pytest.raises(ValueError, match="1 class"):
        load_corpus(_csv(tmp_path / "one.csv", [("a", "x"), ("b", "x")]))
    with pytest.raises(ValueError, match=r"empty\.csv: row 2 \(line 3\) has no text"):
        load_corpus(_csv(tmp_path / "empty.csv", [("a", "x"), ("  ", "y")]))
    raw = tmp_path / "latin.csv"
    raw.write_bytes("text,label\nok,x\ncaf\xe9,y\n".encode("latin-1"))
    with pytest.raises(ValueError, match=r"latin\.csv: line 3 .*not UTF-8"):
        load_corpus(raw)
    (tmp_path / "c.txt").write_text("x")
    with pytest.raises(ValueError, match="unknown corpus format '.txt'"):
        load_corpus(tmp_path / "c.txt")
    broken = tmp_path / "b.jsonl"
    broken.write_text('{"text": "a", "label": "x"}\n{oops\n')
    with pytest.raises(ValueError, match=r"b\.jsonl: line 2 is not a JSON object"):
        load_corpus(broken)
    with pytest.raises(FileNotFoundError):
        load_corpus(tmp_path / "missing.csv")


# --- the real archives (skipped when absent) ----------------------------------

def _real(name):
    env = os.environ.get("PROBSSL_DATA")
    folder = Path(env).expanduser() if env else (
        Path(__file__).resolve().parent.parent.parent / "shared" / "data")
    if folder.is_file():
        folder = folder.parent
    path = folder / name
    if not path.is_file():
        pytest.skip(f"{name} not found at {path}")
    return path


def test_real_webkb_counts():
    b = load_webkb(_real("webkb-4universities-raw.tar.gz"))
    assert len(b.data) == 4199
    assert np.bincount(b.target).tolist() == [930, 1124, 504, 1641]


def test_real_cotrain_counts():
    b = load_cotrain_pages(_real("course-cotrain-data.tar.gz"))
    assert len(b.data) == len(b.links) == 1051 and int(b.target.sum()) == 230


def test_real_reuters_modapte_counts():
    path = _real("reuters21578.tar.gz")
    assert len(load_reuters(path, "train").data) == 9603
    assert len(load_reuters(path, "test").data) == 3299
