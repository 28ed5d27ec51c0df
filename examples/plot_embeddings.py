"""
Dense features: Gaussian and von Mises–Fisher event models
==========================================================

Sentence embeddings are dense, real-valued, usually unit-norm rows; the
event model is then a Gaussian (``covariance_type`` as in scikit-learn's
``GaussianMixture``) or a von Mises–Fisher density on the sphere. This
example uses a 50-dimensional LSA projection of the shipped 20 Newsgroups
sample as a stand-in for embeddings (``SentenceEmbedder().transform(texts)``
gives real ones, 384 dimensions; encoding is slow on a CPU, so it is not
run here). With a wrong generative model EM can *hurt*: a small
``unlabeled_weight`` keeps it safe.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import Normalizer

from probssl import EMNaiveBayes
from probssl.datasets import load_demo_sample, mask_labels

train, test = load_demo_sample()
lsa = make_pipeline(CountVectorizer(stop_words="english", min_df=2),
                    TfidfTransformer(sublinear_tf=True),
                    TruncatedSVD(50, random_state=0), Normalizer())
E = lsa.fit_transform(train.data)          # unit-norm rows, like embeddings
E_test = lsa.transform(test.data)
# A post with none of the vocabulary's words projects to zero: the vMF
# model refuses rows off the unit sphere, so drop them.
keep, keep_test = np.linalg.norm(E, axis=1) > 0.5, np.linalg.norm(E_test, axis=1) > 0.5
E, target = E[keep], train.target[keep]
E_test, target_test = E_test[keep_test], test.target[keep_test]
y = mask_labels(target, 10, random_state=0)   # 200 labeled posts
labeled = y != -1

# %%
# Supervised references on the labeled rows, then EM with every unlabeled
# row at full weight (λ = 1) and at a tenth (λ = 0.1).
results = {
    "LogisticRegression (labeled only)":
        LogisticRegression(max_iter=1000).fit(E[labeled], y[labeled]),
    "GaussianNB (labeled only)": GaussianNB().fit(E[labeled], y[labeled]),
}
for lam in (1.0, 0.1):
    results[f"EM Gaussian diag, λ={lam}"] = EMNaiveBayes(
        event_model="gaussian", reg_covar=1e-4, unlabeled_weight=lam).fit(E, y)
    results[f"EM Gaussian tied + shrinkage, λ={lam}"] = EMNaiveBayes(
        event_model="gaussian", covariance_type="tied", shrinkage=0.3,
        reg_covar=1e-4, unlabeled_weight=lam).fit(E, y)
    results[f"EM von Mises–Fisher, λ={lam}"] = EMNaiveBayes(
        event_model="vmf", unlabeled_weight=lam).fit(E, y)
scores = {name: model.score(E_test, target_test) for name, model in results.items()}
for name, score in scores.items():
    print(f"{name:40s} {score:.3f}")

fig, ax = plt.subplots(figsize=(7, 4))
ax.barh(list(scores)[::-1], list(scores.values())[::-1])
ax.set_xlabel("test accuracy (200 labeled posts)")
fig.tight_layout()
