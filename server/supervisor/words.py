"""Words the supervisor pages share, in the page's language: every reason in plain words, an op in one line,
an argument's label, a time."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from server.i18n import CATALOGUES, DEFAULT, text


def reason_words(reason: str | None, lang: str = DEFAULT) -> str:
    """A reason as a supervisor reads it (catalogue key `reason.<reason>`)."""
    if not reason:
        return ""
    if f"reason.{reason}" not in CATALOGUES[DEFAULT]:
        return reason.replace("_", " ").capitalize()
    return text(lang, f"reason.{reason}")


# Every reason an op can end with (sync protocol §3 rule 5, and the extras), in English.
REASON_WORDS: dict[str, str] = {
    key.removeprefix("reason."): value for key, value in CATALOGUES[DEFAULT].items() if key.startswith("reason.")
}


def field_label(name: str, lang: str = DEFAULT) -> str:
    if f"field.{name}" not in CATALOGUES[DEFAULT]:
        return name.replace("_", " ").capitalize()
    return text(lang, f"field.{name}")


def when(moment: datetime | str | None) -> str:
    if moment is None:
        return ""
    if isinstance(moment, str):  # RFC 3339, as the API writes times
        try:
            moment = datetime.fromisoformat(moment.replace("Z", "+00:00"))
        except ValueError:
            return moment
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def op_summary(op_type: str, args: Any, lang: str = DEFAULT) -> str:
    """"Move 8 × PN-U from A to B", "Receive PN-S serial SN-1 into DOCK", … (catalogue keys `op.<type>`,
    `summary.*`)."""
    name = text(lang, f"op.{op_type}") if f"op.{op_type}" in CATALOGUES[DEFAULT] else op_type.capitalize()
    if not isinstance(args, dict):
        return name
    item = str(args.get("part", "?"))
    if args.get("serial"):
        item += " " + text(lang, "summary.serial", serial=args["serial"])
    elif args.get("lot"):
        item += " " + text(lang, "summary.lot", lot=args["lot"])
    quantity = args.get("quantity")  # as sent: 8, "2.5" or a JSON number 2.5
    shown = isinstance(quantity, (int, float, str)) and not isinstance(quantity, bool) and not args.get("serial")
    amount = f"{quantity}{' ' + str(args['pack']) if args.get('pack') else ''} × " if shown else ""
    where_key = {"receive": "summary.receive", "move": "summary.move", "install": "summary.install",
                 "uninstall": "summary.uninstall", "count": "summary.count", "adjust": "summary.adjust"}.get(
        op_type, "summary.at" if "location" in args else None)
    params = {key: args.get(key) for key in ("location", "from_location", "to_location", "parent_serial",
                                               "counted_quantity", "delta")}
    where = text(lang, where_key, **params) if where_key else ""
    return f"{name} {amount}{item} {where}".strip()
