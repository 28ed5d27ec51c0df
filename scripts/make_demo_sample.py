"""Build probssl/data/20news_sample.json.gz: real posts for the offline demo.

A small, fixed sample of the 20 Newsgroups "bydate" archive (headers
removed): ``--train`` posts per group from the training set and ``--test``
from the test set, drawn with a fixed seed, long posts cut at
``--max-chars`` so the file stays well under 2 MB.

    python scripts/make_demo_sample.py --data ../shared/data/20news-bydate.tar.gz
"""

import argparse
import gzip
import json
import os

import numpy as np

from probssl.datasets import load_20newsgroups


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--train", type=int, default=60)
    parser.add_argument("--test", type=int, default=25)
    parser.add_argument("--max-chars", type=int, default=2000)
    parser.add_argument("--out", default=os.path.join(
        os.path.dirname(__file__), "..", "probssl", "data",
        "20news_sample.json.gz"))
    args = parser.parse_args(argv)
    rng = np.random.RandomState(0)
    sample = {}
    for subset, per_group in (("train", args.train), ("test", args.test)):
        bunch = load_20newsgroups(subset, archive=args.data)
        rows = np.concatenate([
            np.sort(rng.choice(np.flatnonzero(bunch.target == c), per_group,
                               replace=False))
            for c in range(len(bunch.target_names))
        ])
        sample[subset] = {
            "data": [bunch.data[i][: args.max_chars] for i in rows],
            "target": bunch.target[rows].tolist(),
            "filenames": bunch.filenames[rows].tolist(),
        }
        sample["target_names"] = list(bunch.target_names)
    with gzip.open(args.out, "wt", encoding="utf-8", compresslevel=9) as f:
        json.dump(sample, f)
    print(f"wrote {args.out}: {os.path.getsize(args.out) / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
