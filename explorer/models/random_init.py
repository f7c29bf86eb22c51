"""Random-init models are seeded: the untrained baseline is the same on every load and every server."""
from __future__ import annotations

import contextlib

import torch

RANDOM_INIT_SEED = 0


@contextlib.contextmanager
def seeded(seed: int = RANDOM_INIT_SEED):
    """Random initialisation from a fixed seed, leaving the caller's random state as it was."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        yield
