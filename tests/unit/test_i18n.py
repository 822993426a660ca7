"""Every string of the server pages is in a catalogue (server/locales/*.json), and every catalogue has every
key the others have, with the same placeholders: a key used in a template or in code but missing from a
catalogue fails here, and so does a catalogue missing a key another has. The browser's Accept-Language
picks the catalogue, English when none fits."""

from __future__ import annotations

import re
import string
from pathlib import Path

import msgspec.inspect as mi
import pytest

from server.errors import OP_REASONS
from server.i18n import CATALOGUES, DEFAULT, negotiate, text
from server.importing.presets import PRESETS
from server.importing.report import STATUSES as IMPORT_STATUSES
from server.importing.service import KINDS
from server.ops.registry import OP_TYPES
from server.purchasing.models import LineStatus, PoStatus
from server.quality.models import Disposition
from server.rules.kits import STATUSES as KIT_STATUSES
from server.rules.quality import STATUSES as ISSUE_STATUSES
from server.production.models import ItemKind, RunState
from server.production.pages import ACTIONS as RUN_ACTIONS, TABS as RUN_TABS
from server.purchasing.pages import TABS
from server.rules.status import Status
from sync.conflicts import STATUSES
from sync.decide import OUTCOMES
from sync.errors import SYNC_REASONS

ROOT = Path(__file__).parents[2]
TEMPLATES = [*ROOT.glob("sync/templates/**/*.html"), *ROOT.glob("server/templates/**/*.html"),
             *ROOT.glob("server/counts/templates/**/*.html"), *ROOT.glob("server/supervisor/templates/**/*.html"),
             *ROOT.glob("server/importing/templates/**/*.html"), *ROOT.glob("server/purchasing/templates/**/*.html"),
             *ROOT.glob("server/kits/templates/**/*.html"), *ROOT.glob("server/quality/templates/**/*.html"),
             *ROOT.glob("server/production/templates/**/*.html"), *ROOT.glob("server/costs/templates/**/*.html")]
CODE = [*ROOT.glob("sync/*.py"), *ROOT.glob("server/*.py"), *ROOT.glob("server/counts/*.py"),
        *ROOT.glob("server/supervisor/*.py"), *ROOT.glob("server/importing/*.py"), *ROOT.glob("server/purchasing/*.py"),
        *ROOT.glob("server/kits/*.py"), *ROOT.glob("server/quality/*.py"), *ROOT.glob("server/production/*.py"),
        *ROOT.glob("server/costs/*.py")]
# a key written out: t("conflict.note"), or one of t("a" if x else "b")
TEMPLATE_KEY = re.compile(r"""["']([a-z][a-z_]*(?:\.[a-z0-9_]+)+)["']""")
CALL_KEY = re.compile(r"""\b(?:t\(|text\(lang,)\s*["']([^"']+)["'](?!\s*~)""")  # t("a.key"), text(lang, "a.key")
NAMESPACES = {key.split(".")[0] for key in CATALOGUES[DEFAULT]}


def placeholders(value: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(value) if name}


def used_keys() -> dict[str, str]:
    """{key: file} of every key written out in the templates (inside {{ }} / {% %}) and in code."""
    found: dict[str, str] = {}
    for path in TEMPLATES:
        for tag in re.findall(r"\{\{.*?\}\}|\{%.*?%\}", path.read_text(encoding="utf-8"), re.S):
            for key in TEMPLATE_KEY.findall(tag):
                if key.split(".")[0] in NAMESPACES and not key.endswith(".html"):
                    found[key] = path.name
            found.update(dict.fromkeys(CALL_KEY.findall(tag), path.name))
    for path in CODE:
        if "server.i18n import" not in path.read_text(encoding="utf-8"):
            continue  # words only in modules that render them
        for key in TEMPLATE_KEY.findall(path.read_text(encoding="utf-8")):
            if key.split(".")[0] in NAMESPACES and not key.endswith((".html", ".py", ".json")):
                found[key] = path.name
        found.update(dict.fromkeys(CALL_KEY.findall(path.read_text(encoding="utf-8")), path.name))
    return found


def dynamic_keys() -> set[str]:
    """Keys the pages build from data: every reason, op type, arg, stock status, conflict and op status, count
    status, kind and decision."""
    fields = {info.name for known in OP_TYPES.values() for info in mi.type_info(known.args).fields}
    return {
        *(f"reason.{reason}" for reason in {*OUTCOMES, *OP_REASONS, *SYNC_REASONS}),
        "reason.conflict", "reason.retry_later",  # a decision's own failures, shown as "Not done: …"
        *(f"op.{op_type}" for op_type in OP_TYPES),
        *(f"field.{name}" for name in fields),
        *(f"stock.{status}" for status in Status),
        *(f"status.{status}" for status in (*STATUSES, "held", "applied")),
        *(f"conflicts.{kind}.{status}" for kind in ("heading", "tab") for status in (*STATUSES, "all")),
        *(f"counts.status.{status}" for status in ("planned", "open", "review", "closed")),
        *(f"counts.kind_of.{kind}" for kind in ("location", "part")),
        *(f"count.decided.{action}" for action in ("adjust", "move", "leave")),
        *(f"po.status.{status}" for status in PoStatus), *(f"po.line_status.{status}" for status in LineStatus),
        *(f"po.tab.{tab}" for tab in TABS), *(f"po.closed_title.{status}" for status in ("received", "cancelled")),
        *(f"run.tab.{tab}" for tab in RUN_TABS), *(f"run.state.{state}" for state in RunState),
        *(f"run.action.{action}" for action in RUN_ACTIONS), *(f"trace.kind.{kind}" for kind in ItemKind),
        "form.yes", "form.no",
        *(f"{doc}.{key}" for doc in ("po", "run", "kit", "issue") for key in ("no_such", "no_such_text")),  # document_page
        *(f"kit.tab.{status}" for status in (*KIT_STATUSES, "all")), *(f"kit.status.{s}" for s in KIT_STATUSES),
        *(f"kit.closed_title.{status}" for status in ("completed", "cancelled")),
        *(f"issue.tab.{status}" for status in (*ISSUE_STATUSES, "all")), *(f"issue.status.{s}" for s in ISSUE_STATUSES),
        *(f"issue.disposition.{d}" for d in Disposition),
        *(f"import.kind.{kind}" for kind in KINDS),
        *(f"import.preset.{preset}" for preset in PRESETS),
        *(f"import.status.{status}" for status in IMPORT_STATUSES),
        *(f"import.phase.{phase}" for phase in ("queued", "checking", "applying", "done")),
        *(f"import.mode.{mode}" for mode in ("dry_run", "all_or_nothing", "skip_bad_rows")),
    }


def test_there_are_english_and_german_catalogues() -> None:
    assert {"en", "de"} <= set(CATALOGUES)


def test_every_key_used_is_in_the_english_catalogue() -> None:
    used = used_keys()
    assert len(used) > 100  # the scan finds the keys at all
    missing = {key: where for key, where in used.items() if key not in CATALOGUES[DEFAULT]}
    assert missing == {}
    assert sorted(dynamic_keys() - set(CATALOGUES[DEFAULT])) == []


def test_every_english_key_is_used() -> None:
    unused = set(CATALOGUES[DEFAULT]) - set(used_keys()) - dynamic_keys()
    assert sorted(unused) == []


@pytest.mark.parametrize("lang", sorted(set(CATALOGUES) - {DEFAULT}))
def test_a_catalogue_has_every_key_of_the_english_one_and_no_other(lang: str) -> None:
    assert sorted(set(CATALOGUES[DEFAULT]) - set(CATALOGUES[lang])) == []  # missing here
    assert sorted(set(CATALOGUES[lang]) - set(CATALOGUES[DEFAULT])) == []  # missing in English
    wrong = {key: value for key, value in CATALOGUES[lang].items()
             if not value.strip() or placeholders(value) != placeholders(CATALOGUES[DEFAULT][key])}
    assert wrong == {}


@pytest.mark.parametrize(("header", "lang"), [
    ("de-DE,de;q=0.9,en;q=0.8", "de"), ("de-AT", "de"), ("fr-FR, de;q=0.5", "de"), ("fr", "en"), (None, "en"),
    ("", "en"), ("en;q=0.5, de;q=0.9", "de"), ("de;q=0, en", "en"), ("*", "en"), ("de;q=abc", "en"),
])
def test_the_browsers_language_picks_the_catalogue_else_english(header: str | None, lang: str) -> None:
    assert negotiate(header) == lang


def test_a_text_with_its_placeholders_filled() -> None:
    assert text("de", "conflict.apply_here", location="C") == "Von dort buchen, wo es jetzt ist (C)"
    assert text("xx", "conflict.apply_here", location="C") == "Apply from where it is now (C)"


def test_the_accuracy_chart_in_german() -> None:
    from server.counts.chart import accuracy_svg

    assert "Noch keine abgeschlossenen Inventuren." in accuracy_svg([], lang="de")
    assert "<title>Inventurgenauigkeit im Zeitverlauf</title>" in accuracy_svg([], lang="de")
