"""probssl: classical probabilistic semi-supervised classifiers.

Scikit-learn estimators for learning from a few labeled rows and many
unlabeled ones (``y == -1``), on bag-of-words counts or dense embeddings.
"""

from .co_training import CoEM, CoTraining
from .embeddings import SentenceEmbedder
from .hybrid import HybridClassifier
from .mixture_of_experts import MixtureOfExperts
from .multiview import MultiView
from .naive_bayes import EMNaiveBayes

__version__ = "0.1.0.dev0"

__all__ = [
    "CoEM",
    "CoTraining",
    "EMNaiveBayes",
    "HybridClassifier",
    "MixtureOfExperts",
    "MultiView",
    "SentenceEmbedder",
    "__version__",
]
