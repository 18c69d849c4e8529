"""Named exceptions of the allocation core (the shell maps them to exit codes / HTTP once)."""

from __future__ import annotations


class AllocationError(Exception):
    """Base of every error the allocation core raises on purpose."""


class InvalidProblemError(AllocationError, ValueError):
    """The problem data break a rule of contract §4/§5 (bad value, duplicate key, unknown ref).

    `record` is the 0-based index of the offending branch/lead/pair when known, `field` the
    attribute name; the CSV reader turns both into file/line/column.
    """

    def __init__(
        self, message: str, *, kind: str = "", record: int | None = None, field: str | None = None
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.record = record
        self.field = field


class DuplicateKeyError(InvalidProblemError):
    """Two branches share a code, two leads an external_id, or a pair is listed twice."""


class UnknownReferenceError(InvalidProblemError):
    """A pair names a lead or branch that is not in the problem."""


class InvalidValueError(InvalidProblemError):
    """A field holds a value outside its domain (negative capacity, latitude 95, ...)."""


class UnknownMethodError(AllocationError, ValueError):
    """`solve(method=...)` got a name that is not a known method."""


class SolverError(AllocationError, RuntimeError):
    """A solver failed in a way that is not a property of the data (a bug or a crash)."""


class PlanInvalidError(AllocationError):
    """The independent validator found violations in a plan; `violations` lists them."""

    def __init__(self, message: str, *, violations: tuple[object, ...] = ()) -> None:
        super().__init__(message)
        self.violations = violations


class InputFileError(AllocationError, ValueError):
    """Bad CSV input, located exactly: file, 1-based physical line and column name."""

    def __init__(self, *, file: str, line: int | None, column: str | None, message: str) -> None:
        where = file if line is None else f"{file}:{line}"
        if column:
            where += f": column '{column}'"
        super().__init__(f"{where}: {message}")
        self.file = file
        self.line = line
        self.column = column
        self.detail = message
