"""RATES.csv for `o2o allocate --objective expected_value` (issue 15.4): one row per
(branch_code, tier, channel) with `conversion_rate` in [0, 1] and `mean_revenue_fen` (integer
fen); an empty or `*` branch_code or channel matches any (allocation.value says the order).
"""

from __future__ import annotations

from pathlib import Path

from allocation.value import ANY, RateSpec
from allocation_files.reading import Columns, integers, numbers, read_columns

REQUIRED = ("tier", "conversion_rate", "mean_revenue_fen")
OPTIONAL = ("branch_code", "channel")


def read_rates(path: Path) -> tuple[tuple[RateSpec, ...], Columns]:
    """The rate rows and their columns (so a rule the core refuses can name the line)."""
    cols = read_columns(path, required=REQUIRED, optional=OPTIONAL)
    rate = numbers(cols, "conversion_rate", allow_empty=False)
    revenue = integers(cols, "mean_revenue_fen", minimum=0, maximum=10**12)
    branch = cols.get("branch_code") or [""] * len(cols)
    channel = cols.get("channel") or [""] * len(cols)
    rows = tuple(
        RateSpec(
            tier=tier.strip(),
            conversion_rate=float(rate[k]),
            mean_revenue_fen=int(revenue[k]),
            branch_code=branch[k].strip() or ANY,
            channel=channel[k].strip() or ANY,
        )
        for k, tier in enumerate(cols.required("tier"))
    )
    return rows, cols
