"""Model-randomization sanity check (Adebayo et al. 2018, "Sanity Checks for Saliency Maps").

Re-initialise the model's weights from the top down (cascading: the head and final
norm, then the last block, the last two blocks, ...), recompute the explanation of
the same image and class on each randomized model, and compare it with the original
map by the Spearman rank correlation of their patch values::

    rho_k = spearman( map(model), map(model with its top k blocks randomized) )

A method whose map barely changes (rho near 1) does not depend on what the model
learned: it is not explaining the model. Lower is better; the sanity score of a
method is the mean of rho_k over the stages. The randomization itself lives with
the models (``explorer.models.randomize``); this module holds the comparison.
"""
from __future__ import annotations

import numpy as np


def rank_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rho of two maps over their patches; 0 when either map is constant."""
    from scipy.stats import spearmanr

    x, y = np.asarray(a, np.float64).ravel(), np.asarray(b, np.float64).ravel()
    if x.size != y.size:
        raise ValueError(f"maps of {x.size} and {y.size} patches cannot be compared")
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        return 0.0
    return float(spearmanr(x, y).statistic)


def sanity_score(correlations: dict[int, float]) -> float:
    """The mean rank correlation over the randomization stages (lower: more sensitive to the weights)."""
    return float(np.mean(list(correlations.values()))) if correlations else float("nan")
