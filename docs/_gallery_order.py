"""The order of the gallery: from the first model to the larger questions."""

ORDER = [
    "plot_nb_vs_em.py",
    "plot_unlabeled_weight.py",
    "plot_mixture_of_experts.py",
    "plot_hybrid_classifier.py",
    "plot_co_training.py",
    "plot_embeddings.py",
    "plot_active_learning.py",
    "plot_out_of_core.py",
]


class ExampleOrder:
    """sphinx-gallery ``within_subsection_order``: ORDER first, then by name."""

    def __init__(self, src_dir):
        self.src_dir = src_dir

    def __call__(self, filename):
        return (ORDER.index(filename) if filename in ORDER else len(ORDER), filename)

    def __repr__(self):
        return f"<{type(self).__name__}>"
