"""
Active learning: which documents to label next
==============================================

Pool-based active learning after McCallum & Nigam (1998): start from one
label per class, then ask an oracle for the labels of the documents the
model chooses, refitting after every batch. A simulated oracle answers
with the true labels of the shipped 20 Newsgroups sample. Query by
committee (committees drawn from the Dirichlet posterior, density
weighted) against random choice, with naive Bayes and with EM.
"""

import matplotlib.pyplot as plt
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.naive_bayes import MultinomialNB

from probssl import EMNaiveBayes
from probssl.active import ActiveLearner, SimulatedOracle
from probssl.datasets import load_demo_sample, mask_labels

train, test = load_demo_sample()
vectorizer = CountVectorizer(stop_words="english", min_df=2)
X = vectorizer.fit_transform(train.data)
X_test = vectorizer.transform(test.data)
y_start = mask_labels(train.target, 1, random_state=0)   # 20 labels; the pool is -1

# %%
curves = {}
for model_name, model in [("NB", MultinomialNB(alpha=0.1)),
                          ("EM", EMNaiveBayes(alpha=0.1, max_iter=20))]:
    for strategy in ("random", "qbc"):
        learner = ActiveLearner(model, strategy=strategy, batch_size=20,
                                committee_size=3, random_state=0)
        learner.fit(X, y_start)
        history = learner.simulate(SimulatedOracle(train.target), n_rounds=5,
                                   X_test=X_test, y_test=test.target)
        curves[f"{model_name} + {strategy}"] = history
        print(f"{model_name} + {strategy:6s}: " + ", ".join(
            f"{h['n_labeled']}: {h['accuracy']:.3f}" for h in history))

# %%
fig, ax = plt.subplots(figsize=(6, 4))
for name, history in curves.items():
    ax.plot([h["n_labeled"] for h in history], [h["accuracy"] for h in history],
            "o-" if name.startswith("EM") else "s--", label=name)
ax.set_xlabel("labeled posts")
ax.set_ylabel("test accuracy")
ax.legend()
fig.tight_layout()

# %%
# ``learner.query()`` returns the rows to label next, best first, and
# ``learner.label(rows, answers)`` adds the answers and refits: the loop a
# real annotation tool would run instead of :meth:`~probssl.active.ActiveLearner.simulate`.
rows = learner.query()
print("next rows to label:", rows[:5])
