"""probssl.metrics: the precision-recall breakeven point."""

import numpy as np
import pytest
from sklearn.metrics import precision_score, recall_score

from probssl.metrics import breakeven


def test_breakeven_is_where_precision_meets_recall():
    rng = np.random.RandomState(0)
    y = rng.rand(200) < 0.3
    scores = y + rng.normal(0, 0.8, size=200)
    # Predict positive for the n_positive rows scored highest: precision
    # and recall are then equal, and equal to the breakeven point.
    top = np.zeros(200, dtype=bool)
    top[np.argsort(-scores)[:y.sum()]] = True
    assert precision_score(y, top) == pytest.approx(recall_score(y, top))
    assert breakeven(y, scores) == pytest.approx(precision_score(y, top))
    assert breakeven(y.astype(int), scores) == breakeven(y, scores)


def test_breakeven_ties_keep_row_order_and_no_positive_is_refused():
    assert breakeven([1, 0, 0], [0.5, 0.5, 0.5]) == 1.0
    assert breakeven([0, 0, 1], [0.5, 0.5, 0.5]) == 0.0
    with pytest.raises(ValueError, match="at least one positive"):
        breakeven([0, 0], [0.1, 0.2])
