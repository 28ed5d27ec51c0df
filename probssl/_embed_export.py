"""Models exported to the ONNX / OpenVINO backends, built once beside the
model's cache and checked against their manifest (see
:mod:`probssl.embeddings`)."""

import json
import os
import warnings

from ._cache import file_sha256

# Inference backends and the quantizations each one offers.
BACKENDS = ("torch", "onnx", "openvino")
_QUANTIZE = {"torch": (None, "int8"), "onnx": (None, "int8"),
             "openvino": (None,)}
_BACKEND_HINTS = {
    "onnx": 'pip install "probssl[onnx]"  (sentence-transformers[onnx]: '
            "optimum-onnx and onnxruntime)",
    "openvino": 'pip install "probssl[openvino]"  (sentence-transformers'
                "[openvino]: optimum-intel and openvino)",
}
# Bump when the exported models could differ for the same key.
_EXPORT_VERSION = 1
# The file each exported backend is loaded from, inside the export folder.
_EXPORT_FILES = {("onnx", None): "onnx/model.onnx",
                 ("onnx", "int8"): "onnx/model_qint8_avx2.onnx",
                 ("openvino", None): "openvino/openvino_model.xml"}


def _quantize_torch_int8(model):
    """Dynamic int8 quantization of the linear layers (CPU only)."""
    import torch

    if str(model.device) != "cpu":
        raise ValueError(
            "quantize='int8' with backend='torch' runs on the CPU only; got "
            f"device {str(model.device)!r}. Use device='cpu'.")
    quantize = getattr(torch.ao.quantization, "quantize_dynamic")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.filterwarnings("ignore", message=".*quantize_per_tensor")
        return quantize(model, {torch.nn.Linear}, dtype=torch.qint8)


def _check_backend_packages(backend):
    """Import what sentence-transformers' ``backend`` needs, or raise an
    ImportError naming the pip command (also when the packages are there
    but do not import with the installed transformers)."""
    modules = {"onnx": ("onnxruntime", "optimum.onnxruntime"),
               "openvino": ("openvino", "optimum.intel.openvino")}[backend]
    import importlib

    for name in modules:
        try:
            importlib.import_module(name)
        except Exception as exc:  # ImportError, or a broken installation
            raise ImportError(
                f"SentenceEmbedder(backend={backend!r}) needs the module "
                f"{name!r}, which does not import ({type(exc).__name__}: "
                f"{exc}). Install it with:\n    {_BACKEND_HINTS[backend]}\n"
                "with versions that match the installed transformers; or "
                "use backend='torch'.") from exc


_MANIFEST = "probssl-export.json"
_VERIFIED = {}  # {(folder, stat signature): True}


def _export_files(target):
    out = []
    for root, dirs, files in os.walk(target):
        dirs.sort()
        for name in sorted(files):
            full = os.path.join(root, name)
            rel = os.path.relpath(full, target).replace(os.sep, "/")
            if rel != _MANIFEST:
                out.append((rel, full))
    return out

def _verify_export(target, file_name):
    """None if ``target`` holds a complete export, else what is wrong
    (``"missing"`` when there is nothing)."""
    if not os.path.isdir(target):
        return "missing"
    try:
        with open(os.path.join(target, _MANIFEST)) as f:
            manifest = json.load(f)
        expected = manifest["files"]
        if manifest.get("version") != _EXPORT_VERSION:
            return "written by another probssl version"
    except (OSError, ValueError, KeyError, TypeError):
        return f"no readable {_MANIFEST}"
    if file_name not in expected:
        return f"{file_name} is not in the export"
    files = _export_files(target)
    signature = (target, tuple((rel, os.stat(full).st_size,
                                os.stat(full).st_mtime_ns)
                               for rel, full in files))
    if _VERIFIED.get(signature):
        return None
    found = {rel for rel, _ in files}
    if found != set(expected):
        return ("files differ from its manifest: "
                f"{sorted(set(expected) ^ found)[:3]}")
    for rel, full in files:
        if file_sha256(full) != expected[rel]:
            return f"checksum mismatch in {rel}"
    _VERIFIED[signature] = True
    return None


def _build_export(st, folder, target, backend, quantize):
    """Export ``folder`` with sentence-transformers' ``backend`` into
    ``target``: built in a temporary folder beside it, checksummed, then
    renamed into place (a damaged ``target`` is replaced)."""
    import shutil
    import tempfile

    root = os.path.dirname(target)
    os.makedirs(root, exist_ok=True)
    tmp = tempfile.mkdtemp(dir=root, prefix=".tmp-export-")
    try:
        # Exported in memory from the local files: nothing is downloaded.
        model = st.SentenceTransformer(folder, device="cpu",
                                       local_files_only=True, backend=backend)
        model.save_pretrained(tmp)
        if backend == "onnx" and quantize == "int8":
            from sentence_transformers import export_dynamic_quantized_onnx_model

            export_dynamic_quantized_onnx_model(model, "avx2", tmp)
        files = {rel: file_sha256(full) for rel, full in _export_files(tmp)}
        with open(os.path.join(tmp, _MANIFEST), "w") as f:
            json.dump({"version": _EXPORT_VERSION, "backend": backend,
                       "quantize": quantize, "files": files}, f, indent=1)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o755)  # mkdtemp leaves 0700
        if os.path.exists(target):
            trash = tempfile.mkdtemp(dir=root, prefix=".tmp-old-")
            os.replace(target, os.path.join(trash, "old"))
            shutil.rmtree(trash, ignore_errors=True)
        os.replace(tmp, target)
        tmp = None
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
