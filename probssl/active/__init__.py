"""Pool-based active learning with EM (McCallum & Nigam 1998).

Labels are the expensive part; this module chooses which documents a
person (or, in experiments, a :class:`SimulatedOracle`) labels next, and
lets a semi-supervised model learn from the rest of the pool:

* ``"random"``: the baseline;
* ``"uncertainty"``: the rows the model is least sure of (entropy, margin
  or least confidence of ``predict_proba``);
* ``"qbc"``: query by committee. The committee is drawn from the posterior
  of the fitted model's parameters: a Dirichlet over every class's (or
  mixture component's) word distribution for multinomial naive Bayes
  (:class:`~probssl.EMNaiveBayes`, :class:`~probssl.MixtureOfExperts`,
  :class:`sklearn.naive_bayes.MultinomialNB`), a normal posterior of the
  means for the Gaussian model (:class:`~probssl.EMNaiveBayes` with
  ``event_model="gaussian"`` and a diagonal covariance,
  :class:`sklearn.naive_bayes.GaussianNB`), a von Mises–Fisher posterior of
  the mean directions for the vMF model, each given by the event model
  itself from its statistics (:mod:`probssl._committees`), and bootstrap
  refits for any other classifier with ``predict_proba``.
  Disagreement is the mean KL divergence of the members' class posteriors
  to the committee's mean posterior.

Density weighting multiplies a row's score by how representative it is of
the pool (McCallum & Nigam's ``exp(-beta * mean KL)``; cosine similarity for
dense features). Everything is vectorised over the pool: a query on a
10,000-document pool of 20 Newsgroups takes a fraction of a second.

After every batch the model is refitted on the labeled rows and, for a
semi-supervised model, on the still-unlabeled pool (``y == -1``). With
``warm_start=True``, and an estimator that has a ``warm_start``
hyper-parameter, refits start EM from the previous parameters (fewer
iterations, but see the class's Notes: on 20 Newsgroups it keeps EM in the
local optimum of the first few labels).

:func:`labels_to_reach` reads a learning curve: the labels a strategy needs
to reach a given accuracy.
"""

from ._curves import labels_to_reach
from ._learner import ActiveLearner
from ._oracle import SimulatedOracle
from ._scores import committee_disagreement, pool_density, uncertainty_scores

__all__ = [
    "ActiveLearner",
    "SimulatedOracle",
    "committee_disagreement",
    "labels_to_reach",
    "pool_density",
    "uncertainty_scores",
]
