"""
Co-training with two views: counts and dense features
=====================================================

Blum & Mitchell's co-training needs two views of every document, each
enough to classify it. Here view 1 is the word counts (multinomial naive
Bayes) and view 2 a dense 50-dimensional LSA projection of the TF-IDF
matrix (logistic regression), on the shipped 20 Newsgroups sample.
(:class:`~probssl.SentenceEmbedder` gives a better second view; it is not
run here to keep the example fast and offline.) The views go in as one
:class:`~probssl.MultiView`.
"""

import matplotlib.pyplot as plt
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import MultinomialNB
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import Normalizer

from probssl import CoEM, CoTraining, MultiView
from probssl.datasets import load_demo_sample, mask_labels

train, test = load_demo_sample()
vectorizer = CountVectorizer(stop_words="english", min_df=2)
counts = vectorizer.fit_transform(train.data)
counts_test = vectorizer.transform(test.data)
lsa = make_pipeline(TfidfTransformer(sublinear_tf=True),
                    TruncatedSVD(50, random_state=0), Normalizer())
dense = lsa.fit_transform(counts)
dense_test = lsa.transform(counts_test)

y = mask_labels(train.target, 5, random_state=0)   # 100 labeled posts
labeled = y != -1
views, views_test = MultiView(counts, dense), MultiView(counts_test, dense_test)

# %%
# Each view alone, on the labeled rows only.
nb = MultinomialNB(alpha=0.1).fit(counts[labeled], y[labeled])
lr = LogisticRegression(max_iter=200).fit(dense[labeled], y[labeled])
print(f"counts, naive Bayes:     {nb.score(counts_test, test.target):.3f}")
print(f"LSA, logistic regression: {lr.score(dense_test, test.target):.3f}")

# %%
# Co-training: each round, each view labels its most confident pool rows
# for the other. ``view_weights="auto"`` tempers the product of the two
# views' probabilities with weights chosen on the labeled rows.
cot = CoTraining(MultinomialNB(alpha=0.1), LogisticRegression(max_iter=200),
                 n_per_class=2, pool_size=200, max_iter=5,
                 view_weights="auto", random_state=0).fit(views, y)
print(f"co-training (tempered product): {cot.score(views_test, test.target):.3f}")

# %%
# Co-EM (Nigam & Ghani 2000): every unlabeled row, with the other view's
# probabilistic labels, alternating between the views.
coem = CoEM(MultinomialNB(alpha=0.1), LogisticRegression(max_iter=200),
            max_iter=2, view_weights="auto", random_state=0).fit(views, y)
print(f"co-EM (tempered product):       {coem.score(views_test, test.target):.3f}")

# %%
accuracies = {"NB, counts": nb.score(counts_test, test.target),
              "LR, LSA": lr.score(dense_test, test.target),
              "co-training": cot.score(views_test, test.target),
              "co-EM": coem.score(views_test, test.target)}
fig, ax = plt.subplots(figsize=(6, 3))
ax.barh(list(accuracies), list(accuracies.values()))
ax.set_xlabel("test accuracy (100 labeled posts)")
fig.tight_layout()
