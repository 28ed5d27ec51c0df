"""
Choosing λ and M on the labeled rows only
=========================================

EM-λ (Nigam et al. 2000, §5.1) multiplies every unlabeled row's
contribution by λ ∈ [0, 1]: 0 is supervised naive Bayes, 1 is basic EM.
With few labels there is no validation set to spare, so λ and the number
of components per class M are chosen by cross-validation **on the labeled
rows**, the unlabeled rows staying in every training fold
(:func:`probssl.model_selection.select_em_params`,
:class:`probssl.model_selection.LabeledStratifiedKFold`).
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.model_selection import cross_val_score

from probssl import EMNaiveBayes
from probssl.datasets import load_demo_sample, mask_labels
from probssl.model_selection import LabeledStratifiedKFold, select_em_params

train, test = load_demo_sample()
vectorizer = CountVectorizer(stop_words="english", min_df=2)
X = vectorizer.fit_transform(train.data)
X_test = vectorizer.transform(test.data)
y = mask_labels(train.target, 5, random_state=0)   # 100 labeled posts

# %%
# Test accuracy (which a user would not have) and the labeled-only
# cross-validated accuracy (which a user has) for every λ.
lambdas = [0.0, 0.01, 0.1, 0.3, 1.0]
cv = LabeledStratifiedKFold(n_splits=3, shuffle=True, random_state=0)
test_acc, cv_acc = [], []
for lam in lambdas:
    clf = EMNaiveBayes(alpha=0.1, unlabeled_weight=lam)
    test_acc.append(clf.fit(X, y).score(X_test, test.target))
    cv_acc.append(cross_val_score(clf, X, y, cv=cv).mean())
    print(f"lambda={lam:<5} test {test_acc[-1]:.3f}  labeled-only CV {cv_acc[-1]:.3f}")

fig, ax = plt.subplots(figsize=(6, 4))
ax.plot(lambdas, test_acc, "o-", label="test accuracy")
ax.plot(lambdas, cv_acc, "s--", label="3-fold CV on the 100 labeled rows")
ax.set_xscale("symlog", linthresh=0.01)
ax.set_xlabel("unlabeled_weight (λ)")
ax.set_ylabel("accuracy")
ax.legend()
fig.tight_layout()

# %%
# The same search in one call, over λ and M together; the best model is
# refitted on all rows.
search = select_em_params(X, y, estimator=EMNaiveBayes(alpha=0.1),
                          unlabeled_weight=(0.0, 0.1, 1.0),
                          n_components_per_class=(1, 2), cv=3, random_state=0)
print("chosen:", search.best_params_)
print(f"test accuracy of the chosen model: "
      f"{search.best_estimator_.score(X_test, test.target):.3f}")
