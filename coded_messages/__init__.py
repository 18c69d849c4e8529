"""A message as a code and its parameters, and the catalogue that says it in one language.

Whoever finds a problem (a core, a service) says *what* happened as a `Message`: a code that
never changes meaning and the values it needs (`lead.wrong_status`, `{"lead": 7, ...}`). Each
surface says it in its own language with its own `Catalogue`: the API and the CLI in English
(catalogues next to the codes), the pages in Chinese (`app/web/messages.py`). No surface ever
reads another's text back.

A package of its own, without dependencies, so that both pure cores (``allocation`` and
``ledger``, which may not import each other) and the application share the one type.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

# A value a message carries: text, a number, or other messages (a list of problems).
Param = str | int | tuple["Message", ...]
# A code's text: a `str.format` template over the params, or a function of them (already
# translated: tuples joined, values looked up) for what a template cannot say.
Template = str | Callable[[Mapping[str, Any]], str]


@dataclass(frozen=True, slots=True)
class Message:
    code: str
    params: Mapping[str, Param] = field(default_factory=dict)


def message(code: str, /, **params: Param) -> Message:
    return Message(code, params)


@dataclass(frozen=True)
class Catalogue:
    """How one language says a set of codes.

    `values` translates a parameter's value by the parameter's name wherever it appears (a
    lead status, a tier); a tuple of messages is said one by one and joined with `separator`.
    """

    templates: Mapping[str, Template]
    values: Mapping[str, Callable[[str], str]] = field(default_factory=dict)
    separator: str = "; "

    def __contains__(self, code: object) -> bool:
        return code in self.templates

    @property
    def codes(self) -> frozenset[str]:
        return frozenset(self.templates)

    def render(self, said: Message) -> str:
        """The message in this language; KeyError for a code this catalogue does not know."""
        template = self.templates[said.code]
        params = {name: self._value(name, value) for name, value in said.params.items()}
        return template(params) if callable(template) else template.format_map(params)

    def _value(self, name: str, value: Param) -> object:
        if isinstance(value, tuple):
            return self.separator.join(self.render(item) for item in value)
        if isinstance(value, str) and name in self.values:
            return self.values[name](value)
        return value


def combined(*catalogues: Catalogue) -> Catalogue:
    """One catalogue of several (each core's and the application's); a code defined twice is
    a mistake, as are two translations of the same parameter name."""
    templates: dict[str, Template] = {}
    values: dict[str, Callable[[str], str]] = {}
    for catalogue in catalogues:
        _refuse_twice(templates, catalogue.templates)
        _refuse_twice(values, catalogue.values)
        templates.update(catalogue.templates)
        values.update(catalogue.values)
    separator = catalogues[0].separator if catalogues else "; "
    return Catalogue(templates, values, separator)


def _refuse_twice(mine: Mapping[str, object], theirs: Mapping[str, object]) -> None:
    clash = set(mine) & set(theirs)
    if clash:
        raise ValueError(f"defined twice: {', '.join(sorted(clash))}")


def template_fields(template: Template) -> frozenset[str] | None:
    """The parameter names a `str.format` template uses (None for a function)."""
    if callable(template):
        return None
    return frozenset(name for _, name, _, _ in string.Formatter().parse(template) if name)
