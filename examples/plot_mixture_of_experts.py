"""
Mixture of experts on the waveform data (Miller & Uyar 1996)
============================================================

Miller & Uyar's classifier is a mixture of J components, each with a class
table β(c | l): components need not align with the classes. Their
experiment is Breiman's waveform+noise data (3 classes, 21 informative and
19 noise attributes), 12 Gaussian components. Here a smaller version:
1,000 training points with 30 labeled, 1,000 test points.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.naive_bayes import GaussianNB

from probssl import MixtureOfExperts
from probssl.datasets import make_waveform, mask_labels

X, y_true = make_waveform(n_samples=2000, random_state=0)
X_train, y_train, X_test, y_test = X[:1000], y_true[:1000], X[1000:], y_true[1000:]
y = mask_labels(y_train, 10, random_state=0)       # 30 labeled points
labeled = y != -1

# %%
# EM-I learns the class tables from the labeled rows only; EM-II also from
# the unlabeled rows' expected classes. Both start from k-means on all rows.
errors = {"Gaussian NB (labeled only)":
          1 - GaussianNB().fit(X_train[labeled], y[labeled]).score(X_test, y_test)}
for algorithm in ("em1", "em2"):
    moe = MixtureOfExperts(n_components=12, event_model="gaussian",
                           algorithm=algorithm, init="kmeans", reg_covar=1e-3,
                           tol=1e-5, random_state=0).fit(X_train, y)
    errors[f"MixtureOfExperts {algorithm}"] = 1 - moe.score(X_test, y_test)
    print(f"{algorithm}: {moe.n_iter_} iterations, objective "
          f"{moe.lower_bounds_[0]:.1f} -> {moe.lower_bound_:.1f} (never decreases: "
          f"{bool(np.all(np.diff(moe.lower_bounds_) >= -1e-9 * abs(moe.lower_bound_)))})")
for name, err in errors.items():
    print(f"{name:28s} test error {100 * err:.1f} %")

fig, ax = plt.subplots(figsize=(6, 3))
ax.barh(list(errors), [100 * e for e in errors.values()])
ax.axvline(13.4, color="k", linestyle=":", label="Bayes error (13.4 %)")
ax.set_xlabel("test error (%)")
ax.legend(loc="lower right")
fig.tight_layout()

# %%
# Every component's class table: most components serve one class, some
# are shared.
print(np.round(moe.class_table_, 2))
