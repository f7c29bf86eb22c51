"""Predict, then reveal: the overlap of a guess with a map's top patches, known answers."""
import numpy as np
import pytest

from explorer.analyses.guess import guess_overlap


def _map() -> np.ndarray:
    return np.arange(16, dtype=float).reshape(4, 4)  # patch (3, 3) is the maximum, (3, 2) next, ...


def test_a_guess_of_exactly_the_top_patches_scores_one_and_points_at_the_maximum():
    score = guess_overlap([(3, 3), (3, 2)], _map())
    assert (score.k, score.iou, score.pointing_rank, score.overlap) == (2, 1.0, 1, 2)
    assert score.chance_overlap == pytest.approx(4 / 16)


def test_a_disjoint_guess_scores_zero_and_its_rank_counts_the_larger_patches():
    score = guess_overlap([(0, 0), (0, 1)], _map())
    assert score.iou == 0.0 and score.pointing_rank == 15  # 14 patches beat (0, 1)


def test_half_right_is_one_third_iou():
    assert guess_overlap([(3, 3), (0, 0)], _map()).iou == pytest.approx(1 / 3)  # {15, 0} vs {15, 14}


def test_an_empty_or_off_grid_guess_is_refused_with_a_sentence():
    with pytest.raises(ValueError, match="at least one patch"):
        guess_overlap([], _map())
    with pytest.raises(ValueError, match="outside the 4 x 4 grid"):
        guess_overlap([(4, 0)], _map())
