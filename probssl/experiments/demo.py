"""``probssl demo``: NB vs EM on 20 Newsgroups with few labels (< 2 min).

On the archive (``--data``, ``$PROBSSL_DATA``): the nigam2000 bydate split
at 100 and 300 labeled, 2 draws. Without it: the small sample of real
posts shipped with probssl (1,200 train / 500 test posts) at 20, 60 and
200 labeled, 1,000 unlabeled, 3 draws (numbers noisier than on the full
corpus).
"""

import os

from .engine import Protocol, data_option
from .nigam2000 import (PUBLISHED, count_data, count_methods, load_bydate,
                        need_archive, split_bydate)

_SAMPLE = {"labeled": (20, 60, 200), "seeds": 3, "n_unlabeled": 1_000}
_ARCHIVE = {"labeled": (100, 300), "seeds": 2, "n_unlabeled": 10_000}


def _check(s):
    s["data"] = need_archive(s, required=False)
    s.update(_ARCHIVE if s["data"] else _SAMPLE, alpha=0.01,
             methods=("NB", "EM"))


def _identity(s):
    from ._report import archive_identity

    if s["data"]:
        return archive_identity(s["data"])
    import probssl

    return archive_identity(os.path.join(os.path.dirname(probssl.__file__),
                                         "data", "20news_sample.json.gz"))


def _load(s):
    from probssl.datasets import load_demo_sample

    if s["data"]:
        return load_bydate(s)
    print("The 20 Newsgroups archive was not found (--data, "
          "$PROBSSL_DATA): using the small sample of real posts shipped "
          "with probssl (1,200 train / 500 test posts; numbers are "
          "noisier than on the full corpus).", flush=True)
    return count_data(*load_demo_sample())


PROTOCOL = Protocol(
    name="demo", title="NB vs EM on 20 Newsgroups with few labels",
    options=(data_option("20news-bydate.tar.gz or its folder; without it, "
                         "$PROBSSL_DATA, else the shipped sample"),),
    load=_load, split=split_bydate, check=_check, identity=_identity,
    methods=count_methods(), published=PUBLISHED,
    published_label="Nigam et al. 2000, Fig. 2 (all 18,846 posts)")
