"""Mean attention distance (ViT paper, Figure 7 right, Appendix D.7).

For query patch i and key patch j at grid positions (r_i, c_i), (r_j, c_j) and patch
size P pixels, ``d[i, j] = P * ||(r_i - r_j, c_i - c_j)||``. For block l and head h::

    mad[l, h] = mean_i  sum_j  A[l, h, i, j] * d[i, j]          (pixels)

averaged over images. Convention (the default, as in Kornblith's gist, probing-vits
and the keras.io example): prefix tokens are dropped as queries and as keys and the
remaining weights are NOT renormalized, so attention a query gives to prefix tokens
simply counts as distance 0. ``renormalize=True`` divides each query's patch weights
by their sum first (a query's distance among patches only).
Checks: uniform attention over a 14x14 grid, P=16: 116.5 px; identity: 0.
"""
from __future__ import annotations

import numpy as np

from ._tokens import as_array, check_tokens, patch_distances


class AttentionDistanceAccumulator:
    """Running mean of the mean attention distance over many images (keeps only sums)."""

    def __init__(self, grid, patch_size, num_prefix_tokens, renormalize=False) -> None:
        self.grid = (int(grid[0]), int(grid[1]))
        self.patch_size, self.num_prefix_tokens = float(patch_size), int(num_prefix_tokens)
        self.renormalize = bool(renormalize)
        self._d = patch_distances(self.grid, self.patch_size)
        self.total: np.ndarray | None = None  # (L, H) sum over images
        self.count = 0

    def update(self, attentions) -> "AttentionDistanceAccumulator":
        """Add one image's (L, H, T, T) attention, or a batch (B, L, H, T, T)."""
        a = as_array(attentions, None)  # keep the caller's dtype; one image at a time in float64
        if a.ndim == 4:
            a = a[None]
        if a.ndim != 5:
            raise ValueError(f"expected (L, H, T, T) or (B, L, H, T, T) attention, got shape {a.shape}")
        check_tokens(a, self.grid, self.num_prefix_tokens)
        for image in a:  # one image at a time: temporaries stay (H, N, N)
            self.add(self.per_image([block[None] for block in image])[0])
        return self

    def add(self, mad: np.ndarray) -> "AttentionDistanceAccumulator":
        """Add one image's (L, H) distances (from :meth:`per_image`)."""
        if self.total is not None and self.total.shape != mad.shape:
            raise ValueError(f"(blocks, heads) {mad.shape} differs from earlier images' {self.total.shape}")
        self.total = mad if self.total is None else self.total + mad
        self.count += 1
        return self

    def per_image(self, blocks) -> np.ndarray:
        """(B, L, H) distances of a batch given block by block, as a capture records it: L arrays
        (B, H, T, T), numpy or CPU torch; each converted to float64 alone (no (B, L, H, T, T) stack)."""
        k = self.num_prefix_tokens
        out = []
        for block in blocks:
            p = block.detach().cpu().numpy() if hasattr(block, "detach") else np.asarray(block)
            check_tokens(p, self.grid, k)
            p = p[:, :, k:, k:].astype(np.float64)  # (B, H, N, N)
            per_query = np.einsum("bhij,ij->bhi", p, self._d)  # (B, H, N) pixels
            if self.renormalize:
                mass = p.sum(axis=-1)
                per_query = np.divide(per_query, mass, out=np.zeros_like(per_query), where=mass > 0)
            out.append(per_query.mean(axis=-1))  # (B, H)
        return np.stack(out, axis=1)

    def update_trace(self, trace) -> "AttentionDistanceAccumulator":
        """Add a :class:`~explorer.capture.Trace` (its grid must match)."""
        if float(trace.patch_size) != self.patch_size:
            raise ValueError(f"trace patch size {trace.patch_size} differs from the accumulator's {self.patch_size:g}")
        if tuple(trace.grid) != self.grid or trace.num_prefix_tokens != self.num_prefix_tokens:
            raise ValueError(f"trace grid {trace.grid} does not match the accumulator's {self.grid}")
        return self.update(trace.attentions)

    def result(self) -> np.ndarray:
        """(blocks, heads) mean attention distance in pixels over all images so far."""
        if self.count == 0:
            raise ValueError("no attention maps were added yet")
        return self.total / self.count


def mean_attention_distance(attentions, grid, patch_size, num_prefix_tokens, renormalize=False) -> np.ndarray:
    """(blocks, heads) mean attention distance in pixels; a batch gives the mean over images."""
    acc = AttentionDistanceAccumulator(grid, patch_size, num_prefix_tokens, renormalize)
    return acc.update(attentions).result()


def uniform_attention_distance(grid, patch_size) -> float:
    """The distance (px) of a head attending uniformly to all patches: the 'fully global' level.

    116.5 px for a 14x14 grid of 16-px patches (ViT-B/16 at 224 px); a head near it is global.
    """
    return float(patch_distances((int(grid[0]), int(grid[1])), float(patch_size)).mean())
