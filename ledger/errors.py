"""Named exceptions raised by the ledger core.

The service layer maps these to HTTP/CLI errors in one place, so every rule violation has its
own type and a short machine-readable ``code`` in addition to the human message.
"""

from __future__ import annotations

from coded_messages import Message, message
from ledger.messages import AMOUNT_PROBLEMS, ENGLISH


class LedgerError(ValueError):
    """Base class of every error raised by the ledger core.

    Made with a `Message` where the pages show the error (they say its code in Chinese), or
    with plain English; ``str(error)`` is the English either way.
    """

    code = "ledger_error"

    def __init__(self, said: str | Message) -> None:
        self.said = said if isinstance(said, Message) else None
        super().__init__(said if isinstance(said, str) else ENGLISH.render(said))


class InvalidAmountError(LedgerError):
    """An amount string is not a decimal with at most two places, or is out of range."""

    code = "invalid_amount"

    def __init__(self, text: str, *, problem: str) -> None:
        """`problem` is a key of `ledger.messages.AMOUNT_PROBLEMS`."""
        super().__init__(message("ledger.invalid_amount", text=text, problem=problem))
        self.text = text
        self.problem = problem
        self.reason = AMOUNT_PROBLEMS[problem]  # in English


class UnitMismatchError(LedgerError):
    """Two quantities of different units (CNY fen and KPI points) were combined."""

    code = "unit_mismatch"


class InvalidAccountError(LedgerError):
    """An account code is malformed or not part of the chart of accounts."""

    code = "invalid_account"


class InvalidEntryError(LedgerError):
    """A journal entry or posting violates a structural rule (too few legs, zero amount...)."""

    code = "invalid_entry"


class UnbalancedEntryError(InvalidEntryError):
    """The postings of an entry do not sum to zero in some unit."""

    code = "unbalanced_entry"


class ReversalError(LedgerError):
    """An entry cannot be reversed (for instance it is itself a reversal)."""

    code = "invalid_reversal"


class InvalidPolicyError(LedgerError):
    """A split policy is malformed (shares not summing to 10,000 bp, empty interval...)."""

    code = "invalid_policy"


class OverlappingPoliciesError(InvalidPolicyError):
    """Two policies for the same revenue type are in force at the same instant."""

    code = "overlapping_policies"


class InvalidTimestampError(LedgerError):
    """A timestamp is malformed, or naive where an aware one is required."""

    code = "invalid_timestamp"


class InvalidPeriodError(LedgerError):
    """A period label is not ``YYYY-MM`` or a period operation makes no sense."""

    code = "invalid_period"


class PeriodClosedError(LedgerError):
    """Something would be posted into, or change, a closed period."""

    code = "period_closed"


class InvalidEventError(LedgerError):
    """A revenue event is malformed (empty id, zero amount, unknown type...)."""

    code = "invalid_event"


class StatementError(LedgerError):
    """Statement input does not belong to the statement's branch and period."""

    code = "invalid_statement"
