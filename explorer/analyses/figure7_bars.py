"""The Figure 7 bars: three numbers that say how far a model has come to look like the paper's Figure 7.

From the position-embedding similarity ``S`` (``position.py``: a (gh, gw, gh, gw) cosine
similarity of the learned position table's patch rows) and the mean attention distance
``mad`` (``distance.py``: (L, H) pixels, averaged over images):

* **position locality** = share of patches p whose most similar *other* position
  ``argmax_{q != p} S[p, q]`` is one of p's 8 neighbours (``|dr| <= 1 and |dc| <= 1``).
  A random table gives about 8 / (gh*gw - 1); a learned 2-D grid gives close to 1.
* **position margin** = mean ``S[p, q]`` over 4-neighbour pairs (grid distance 1) minus
  mean ``S[p, q]`` over pairs at Euclidean grid distance >= 4.
* **head spread** of block l = ``max_h mad[l, h] - min_h mad[l, h]`` (pixels): how far apart
  its most global and most local heads are. The paper's first blocks hold both kinds, so a
  trained model's first-block spread is large; ``first_block_ratio`` = ``max_h / min_h`` of
  block 0 (the demo model's bar asks for >= 2).
* **distance by block** = ``mean_h mad[l, h]`` (pixels): it rises with depth in a trained ViT.

A model without a learned absolute position table has no locality or margin (``None``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def position_locality(sim: np.ndarray) -> float:
    """Share of patches whose most similar OTHER position is one of its 8 neighbours, from a
    (gh, gw, gh, gw) position-embedding similarity (Figure 7 centre: each bright spot sits around itself)."""
    gh, gw = sim.shape[:2]
    s = sim.reshape(gh * gw, gh * gw).astype(float).copy()
    np.fill_diagonal(s, -np.inf)
    r, c = np.divmod(np.arange(gh * gw), gw)
    rn, cn = np.divmod(s.argmax(1), gw)
    return float(((np.abs(r - rn) <= 1) & (np.abs(c - cn) <= 1)).mean())


def position_margin(sim: np.ndarray) -> dict:
    """Neighbour-vs-far margin of a (gh, gw, gh, gw) position-embedding similarity:
    ``{"neighbour_mean", "far_mean", "margin"}`` (the far mean is nan on a grid smaller than 5 x 5)."""
    gh, gw = sim.shape[:2]
    rc = np.stack(np.divmod(np.arange(gh * gw), gw), 1).astype(float)
    d = np.linalg.norm(rc[:, None] - rc[None], axis=-1)
    s = sim.reshape(gh * gw, gh * gw)
    near = float(s[np.isclose(d, 1.0)].mean())
    far = float(s[d >= 4].mean()) if (d >= 4).any() else float("nan")
    return {"neighbour_mean": near, "far_mean": far, "margin": near - far}


@dataclass
class Figure7Bars:
    """The bars of one model (see the module docstring for each formula)."""

    position_locality: float | None  # share of patches, 0..1; None without a learned position table
    position_margin: float | None  # cosine similarity units
    head_spread_px: list[float]  # per block: most global head minus most local head
    distance_by_block_px: list[float]  # per block: mean over heads
    first_block_ratio: float  # block 0: most global head / most local head

    def as_dict(self) -> dict:
        return {"position_locality": self.position_locality, "position_margin": self.position_margin,
                "head_spread_px": self.head_spread_px, "distance_by_block_px": self.distance_by_block_px,
                "first_block_ratio": self.first_block_ratio}

    @classmethod
    def from_dict(cls, values: dict) -> "Figure7Bars":
        return cls(**{k: values.get(k) for k in cls.__dataclass_fields__})


def figure7_bars(similarity: np.ndarray | None, distances: np.ndarray) -> Figure7Bars:
    """The bars from a (gh, gw, gh, gw) position similarity (None: the model has none) and (L, H) distances."""
    mad = np.asarray(distances, np.float64)
    locality = margin = None
    if similarity is not None:
        locality = round(position_locality(similarity), 4)
        margin = position_margin(similarity)["margin"]
        margin = None if np.isnan(margin) else round(margin, 4)
    first = mad[0]
    return Figure7Bars(position_locality=locality, position_margin=margin,
                       head_spread_px=(mad.max(1) - mad.min(1)).round(2).tolist(),
                       distance_by_block_px=mad.mean(1).round(2).tolist(),
                       first_block_ratio=round(float(first.max() / max(first.min(), 1e-9)), 3))
