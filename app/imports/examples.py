"""Template files HQ can download, fill in Excel and upload: the columns and one example row.

UTF-8 with a BOM, which Excel needs to show Chinese in a CSV it opens; saved back as "CSV"
Excel writes GBK, which the importers read as well.
"""

from __future__ import annotations

BOM = "\ufeff"
EXAMPLES = {
    "leads": (
        ("external_id", "channel", "name", "mobile", "tier", "lat", "lon", "region_code",
         "id_card", "address", "acquired_at"),
        ("A0001", "app", "张三", "13800138000", "mass", "22.5431", "114.0579", "440304", "",
         "深圳市福田区福华三路", "2026-11-01T09:30:00"),
    ),
    "branches": (
        ("code", "name", "lat", "lon", "capacity", "tiers", "region_code", "active"),
        ("SZ-FT", "深圳福田营业部", "22.541", "114.055", "100", "mass|affluent", "440304",
         "true"),
    ),
}  # fmt: skip


def example_csv(kind: str) -> bytes:
    """The template of `kind` ('leads' or 'branches') as CSV bytes."""
    header, row = EXAMPLES[kind]
    return (BOM + ",".join(header) + "\r\n" + ",".join(row) + "\r\n").encode("utf-8")
