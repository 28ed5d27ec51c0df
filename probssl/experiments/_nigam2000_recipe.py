"""Nigam et al.'s (2000) recipe as data: the published Figure 3 points, the
paper's choices and the modern variant's, and the ablation's variants (used
by ``nigam2000 --protocol paper`` and its tables)."""

FIG3_UNLABELED = (0, 500, 1000, 1500, 2000, 3000, 5000, 7000, 10000, 13000)
PAPER_FIG3 = {
    3000: (73.1, 73.7, 74.1, 73.9, 73.9, 74.3, 74.9, 75.4, 75.9, 77.1),
    600: (60.4, 60.5, 61.6, 62.1, 63.0, 64.7, 66.9, 68.7, 70.0, 71.3),
    300: (52.1, 49.8, 51.9, 53.1, 54.7, 57.1, 61.1, 63.7, 66.3, 67.8),
    140: (41.7, 37.1, 40.0, 42.1, 44.1, 46.9, 52.0, 55.4, 59.4, 62.3),
    40: (26.8, 22.1, 24.2, 26.2, 28.1, 31.4, 35.7, 39.4, 43.1, 45.7),
}
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
