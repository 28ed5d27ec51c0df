"""Datasets for semi-supervised text classification experiments.

This package provides

* :func:`load_20newsgroups`, an offline loader for the 20 Newsgroups
  "bydate" archive that caches the parsed posts on disk, and
  :func:`load_20newsgroups_by_article`, its split by article number;
* :func:`mask_labels`, which hides all but a few labels the way
  scikit-learn's semi-supervised estimators expect (``-1`` = unlabeled),
  and :func:`labeled_unlabeled_split`, a balanced labeled set and a random
  unlabeled set (a learning curve's draw);
* :func:`make_multinomial_mixture`, a generator of synthetic bag-of-words
  data from a known mixture of multinomials, and :func:`make_waveform`,
  Breiman et al.'s waveform data (its Bayes-optimal rule is in
  :mod:`probssl.datasets.waveform`);
* :func:`load_webkb` (WebKB 4 universities), :func:`load_cotrain_pages`
  (Blum & Mitchell's course pages in two views), :func:`load_reuters`
  (Reuters-21578, ModApte) from the shipped archives, their SHA-256
  checked, and :func:`load_corpus`, the user's own CSV / JSON lines /
  Parquet file or class folders;
* :func:`vectorize_20newsgroups`, its word counts by Nigam et al.'s (2000)
  recipe or the modern one (each choice switchable), and
  :func:`read_stop_list`;
* :func:`get_data_home`, the folder used for archives and caches.

Layout: ``_home`` (data folder, archive search), ``_archive`` (reading
the archive), ``_post_cache`` (the parsed posts on disk), ``_newsgroups``
(the loaders and the demo sample), ``_labels`` (label masking),
``_synthetic`` (multinomial mixtures), ``waveform`` (the waveform
generator and its Bayes rule), ``_checks`` (argument checks),
``_corpus_files`` (archive search, checksums, tar reading, parse cache and
HTML to text for the other corpora), ``_webkb``, ``_reuters``,
``_user_corpus``, ``_vectorized`` (20 Newsgroups as counts).
"""

# SPDX-License-Identifier: BSD-3-Clause

from .._cache import CacheWarning  # noqa: F401  (importable from here before)
from ._home import ARCHIVE_NAME, find_20newsgroups_archive, get_data_home
from ._labels import labeled_unlabeled_split, mask_labels
from ._newsgroups import (
    load_20newsgroups,
    load_20newsgroups_by_article,
    load_demo_sample,
)
from ._reuters import load_reuters
from ._user_corpus import load_corpus
from ._webkb import load_cotrain_pages, load_webkb
from ._synthetic import make_multinomial_mixture
from ._vectorized import read_stop_list, vectorize_20newsgroups
from .waveform import make_waveform

__all__ = [
    "find_20newsgroups_archive",
    "get_data_home",
    "load_corpus",
    "load_cotrain_pages",
    "load_demo_sample",
    "load_reuters",
    "load_webkb",
    "load_20newsgroups",
    "load_20newsgroups_by_article",
    "labeled_unlabeled_split",
    "make_multinomial_mixture",
    "make_waveform",
    "mask_labels",
    "read_stop_list",
    "vectorize_20newsgroups",
]
