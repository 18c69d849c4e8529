"""Parser for generalized-assignment (GAP) instances in the OR-Library text format.

The format is a stream of whitespace-separated integers (line breaks carry no meaning):
``m n``, then ``m`` rows of ``n`` costs, then ``m`` rows of ``n`` resource uses, then
``m`` capacities. Agents are branches and jobs are leads when an instance is fed to
pair mode. The parser is pure: it takes text, never touches the file system, so it can be
tested with inline strings and reused by the benchmark runner.
"""

from __future__ import annotations

from dataclasses import dataclass


class GapFormatError(ValueError):
    """Raised when a text is not a well-formed OR-Library GAP instance."""


@dataclass(frozen=True)
class GapInstance:
    """One GAP instance: assign every job to one agent within the agents' capacities.

    ``costs[i][j]`` and ``uses[i][j]`` are the cost and resource use of job ``j`` at agent ``i``;
    ``capacities[i]`` is agent ``i``'s resource budget.
    """

    n_agents: int
    n_jobs: int
    costs: tuple[tuple[int, ...], ...]
    uses: tuple[tuple[int, ...], ...]
    capacities: tuple[int, ...]

    def pairs(self) -> list[tuple[int, int, int, int]]:
        """Every (job, agent, cost, use) pair, i.e. the pair-mode rows of this instance."""
        return [
            (job, agent, self.costs[agent][job], self.uses[agent][job])
            for job in range(self.n_jobs)
            for agent in range(self.n_agents)
        ]


def parse_gap(text: str, *, source: str = "<text>") -> GapInstance:
    """Parse one instance; ``source`` only names the input in error messages."""
    numbers = _tokens_as_ints(text, source=source)
    n_agents, n_jobs = _read_header(numbers, source=source)
    expected = 2 + 2 * n_agents * n_jobs + n_agents
    if len(numbers) != expected:
        raise GapFormatError(
            f"{source}: expected {expected} integers for m={n_agents}, n={n_jobs}, "
            f"found {len(numbers)}"
        )
    costs_start = 2
    uses_start = costs_start + n_agents * n_jobs
    caps_start = uses_start + n_agents * n_jobs
    costs = _matrix(numbers, start=costs_start, rows=n_agents, cols=n_jobs)
    uses = _matrix(numbers, start=uses_start, rows=n_agents, cols=n_jobs)
    capacities = tuple(numbers[caps_start:])
    _check_non_negative(costs, uses, capacities, source=source)
    return GapInstance(n_agents, n_jobs, costs, uses, capacities)


def _tokens_as_ints(text: str, *, source: str) -> list[int]:
    # Report the first bad token by position so a truncated or garbled download is easy to find.
    numbers: list[int] = []
    for position, token in enumerate(text.split(), start=1):
        try:
            numbers.append(int(token))
        except ValueError:
            raise GapFormatError(
                f"{source}: token {position} is not an integer: {token!r}"
            ) from None
    return numbers


def _read_header(numbers: list[int], *, source: str) -> tuple[int, int]:
    # The header fixes the size of everything else, so it must be present and positive.
    if len(numbers) < 2:
        raise GapFormatError(f"{source}: missing the 'm n' header")
    n_agents, n_jobs = numbers[0], numbers[1]
    if n_agents < 1 or n_jobs < 1:
        raise GapFormatError(f"{source}: header needs m >= 1 and n >= 1, got {n_agents} {n_jobs}")
    return n_agents, n_jobs


def _matrix(numbers: list[int], *, start: int, rows: int, cols: int) -> tuple[tuple[int, ...], ...]:
    # Rows are contiguous runs of `cols` integers in the flat stream.
    return tuple(tuple(numbers[start + r * cols : start + (r + 1) * cols]) for r in range(rows))


def _check_non_negative(
    costs: tuple[tuple[int, ...], ...],
    uses: tuple[tuple[int, ...], ...],
    capacities: tuple[int, ...],
    *,
    source: str,
) -> None:
    # Pair mode requires cost >= 0 and workload >= 1, so reject what it could not represent.
    if any(c < 0 for row in costs for c in row):
        raise GapFormatError(f"{source}: negative cost")
    if any(u < 1 for row in uses for u in row):
        raise GapFormatError(f"{source}: resource use below 1")
    if any(b < 0 for b in capacities):
        raise GapFormatError(f"{source}: negative capacity")
