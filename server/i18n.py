"""The server pages' languages: one JSON catalogue per language in server/locales/ (`en.json`, `de.json`;
a third language is a third file), flat keys to texts with `{name}` placeholders, and the browser's
Accept-Language choosing among them (English when none fits).

Templates call `t("conflict.in_all", n=3, …)` (a Jinja global reading the request's language); Python code that
renders words takes a `lang` (or a `Translator` from `translator(request)`). A key missing from a
catalogue falls back to English; tests/unit/test_i18n.py keeps every catalogue complete.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import pass_context

LOCALES = Path(__file__).parent / "locales"
DEFAULT = "en"
CATALOGUES: dict[str, dict[str, str]] = {
    path.stem: json.loads(path.read_text(encoding="utf-8")) for path in sorted(LOCALES.glob("*.json"))
}


def text(lang: str, key: str, **params: Any) -> str:
    """The text of `key` in `lang` (else English, else the key itself), with its placeholders filled."""
    template = CATALOGUES.get(lang, {}).get(key) or CATALOGUES[DEFAULT].get(key, key)
    return template.format_map(params) if params else template


@lru_cache(maxsize=256)
def negotiate(accept_language: str | None) -> str:
    """The language to answer in: the browser's first choice (by q) that has a catalogue, else English.
    `de-AT` takes `de`."""
    choices = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, rest = part.strip().partition(";")
        quality = 1.0
        if rest.strip().startswith("q="):
            try:
                quality = float(rest.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and quality > 0:
            choices.append((-quality, position, tag.strip().lower()))
    for _, _, tag in sorted(choices):
        for candidate in (tag, tag.split("-")[0]):
            if candidate in CATALOGUES:
                return candidate
    return DEFAULT


class Translator:
    """`t(key, **params)` in one language."""

    __slots__ = ("lang",)

    def __init__(self, lang: str) -> None:
        self.lang = lang

    def __call__(self, key: str, **params: Any) -> str:
        return text(self.lang, key, **params)


def lang_of(request: Any) -> str:
    return negotiate(request.headers.get("accept-language"))


def translator(request: Any) -> Translator:
    return Translator(lang_of(request))


@pass_context
def _t(context: Any, key: str, **params: Any) -> str:
    return text(context_lang(context), key, **params)


@pass_context
def context_lang(context: Any) -> str:
    request = context.get("request")
    return lang_of(request) if request is not None else DEFAULT


def install(engine: Any) -> None:
    """Give every template `t(key, …)` and `lang()` (TemplateConfig's engine_callback)."""
    engine.engine.globals.update(t=_t, lang=context_lang)
