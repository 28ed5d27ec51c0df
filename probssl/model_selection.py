"""Cross-validation for semi-supervised learning: score labeled rows only.

In semi-supervised model selection the unlabeled rows (``y == -1``) belong
to every training fold, since they are available whatever is being
validated, and only labeled rows can be scored. The splitters here do
exactly that and plug into scikit-learn's ``GridSearchCV``,
``cross_val_score`` and friends.

:func:`labeled_scorer` wraps any scikit-learn scorer so that it scores the
labeled rows only (a plain scorer counts every unlabeled row as an error).
:func:`select_em_params` chooses EM-lambda's weight, the number of
components per class and optionally the smoothing on the labeled rows, as
Nigam et al. (2000) did (leave-one-out or k-fold cross-validation,
unlabeled rows always in training).

The recipe with scikit-learn's own tools::

    GridSearchCV(EMNaiveBayes(), {"alpha": [0.1, 0.01, 0.001]},
                 cv=LabeledStratifiedKFold(5),
                 scoring=labeled_scorer("accuracy"))
    cross_validate(HybridClassifier(), X, y, cv=LabeledKFold(5),
                   scoring={"acc": labeled_scorer("accuracy"),
                            "f1": labeled_scorer("f1_macro")})
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator, Sequence

import numpy as np
from sklearn.metrics import check_scoring
from sklearn.model_selection import GridSearchCV, KFold, StratifiedKFold
from sklearn.model_selection._split import BaseCrossValidator
from sklearn.utils import _safe_indexing
from sklearn.utils.validation import column_or_1d

from ._em import caller_stacklevel
from ._typing import ArrayLike, IntArray, MatrixLike, RandomStateLike
from ._validation import unlabeled_mask

__all__ = ["LabeledKFold", "LabeledStratifiedKFold", "labeled_scorer",
           "select_em_params"]


class _LabeledScorer:
    """A scikit-learn scorer applied to the labeled rows only."""

    def __init__(self, scorer, name):
        self.scorer, self.name = scorer, name

    def __call__(self, estimator, X, y, **kwargs):
        keep = np.flatnonzero(~unlabeled_mask(column_or_1d(y)))
        if not keep.size:
            raise ValueError(
                f"labeled_scorer({self.name!r}): the rows to score are all "
                "unlabeled (y == -1); split with LabeledKFold or "
                "LabeledStratifiedKFold, whose test folds hold labeled rows.")
        if "sample_weight" in kwargs and kwargs["sample_weight"] is not None:
            kwargs["sample_weight"] = _safe_indexing(kwargs["sample_weight"],
                                                     keep)
        return self.scorer(estimator, _safe_indexing(X, keep),
                           _safe_indexing(y, keep), **kwargs)

    def __repr__(self):
        return f"labeled_scorer({self.name!r})"


def labeled_scorer(scoring: str | Callable | None = "accuracy",
                   estimator: object | None = None) -> Callable[..., float]:
    """A scorer that scores the labeled rows only (``y != -1``).

    scikit-learn's scorers count an unlabeled row as a row of class -1, so
    ``GridSearchCV(..., scoring="accuracy")`` over semi-supervised data
    scores every unlabeled row as an error (0.03 on 20 Newsgroups). This
    wraps any scorer so that only labeled rows reach it; with
    :class:`LabeledKFold` / :class:`LabeledStratifiedKFold` (unlabeled rows
    in every training fold, labeled rows only in the test folds) it is the
    semi-supervised ``scoring=`` of ``GridSearchCV`` and ``cross_validate``.

    Parameters
    ----------
    scoring : str or callable, default="accuracy"
        A scikit-learn scorer name (``"accuracy"``, ``"f1_macro"``,
        ``"neg_log_loss"``, ...) or a scorer ``scorer(estimator, X, y)``.
    estimator : estimator, default=None
        Passed to :func:`sklearn.metrics.check_scoring` (only needed for
        ``scoring=None``: the estimator's own ``score``).

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y, sample_weight=None)``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.model_selection import cross_validate
    >>> from probssl import EMNaiveBayes
    >>> from probssl.datasets import make_multinomial_mixture
    >>> from probssl.model_selection import (LabeledStratifiedKFold,
    ...                                      labeled_scorer)
    >>> X, y = make_multinomial_mixture(300, 50, 3, random_state=0)
    >>> y[30:] = -1                     # 30 labeled rows, 270 unlabeled
    >>> result = cross_validate(
    ...     EMNaiveBayes(), X, y, cv=LabeledStratifiedKFold(3),
    ...     scoring={"accuracy": labeled_scorer("accuracy"),
    ...              "f1": labeled_scorer("f1_macro")})
    >>> bool(result["test_accuracy"].min() > 0.8)
    True
    """
    if isinstance(scoring, _LabeledScorer):
        return scoring
    name = scoring if isinstance(scoring, str) or scoring is None \
        else getattr(scoring, "__name__", repr(scoring))
    return _LabeledScorer(check_scoring(estimator, scoring=scoring), name)


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

    def split(self, X: MatrixLike | None, y: ArrayLike | None = None,
              groups: object = None) -> Iterator[tuple[IntArray, IntArray]]:
        """Yield ``(train, test)`` index arrays.

        ``test`` holds labeled rows only; ``train`` holds every other row,
        the unlabeled ones included.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or None
            Ignored (the folds depend on ``y`` only).
        y : array-like of shape (n_samples,)
            Labels, ``-1`` for unlabeled rows. Required.
        groups : object, default=None
            Ignored.

        Yields
        ------
        train : ndarray
            Row indices of the training fold: the unlabeled rows and the
            labeled rows of the other folds.
        test : ndarray
            Row indices of the test fold, all labeled.
        """
        y, labeled = self._labeled_rows(X, y)
        n = y.shape[0]
        for _, test_pos in self._inner().split(labeled, y[labeled]):
            test = labeled[test_pos]
            train_mask = np.ones(n, dtype=bool)
            train_mask[test] = False
            yield np.flatnonzero(train_mask), test

    def get_n_splits(self, X: object = None, y: object = None,
                     groups: object = None) -> int:
        """The number of folds.

        Parameters
        ----------
        X, y, groups : object, default=None
            Ignored.

        Returns
        -------
        int
            ``n_splits``.
        """
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

    def __init__(self, n_splits: int = 5, *, shuffle: bool = False,
                 random_state: RandomStateLike = None) -> None:
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

    def __init__(self, n_splits: int = 5, *, shuffle: bool = False,
                 random_state: RandomStateLike = None) -> None:
        self.n_splits = n_splits
        self.shuffle = shuffle
        self.random_state = random_state

    def _inner(self):
        return StratifiedKFold(self.n_splits, shuffle=self.shuffle,
                               random_state=self.random_state)


def select_em_params(
    X: MatrixLike,
    y: ArrayLike,
    *,
    estimator: object | None = None,
    unlabeled_weight: Sequence[float] = (0.0, 0.01, 0.1, 0.3, 1.0),
    n_components_per_class: Sequence[int] = (1,),
    alpha: Sequence[float] | None = None,
    cv: int | str | object = 5,
    scoring: str | Callable | None = None,
    n_jobs: int | None = None,
    random_state: int | None = None,
) -> GridSearchCV:
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
        Defaults to ``EMNaiveBayes()``; any estimator with the
        hyper-parameters searched.
    unlabeled_weight, n_components_per_class : sequences
        The grid.
    alpha : sequence of float, default=None
        Smoothing values searched too; None keeps the estimator's.
    cv : int, "loo" or splitter, default=5
        An int is a :class:`LabeledStratifiedKFold` with that many folds,
        ``"loo"`` leave-one-out over the labeled rows (the paper's
        choice; one fit per labeled row and grid point). A splitter of
        your own should keep the unlabeled rows in every training fold: a
        warning says when its test folds take some (they are then neither
        trained on nor scored).
    scoring : str or callable, default=None
        The estimator's ``score`` (accuracy on the labeled test rows); a
        scikit-learn scorer is wrapped by :func:`labeled_scorer`, so that
        it never sees an unlabeled row.
    n_jobs : int, default=None
        Fits run in parallel by ``GridSearchCV``.
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
    >>> search = select_em_params(X, y, unlabeled_weight=(0.0, 1.0), cv=3,
    ...                           scoring="accuracy")
    >>> sorted(search.best_params_)
    ['n_components_per_class', 'unlabeled_weight']
    >>> bool(search.best_score_ > 0.8)
    True
    """
    from .naive_bayes import EMNaiveBayes

    if estimator is None:
        estimator = EMNaiveBayes()
    y_arr = column_or_1d(y)
    unlabeled = unlabeled_mask(y_arr)
    if isinstance(cv, str):
        if cv != "loo":
            raise ValueError(f"cv must be an int, 'loo' or a splitter, got {cv!r}.")
        cv = LabeledKFold(int(np.sum(~unlabeled)))
    elif isinstance(cv, (int, np.integer)):
        cv = LabeledStratifiedKFold(
            int(cv), shuffle=random_state is not None,
            random_state=random_state)
    else:
        _warn_unlabeled_test_rows(cv, X, y_arr, unlabeled)
    grid = {"unlabeled_weight": list(unlabeled_weight),
            "n_components_per_class": list(n_components_per_class)}
    if alpha is not None:
        grid["alpha"] = list(alpha)
    if scoring is not None:
        scoring = labeled_scorer(scoring, estimator)
    search = GridSearchCV(estimator, grid, cv=cv, scoring=scoring,
                          n_jobs=n_jobs, refit=True)
    return search.fit(X, y)


def _warn_unlabeled_test_rows(cv, X, y, unlabeled):
    """Warn when a splitter's test folds take unlabeled rows: they are then
    left out of that fold's training, and a plain scikit-learn scorer
    would count each as an error (scikit-learn's stratified folds treat -1
    as a class)."""
    if not unlabeled.any() or isinstance(cv, _LabeledSplitter):
        return
    splits = cv.split(X, y) if hasattr(cv, "split") else cv
    taken = sum(int(unlabeled[test].sum()) for _, test in splits)
    if taken:
        warnings.warn(
            f"select_em_params: the folds of cv={cv!r} put {taken} unlabeled "
            "row(s) (y == -1) in test folds, so those folds do not train on "
            "them; they are not scored (labeled_scorer). Use LabeledKFold "
            "or LabeledStratifiedKFold to keep every unlabeled row in "
            "every training fold.", UserWarning,
            stacklevel=caller_stacklevel())
