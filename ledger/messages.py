"""The ledger core's message codes, and how the API, the CLI and the files say them in English.

The errors the pages show (a bad cell of a revenue file, a month that cannot be closed) are
raised with a `coded_messages.Message`; `app/web/messages.py` says the same codes in Chinese.
Errors only the API and the CLI meet keep plain English.
"""

from __future__ import annotations

from coded_messages import Catalogue

# Why an amount was refused (the `problem` of ledger.invalid_amount), most likely first.
AMOUNT_PROBLEMS = {
    "empty": "empty",
    "not_finite": "not a finite number",
    "thousands_separator": "thousands separators are not allowed",
    "too_many_decimals": "more than 2 decimal places",
    "exponent": "exponent notation is not allowed",
    "whitespace": "contains whitespace",
    "not_decimal": "not a decimal number with at most 2 decimal places",
    "out_of_range": "out of range",
}

ENGLISH = Catalogue(
    {
        "ledger.invalid_amount": "invalid amount {text!r}: {problem}",
        "ledger.unknown_revenue_type": "unknown revenue type {text!r} (expected one of {known})",
        "ledger.id_length": "{what} must be a non-empty string of <= {max} chars",
        "ledger.id_blanks": "{what} {text!r} has surrounding blanks or control characters",
        "ledger.invalid_channel": "invalid channel name {text!r}",
        "ledger.invalid_timestamp": "invalid timestamp {text!r}",
        "ledger.invalid_iso_timestamp": "invalid ISO 8601 timestamp {text!r}",
        "ledger.period_format": "period must look like YYYY-MM, got {text!r}",
        "ledger.no_such_period": "no such period {year}-{month}",
        "ledger.period_already_closed": "period {period} is already closed",
        "ledger.period_not_ended": "period {period} has not ended yet",
        "ledger.policy_shares": (
            "policy {policy!r}: shares total {total} bp, expected exactly {expected}"
        ),
        "ledger.policies_overlap": "policies {first!r} and {second!r} overlap for {revenue_type}",
        "ledger.closed_and_current_closed": (
            "period {period} is closed and so is the current {current}"
        ),
    },
    values={"problem": AMOUNT_PROBLEMS.__getitem__},
)
