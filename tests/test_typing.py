"""The public API is typed and documented: every public function and every
public method of a public class has annotations on all its parameters and
its return, which ``typing.get_type_hints`` resolves (probssl ships
``py.typed``), and numpydoc sections that describe them; every public name
has an Examples section (run by ``--doctest-modules``)."""

import importlib
import inspect
import typing
import warnings

import pytest

# Modules whose ``__all__`` (or, without one, whose names not starting with
# "_") make up the public API.
PUBLIC_MODULES = (
    "probssl",
    "probssl.active",
    "probssl.binary_mixture",
    "probssl.chunked",
    "probssl.cli",
    "probssl.co_training",
    "probssl.datasets",
    "probssl.datasets.waveform",
    "probssl.distributed",
    "probssl.embeddings",
    "probssl.feature_selection",
    "probssl.metrics",
    "probssl.model_selection",
    "probssl.multiview",
)
# probssl.cli's helpers that build argparse parsers are not an API.
CLI_API = {"main", "console_main"}
# Special methods that are part of a public class's documented behaviour
# (docs/_templates/class.rst shows __call__).
PUBLIC_SPECIAL = {"__init__", "__call__"}


def _public_names():
    """``{qualified name: class or function}``, each object once."""
    names, seen = {}, set()
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        exported = getattr(module, "__all__", None)
        if exported is None:
            exported = [n for n in vars(module) if not n.startswith("_")]
        if module_name == "probssl.cli":
            exported = sorted(CLI_API)
        for name in exported:
            obj = getattr(module, name)
            if not (inspect.isclass(obj) or inspect.isfunction(obj)):
                continue
            if not obj.__module__.startswith("probssl") or id(obj) in seen:
                continue
            seen.add(id(obj))
            names[f"{module_name}.{name}"] = obj
    return names


def _own_function(cls, name):
    """The plain function behind ``cls.name`` if probssl defines it."""
    attr = inspect.getattr_static(cls, name)
    if isinstance(attr, (staticmethod, classmethod)):
        attr = attr.__func__
    elif isinstance(attr, property):
        attr = attr.fget
    if not inspect.isfunction(attr):
        return None
    return attr if attr.__module__.startswith("probssl") else None


def _public_callables():
    """``{qualified name: function}``: public functions, and the public
    methods (inherited ones too) and properties of public classes that
    probssl itself defines (not scikit-learn's ``get_params``, ...)."""
    out, seen = {}, set()
    for qualname, obj in _public_names().items():
        if inspect.isfunction(obj):
            members = [(qualname, obj)]
        else:
            members = [(f"{qualname}.{n}", _own_function(obj, n))
                       for n in dir(obj)
                       if not n.startswith("_") or n in PUBLIC_SPECIAL]
        for name, func in members:
            if func is not None and func not in seen:
                seen.add(func)
                out[name] = func
    return out


CALLABLES = _public_callables()
NAMES = _public_names()


def test_the_walk_finds_the_api():
    # So that the checks below cannot pass on an empty list.
    assert len(NAMES) >= 40 and len(CALLABLES) >= 70
    for expected in ("probssl.EMNaiveBayes.fit", "probssl.EMNaiveBayes.fit_chunks",
                     "probssl.MixtureOfExperts.predict_components",
                     "probssl.active.ActiveLearner.query",
                     "probssl.active.ActiveLearner.teach",
                     "probssl.active.SimulatedOracle.__call__",
                     "probssl.chunked.fit_chunked",
                     "probssl.distributed.fit_dask",
                     "probssl.model_selection.LabeledKFold.split",
                     "probssl.SentenceEmbedder.transform",
                     "probssl.datasets.load_corpus", "probssl.cli.main"):
        assert expected in CALLABLES, expected


def _unannotated(func):
    sig = inspect.signature(func)
    missing = [name for i, (name, p) in enumerate(sig.parameters.items())
               if p.annotation is inspect.Parameter.empty
               and not (i == 0 and name in ("self", "cls"))]
    if sig.return_annotation is inspect.Signature.empty:
        missing.append("return")
    return missing


def test_every_public_callable_is_annotated():
    missing = {name: gap for name, func in CALLABLES.items()
               if (gap := _unannotated(func))}
    assert not missing, (
        f"public callables without annotations: {missing}; annotate the "
        "def line (aliases in probssl/_typing.py)")


@pytest.mark.parametrize("name", sorted(CALLABLES))
def test_annotations_resolve(name):
    func = CALLABLES[name]
    # Evaluates every postponed annotation in its module: a name used only
    # in an annotation but not imported at run time fails here.
    hints = typing.get_type_hints(func)
    params = [p for i, p in enumerate(inspect.signature(func).parameters)
              if not (i == 0 and p in ("self", "cls"))]
    assert set(params) | {"return"} <= set(hints) | {"self"}, name


# numpydoc's validation codes checked: every parameter documented (PR01)
# and none that does not exist (PR02), a Returns (RT01) or Yields (YD01)
# section, a docstring at all (GL08); and Examples (EX01) on every public
# name (methods take theirs from the class's).
CHECKED = {"PR01", "PR02", "RT01", "YD01", "GL08"}


def _numpydoc_errors(obj, codes):
    from numpydoc.validate import validate

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = validate(f"{obj.__module__}.{obj.__qualname__}")
    return sorted(f"{code}: {message}" for code, message in result["errors"]
                  if code in codes)


def test_public_docstrings_describe_parameters_and_returns():
    pytest.importorskip("numpydoc")
    errors = {}
    for name, func in CALLABLES.items():
        if func.__name__ == "__init__":   # documented by the class
            continue
        if isinstance(inspect.getattr_static(
                NAMES.get(name.rsplit(".", 1)[0], object),
                func.__name__, None), property):
            continue
        found = _numpydoc_errors(func, CHECKED)
        if found:
            errors[name] = found
    assert not errors, errors


def test_every_public_name_has_examples():
    pytest.importorskip("numpydoc")
    codes = {"EX01", "PR01", "PR02"}   # a class's Parameters: its __init__'s
    errors = {name: found for name, obj in NAMES.items()
              if (found := _numpydoc_errors(obj, codes))}
    assert not errors, errors
