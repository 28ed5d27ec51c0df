"""Cross-validation for semi-supervised learning: score labeled rows only.

In semi-supervised model selection the unlabeled rows (``y == -1``) belong
to every training fold, since they are available whatever is being
validated, and only labeled rows can be scored. The splitters here do
exactly that and plug into scikit-learn's ``GridSearchCV``,
``cross_val_score`` and friends.

:func:`select_em_params` chooses EM-lambda's weight and the number of
components per class on the labeled rows, as Nigam et al. (2000) did
(leave-one-out or k-fold cross-validation, unlabeled rows always in
training).
"""

import numpy as np
from sklearn.model_selection import GridSearchCV, KFold, StratifiedKFold
from sklearn.model_selection._split import BaseCrossValidator
from sklearn.utils.validation import column_or_1d

from ._validation import unlabeled_mask

__all__ = ["LabeledKFold", "LabeledStratifiedKFold", "select_em_params"]


class _LabeledSplitter(BaseCrossValidator):
    """Split the labeled rows with ``self._inner``; unlabeled rows always
    go to the training side."""

    def _labeled_rows(self, X, y):
        if y is None:
            raise ValueError(
                f"{type(self).__name__}.split needs y to tell labeled rows "
                "(y != -1) from unlabeled ones."
            )
        y = column_or_1d(y)
        labeled = np.flatnonzero(~unlabeled_mask(y))
        if labeled.size < self.n_splits:
            raise ValueError(
                f"Cannot make {self.n_splits} folds from {labeled.size} "
                "labeled rows."
            )
        return y, labeled

    def split(self, X, y=None, groups=None):
        """Yield ``(train, test)`` index arrays.

        ``test`` holds labeled rows only; ``train`` holds every other row,
        the unlabeled ones included.
        """
        y, labeled = self._labeled_rows(X, y)
        n = y.shape[0]
        for _, test_pos in self._inner().split(labeled, y[labeled]):
            test = labeled[test_pos]
            train_mask = np.ones(n, dtype=bool)
            train_mask[test] = False
            yield np.flatnonzero(train_mask), test

    def get_n_splits(self, X=None, y=None, groups=None):
        return self.n_splits

    def _iter_test_indices(self, X=None, y=None, groups=None):
        for _, test in self.split(X, y, groups):
            yield test


class LabeledKFold(_LabeledSplitter):
    """K-fold over the labeled rows; unlabeled rows are always trained on.

    Parameters
    ----------
    n_splits : int, default=5
        Number of folds (at least 2). ``n_splits`` equal to the number of
        labeled rows is leave-one-out.
    shuffle : bool, default=False
        Shuffle the labeled rows before splitting.
    random_state : int, RandomState instance or None, default=None
        Used when ``shuffle`` is True.

    Examples
    --------
    >>> import numpy as np
    >>> from probssl.model_selection import LabeledKFold
    >>> y = np.array([0, 1, -1, 0, -1, 1])
    >>> for train, test in LabeledKFold(n_splits=2).split(None, y):
    ...     print(train.tolist(), test.tolist())
    [2, 3, 4, 5] [0, 1]
    [0, 1, 2, 4] [3, 5]
    """

    def __init__(self, n_splits=5, *, shuffle=False, random_state=None):
        self.n_splits = n_splits
        self.shuffle = shuffle
        self.random_state = random_state

    def _inner(self):
        return KFold(self.n_splits, shuffle=self.shuffle,
                     random_state=self.random_state)


class LabeledStratifiedKFold(_LabeledSplitter):
    """Stratified k-fold over the labeled rows (each fold keeps the class
    proportions); unlabeled rows are always trained on.

    Parameters
    ----------
    n_splits : int, default=5
    shuffle : bool, default=False
    random_state : int, RandomState instance or None, default=None

    Examples
    --------
    >>> import numpy as np
    >>> from probssl.model_selection import LabeledStratifiedKFold
    >>> y = np.array([0, 0, 1, 1, -1, -1])
    >>> cv = LabeledStratifiedKFold(n_splits=2)
    >>> [test.tolist() for _, test in cv.split(None, y)]
    [[0, 2], [1, 3]]
    """

    def __init__(self, n_splits=5, *, shuffle=False, random_state=None):
        self.n_splits = n_splits
        self.shuffle = shuffle
        self.random_state = random_state

    def _inner(self):
        return StratifiedKFold(self.n_splits, shuffle=self.shuffle,
                               random_state=self.random_state)


def select_em_params(X, y, *, estimator=None,
                     unlabeled_weight=(0.0, 0.01, 0.1, 0.3, 1.0),
                     n_components_per_class=(1,), cv=5, scoring=None,
                     n_jobs=None, random_state=None):
    """Choose lambda and components per class on the labeled rows.

    Nigam et al. (2000) pick EM-lambda's weight and the number of mixture
    components per class by cross-validation on the labeled documents, the
    unlabeled ones always in training. This runs that search with
    :class:`~sklearn.model_selection.GridSearchCV`.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
        Labels, ``-1`` for unlabeled rows.
    estimator : estimator, default=None
        Defaults to ``EMNaiveBayes()``; any estimator with the two
        hyper-parameters searched.
    unlabeled_weight, n_components_per_class : sequences
        The grid.
    cv : int, "loo" or splitter, default=5
        An int is a :class:`LabeledStratifiedKFold` with that many folds,
        ``"loo"`` leave-one-out over the labeled rows (the paper's choice;
        one fit per labeled row and grid point).
    scoring : str or callable, default=None
        The estimator's ``score`` (accuracy on the labeled test rows).
    n_jobs : int, default=None
    random_state : int or None, default=None
        Shuffles the folds of an int ``cv``.

    Returns
    -------
    search : GridSearchCV
        Fitted (and refitted on all rows with the best parameters):
        ``search.best_params_``, ``search.best_estimator_``.

    Examples
    --------
    >>> from probssl.datasets import make_multinomial_mixture
    >>> from probssl.model_selection import select_em_params
    >>> X, y = make_multinomial_mixture(300, 50, 3, random_state=0)
    >>> y[30:] = -1
    >>> search = select_em_params(X, y, unlabeled_weight=(0.0, 1.0), cv=3)
    >>> sorted(search.best_params_)
    ['n_components_per_class', 'unlabeled_weight']
    """
    from .naive_bayes import EMNaiveBayes

    if estimator is None:
        estimator = EMNaiveBayes()
    y_arr = column_or_1d(y)
    if isinstance(cv, str):
        if cv != "loo":
            raise ValueError(f"cv must be an int, 'loo' or a splitter, got {cv!r}.")
        cv = LabeledKFold(int(np.sum(~unlabeled_mask(y_arr))))
    elif isinstance(cv, (int, np.integer)):
        cv = LabeledStratifiedKFold(
            int(cv), shuffle=random_state is not None,
            random_state=random_state,
        )
    grid = {"unlabeled_weight": list(unlabeled_weight),
            "n_components_per_class": list(n_components_per_class)}
    search = GridSearchCV(estimator, grid, cv=cv, scoring=scoring,
                          n_jobs=n_jobs, refit=True)
    return search.fit(X, y)
