"""Datasets for semi-supervised text classification experiments.

This package provides

* :func:`load_20newsgroups`, an offline loader for the 20 Newsgroups
  "bydate" archive that caches the parsed posts on disk, and
  :func:`load_20newsgroups_by_article`, its split by article number;
* :func:`mask_labels`, which hides all but a few labels the way
  scikit-learn's semi-supervised estimators expect (``-1`` = unlabeled);
* :func:`make_multinomial_mixture`, a generator of synthetic bag-of-words
  data from a known mixture of multinomials, and :func:`make_waveform`,
  Breiman et al.'s waveform data (its Bayes-optimal rule is in
  :mod:`probssl.datasets.waveform`);
* :func:`get_data_home`, the folder used for archives and caches.

Layout: ``_home`` (data folder, archive search), ``_archive`` (reading
the archive), ``_post_cache`` (the parsed posts on disk), ``_newsgroups``
(the loaders and the demo sample), ``_labels`` (label masking),
``_synthetic`` (multinomial mixtures), ``waveform`` (the waveform
generator and its Bayes rule), ``_checks`` (argument checks).
"""

# SPDX-License-Identifier: BSD-3-Clause

from .._cache import CacheWarning  # noqa: F401  (importable from here before)
from ._home import ARCHIVE_NAME, find_20newsgroups_archive, get_data_home
from ._labels import mask_labels
from ._newsgroups import (
    load_20newsgroups,
    load_20newsgroups_by_article,
    load_demo_sample,
)
from ._synthetic import make_multinomial_mixture
from .waveform import make_waveform

__all__ = [
    "find_20newsgroups_archive",
    "get_data_home",
    "load_demo_sample",
    "load_20newsgroups",
    "load_20newsgroups_by_article",
    "make_multinomial_mixture",
    "make_waveform",
    "mask_labels",
]
