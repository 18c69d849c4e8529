"""The one rule for text cells of every CSV or XLSX file the product writes.

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula (and some
also after a leading tab or carriage return); Excel in Chinese locales reads the full-width
``＝ ＋ － ＠`` the same way. Such text cells get a leading apostrophe, which spreadsheets show
as text and hide. Every other cell is left byte for byte as it was, so files without such cells
(and their hashes) do not change. Numbers are written as numbers and never pass through here.

A package of its own, without dependencies, so that both pure cores (``allocation`` and
``ledger``, which may not import each other) and the application share it.
"""

from __future__ import annotations

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def escape_cell(value: str) -> str:
    """``value`` with an apostrophe in front if a spreadsheet would evaluate it as a formula."""
    return "'" + value if value.startswith(FORMULA_TRIGGERS) else value


def sql_escaped(expr: str) -> str:
    """The same rule as a PostgreSQL expression over the text ``expr`` (for COPY exports)."""
    triggers = ", ".join(f"chr({ord(c)})" for c in FORMULA_TRIGGERS)
    return f"CASE WHEN left({expr}, 1) IN ({triggers}) THEN '''' || {expr} ELSE {expr} END"
