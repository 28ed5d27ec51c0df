"""Nigam et al.'s (2000) recipe as data: the published Figure 3 points, the
paper's choices and the modern variant's, and the ablation's variants (used
by ``nigam2000 --protocol paper`` and its tables)."""

from ._protocol import published_values

FIG3_UNLABELED = (0, 500, 1000, 1500, 2000, 3000, 5000, 7000, 10000, 13000)
PAPER_FIG3 = {n: tuple(v) for n, v in published_values(
    "nigam2000 Fig. 3 (EM by unlabeled)", int).items()}
LAMBDAS = (0.0, 0.01, 0.03, 0.1, 0.3, 1.0)

# The paper's choices, and the modern variant's (``--protocol bydate``) one
# for each, switched one at a time by the ablation.
PAPER_CHOICES = {
    "split": "time",          # last 20 % of each group by article number
    "tokens": "letters",      # runs of letters, lower-cased, unstemmed
    "stop_words": "english",  # scikit-learn's English list (see below)
    "vocabulary": "count2",   # words occurring more than once, all posts
    "length": 1500.0,         # counts scaled to this length (see docs)
    "smoothing": "laplace",   # alpha = 1 on words, 1 on class priors
}
MODERN_CHOICES = {
    "split": "bydate",        # the bydate train / test folders
    "tokens": "sklearn",      # CountVectorizer's default (\b\w\w+\b)
    "stop_words": "none",     # both protocols use the English list: the
                              # ablation shows the list's worth instead
    "vocabulary": "min_df2",  # words in >= 2 training documents
    "length": None,           # raw counts
    "smoothing": "0.01",      # alpha = 0.01, ML class priors
}
# The ablation's variants: each paper choice switched alone, then the two
# that act together (length and smoothing: add-one on 1,500-word documents
# is a weak prior, on raw counts a strong one), then all of them but the
# split, and all (the modern recipe of --protocol bydate, with this
# protocol's draws). Both recipes use scikit-learn's English stop list.
ABLATION = {
    **{name: {name: value} for name, value in MODERN_CHOICES.items()},
    "length+smoothing": {"length": None, "smoothing": "0.01"},
    "all but split": {k: v for k, v in MODERN_CHOICES.items()
                      if k not in ("split", "stop_words")},
    "all": {k: v for k, v in MODERN_CHOICES.items() if k != "stop_words"},
}
