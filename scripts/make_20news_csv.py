"""Write 20 Newsgroups (bydate) as two CSV files for ``probssl run baselines``.

``train.csv`` and ``test.csv`` with columns ``text`` and ``label`` (the
group's name), headers, footers and quotes removed as
:func:`probssl.datasets.load_20newsgroups` removes them: the corpus a user
would bring, made from the archive. Posts left with no text (a few hundred
were only headers and quotes) are left out, and counted: ``probssl run
baselines`` refuses a row without text. Written atomically.

    python scripts/make_20news_csv.py --data ../shared/data/20news-bydate.tar.gz --out /tmp/20news-csv
    probssl run baselines --data /tmp/20news-csv/train.csv --test /tmp/20news-csv/test.csv \\
        --labeled 20,40,100 --seeds 3 --out docs/results/baselines-20news-csv
"""

import argparse
import csv
import os

from probssl.datasets import load_20newsgroups


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="20news-bydate.tar.gz")
    parser.add_argument("--out", required=True, help="folder for the files")
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    for subset in ("train", "test"):
        bunch = load_20newsgroups(subset, archive=args.data)
        rows = [(text, bunch.target_names[k])
                for text, k in zip(bunch.data, bunch.target) if text.strip()]
        path = os.path.join(args.out, f"{subset}.csv")
        with open(path + ".tmp", "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(["text", "label"])
            writer.writerows(rows)
        os.replace(path + ".tmp", path)
        print(f"{path}: {len(rows):,} rows ({len(bunch.data) - len(rows)} "
              "posts without text left out)")


if __name__ == "__main__":
    main()
