"""Every message code reads in Chinese on the pages, from its code and values alone.

The API and the CLI say each code in English (`app.messages.ENGLISH`, which holds the cores'
codes too); the pages say it in Chinese (`app.web.messages.CHINESE`). A code added on one side
only, a value renamed, or a code written at a call site that no catalogue knows fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.messages import ENGLISH
from app.web.messages import CHINESE
from coded_messages import Message, template_fields

ROOT = Path(__file__).resolve().parents[2]
CODE_AT_CALL_SITE = re.compile(r"""\bmessage\(\s*["']([a-z_]+\.[a-z_0-9.]+)["']""")


def test_every_code_the_api_says_in_english_the_pages_say_in_chinese() -> None:
    assert sorted(ENGLISH.codes - CHINESE.codes) == []


def test_the_pages_say_no_code_that_nothing_says_any_more() -> None:
    assert sorted(CHINESE.codes - ENGLISH.codes) == []


@pytest.mark.parametrize("code", sorted(ENGLISH.codes))
def test_the_chinese_uses_only_values_the_code_carries(code: str) -> None:
    english = template_fields(ENGLISH.templates[code])
    chinese = template_fields(CHINESE.templates[code])
    assert english is not None, code  # English is always a plain template
    if chinese is not None:
        assert chinese <= english, f"{code}: Chinese uses {sorted(chinese - english)}"
    sample = Message(code, dict.fromkeys(english, "7"))
    assert CHINESE.render(sample)


def test_every_code_written_at_a_call_site_is_in_the_catalogues() -> None:
    written = {
        code
        for package in ("app", "allocation", "ledger")
        for path in (ROOT / package).rglob("*.py")
        for code in CODE_AT_CALL_SITE.findall(path.read_text(encoding="utf-8"))
    }
    assert len(written) > 40  # the scan finds the call sites
    assert sorted(written - ENGLISH.codes) == []
