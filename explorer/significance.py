"""Is a method better than the random map? Paired differences over images, with Student's t interval.

The random map (``analyses`` "random": uniform noise seeded by the image's pixels) is the floor every
method must beat (SaCo, CVPR 2024, found several faithfulness metrics barely tell methods from it).
For a metric m and a method, the gap on image i is ``m(method, i) - m(random, i)``: the same image,
so what varies between images cancels. Over n images its mean and 95% interval
``mean ± t(0.975, n - 1) · sd / √n`` estimate how far the method is from random on data like this;
the gap is *significant* when the interval excludes 0. The random map being one draw per image, its
own variability is part of the spread and so of the interval.

On ONE image there is no interval: an image's metric is one number per map, and resampling the
curve's steps or the patches would treat strongly dependent points as independent (an interval that
looks narrow and means nothing). The Compare tab therefore shows the gap on its image without an
interval and says so; ``python -m explorer evaluate`` over a folder gives the interval and the verdict.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

BETTER_SIGN = {"lower": -1.0, "higher": 1.0}


def mean_interval(values: Sequence[float]) -> tuple[float, float]:
    """(mean, half-width of its 95% Student-t interval); the half-width is nan below two values."""
    from scipy import stats

    v = np.asarray([x for x in values if np.isfinite(x)], np.float64)
    n = len(v)
    if n == 0:
        return float("nan"), float("nan")
    if n == 1:
        return float(v[0]), float("nan")
    return float(v.mean()), float(stats.t.ppf(0.975, n - 1) * v.std(ddof=1) / np.sqrt(n))


def verdict(gap: float, ci95: float, better: str) -> str:
    """"better", "worse" (than random: the interval excludes 0 on that side), "cannot tell" (it holds 0
    or there is no interval)."""
    if not (np.isfinite(gap) and np.isfinite(ci95)) or abs(gap) <= ci95:
        return "cannot tell"
    return "better" if gap * BETTER_SIGN[better] > 0 else "worse"


def gap_text(gap: float, ci95: float, better: str, digits: int = 2) -> str:
    """``+0.12 ± 0.03 (better)``: the gap to random, its interval and the verdict."""
    return f"{gap:+.{digits}f} ± {ci95:.{digits}f} ({verdict(gap, ci95, better)})"
