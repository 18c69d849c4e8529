"""Small statistics for the funnel: a conversion rate's confidence interval."""

from __future__ import annotations

import math

Z_95 = 1.959963984540054  # the two-sided 95 % quantile of the standard normal


def wilson_interval(successes: int, trials: int, *, z: float = Z_95) -> tuple[float, float] | None:
    """The Wilson score interval of a proportion: honest at small counts and at 0 % or 100 %
    (where the plain normal interval collapses to a point). None when there are no trials."""
    if trials <= 0:
        return None
    if not 0 <= successes <= trials:
        raise ValueError(f"successes {successes} outside 0..{trials}")
    p = successes / trials
    z2 = z * z
    centre = (p + z2 / (2 * trials)) / (1 + z2 / trials)
    spread = z * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials)) / (1 + z2 / trials)
    return max(0.0, centre - spread), min(1.0, centre + spread)
