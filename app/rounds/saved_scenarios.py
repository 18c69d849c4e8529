"""What-if scenarios saved by name (issue 15.1): HQ keeps the ones worth running again.

A scenario is saved only when it parses (app/rounds/scenario.py), exactly as typed; its branch
codes are checked when it runs, since branches change after it is saved. Saving a name again
replaces that scenario. Every save and delete is audited.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from app import audit
from app.errors import InvalidInput, NotFound
from app.rounds.scenario import Scenario, parse_scenario
from app.tables import SavedScenario
from app.tables.base import utcnow
from coded_messages import message

NAME_LENGTH = 100


def save_scenario(session: Session, *, name: str, body: str, actor: str) -> SavedScenario:
    name = name.strip()
    if not name or len(name) > NAME_LENGTH:
        raise InvalidInput(message("scenario.name", max_length=NAME_LENGTH))
    parse_scenario(body)
    saved = session.exec(select(SavedScenario).where(SavedScenario.name == name)).first()
    if saved is None:
        saved = SavedScenario(name=name, body=body, saved_by=actor)
    else:
        saved.body, saved.saved_by, saved.saved_at = body, actor, utcnow()
    session.add(saved)
    session.flush()
    audit.record(session, actor=actor, action="whatif.save", entity_type="scenario",
                 entity_id=saved.id, detail={"name": name})  # fmt: skip
    return saved


def saved_scenarios(session: Session) -> list[SavedScenario]:
    return list(session.exec(select(SavedScenario).order_by(col(SavedScenario.name))))


def saved_scenario(session: Session, scenario_id: int) -> SavedScenario:
    saved = session.get(SavedScenario, scenario_id)
    if saved is None:
        raise NotFound(message("scenario.not_saved", scenario=scenario_id))
    return saved


def delete_scenario(session: Session, *, scenario_id: int, actor: str) -> None:
    saved = saved_scenario(session, scenario_id)
    audit.record(session, actor=actor, action="whatif.delete", entity_type="scenario",
                 entity_id=scenario_id, detail={"name": saved.name})  # fmt: skip
    session.delete(saved)


def scenarios_to_compare(
    session: Session, scenario_ids: list[int], *, most: int
) -> list[tuple[str, Scenario]]:
    """The chosen saved scenarios, parsed, in the order chosen (each at most once)."""
    chosen = list(dict.fromkeys(scenario_ids))
    if not 1 <= len(chosen) <= most:
        raise InvalidInput(message("scenario.compare_count", most=most, count=len(chosen)))
    rows = [saved_scenario(session, i) for i in chosen]
    return [(row.name, parse_scenario(row.body, source=row.name)) for row in rows]
