"""How well a student's guess matches where a map points (predict, then reveal).

The student marks a set G of k patches they think the model uses; the map's top-k patches are
T (the k largest values, ties broken by position). Reported:

- ``iou = |G ∩ T| / |G ∪ T|``: 1 when the guess is exactly the map's top-k, 0 when disjoint;
  a random guess of k of the N patches has an expected overlap ``E|G ∩ T| = k² / N``;
- the pointing rank: ``1 + #{patches whose value is larger than the best guessed patch's}``;
  1 means the guess contains the map's maximum (the pointing game of Zhang et al. 2016 with the
  guess as the box).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import numpy as np


@dataclass(frozen=True)
class GuessScore:
    k: int  # patches guessed
    iou: float  # of the guess and the map's top-k patches
    pointing_rank: int  # 1 = the guess holds the map's maximum
    chance_overlap: float  # expected |G ∩ T| of a random guess of k patches
    overlap: int  # |G ∩ T|


def guess_overlap(guess: Iterable[tuple[int, int]], relevance: np.ndarray) -> GuessScore:
    """Score the guessed patches ``(row, col)`` against the (gh, gw) map ``relevance``."""
    m = np.asarray(relevance, np.float64)
    gh, gw = m.shape
    chosen = sorted({(int(r), int(c)) for r, c in guess})
    if not chosen:
        raise ValueError("Mark at least one patch before revealing the map.")
    if any(not (0 <= r < gh and 0 <= c < gw) for r, c in chosen):
        raise ValueError(f"A guessed patch lies outside the {gh} x {gw} grid.")
    flat = m.ravel()
    k, n = len(chosen), flat.size
    top = set(np.argsort(-flat, kind="stable")[:k].tolist())  # ties: the earlier patch first
    g = {r * gw + c for r, c in chosen}
    overlap = len(g & top)
    best = max(flat[i] for i in g)
    return GuessScore(k, overlap / len(g | top), 1 + int((flat > best).sum()), k * k / n, overlap)


def class_guesses(guesses: Iterable[Iterable[tuple[int, int]]], grid: tuple[int, int]) -> np.ndarray:
    """A class's guesses as one (gh, gw) map: the share of the ``guesses`` (each a set of patches
    ``(row, col)``) that marked each patch, ``m[r, c] = #{g : (r, c) ∈ g} / #guesses`` (zeros for none).
    Patches outside the grid are an error, as in :func:`guess_overlap`."""
    gh, gw = grid
    counts = np.zeros((gh, gw), np.float64)  # (gh, gw)
    n = 0
    for guess in guesses:
        chosen = {(int(r), int(c)) for r, c in guess}
        if any(not (0 <= r < gh and 0 <= c < gw) for r, c in chosen):
            raise ValueError(f"A guessed patch lies outside the {gh} x {gw} grid.")
        for r, c in chosen:
            counts[r, c] += 1
        n += 1
    return counts / n if n else counts
