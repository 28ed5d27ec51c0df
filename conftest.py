"""Doctests of probssl's modules: an example that needs an optional
package (Dask) is skipped where it is not installed, as the tests are."""

import importlib.util

import pytest

# Docstring examples (by their doctest name) and the package they import.
_NEEDS = {
    "probssl.distributed.fit_dask": "dask",
    "probssl._dask.predict_dask": "dask",
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        package = _NEEDS.get(getattr(item, "name", ""))
        if package and importlib.util.find_spec(package) is None:
            item.add_marker(pytest.mark.skip(
                reason=f"the example needs {package} (not installed)"))
