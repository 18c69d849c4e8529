"""A message is a code and its values; each catalogue says it in one language."""

from __future__ import annotations

import pytest

from coded_messages import Catalogue, combined, message, template_fields

ENGLISH = Catalogue(
    {
        "lead.wrong_status": "lead {lead} is '{status}'",
        "refused": "refused: {problems}",
        "branch.full": "branch {branch} is full",
        "count": lambda p: f"{p['n']} row" + ("" if p["n"] == 1 else "s"),
    }
)
CHINESE = Catalogue(
    {
        "lead.wrong_status": "线索 #{lead} 当前为“{status}”",
        "refused": "无法执行：{problems}",
        "branch.full": "营业部 {branch} 已满",
    },
    values={"status": {"assigned": "待跟进"}.__getitem__},
    separator="；",
)


def test_a_message_reads_in_each_language_from_the_same_code_and_values() -> None:
    said = message("lead.wrong_status", lead=7, status="assigned")
    assert ENGLISH.render(said) == "lead 7 is 'assigned'"
    assert CHINESE.render(said) == "线索 #7 当前为“待跟进”"


def test_nested_messages_are_said_one_by_one_and_joined_the_languages_way() -> None:
    said = message("refused", problems=(message("branch.full", branch="A"),
                                        message("branch.full", branch="B")))  # fmt: skip
    assert ENGLISH.render(said) == "refused: branch A is full; branch B is full"
    assert CHINESE.render(said) == "无法执行：营业部 A 已满；营业部 B 已满"


def test_a_template_may_be_a_function_of_the_values() -> None:
    assert ENGLISH.render(message("count", n=1)) == "1 row"
    assert ENGLISH.render(message("count", n=3)) == "3 rows"


def test_a_code_the_catalogue_does_not_know_is_an_error_not_a_guess() -> None:
    with pytest.raises(KeyError):
        CHINESE.render(message("count", n=1))
    assert "count" not in CHINESE
    assert "count" in ENGLISH


def test_combined_catalogues_refuse_a_code_defined_twice() -> None:
    both = combined(Catalogue({"a": "A"}), Catalogue({"b": "B {x}"}))
    assert both.codes == {"a", "b"}
    with pytest.raises(ValueError, match="defined twice: a"):
        combined(Catalogue({"a": "A"}), Catalogue({"a": "again"}))


def test_template_fields_name_the_values_a_template_uses() -> None:
    assert template_fields("lead {lead} is '{status}'") == {"lead", "status"}
    assert template_fields("no values") == frozenset()
    assert template_fields(lambda p: "") is None
