"""Labels for units, lots, locations and parts: find the entity (404 when there is none), put our
own code (server/scan/codes.py) in the symbol and the readable text beside it, render the format."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from server.db import Database
from server.errors import Invalid, NotFound
from server.labels import render
from server.labels.layout import LabelSize, LabelText, LabelTooSmall, Layout, layout
from server.labels.symbols import Symbology, encode
from server.models import InventoryRow, Location, Part
from server.scan import codes

KINDS = ("unit", "lot", "location", "part")
MEDIA_TYPES = {"svg": "image/svg+xml", "pdf": "application/pdf", "zpl": "application/zpl"}
DPIS = (203, 300, 600)


@dataclass(frozen=True, slots=True)
class LabelItem:
    """What to label: a unit by serial, a lot by part and lot, a part, a location by code."""

    kind: str
    serial: str | None = None
    part: str | None = None
    lot: str | None = None
    location: str | None = None
    copies: int = 1


@dataclass(frozen=True, slots=True)
class LabelOptions:
    size: LabelSize
    symbology: Symbology = Symbology.qr
    dpi: int = 203  # ZPL only
    paper: str = "a4"  # sheets only


def _required(item: LabelItem, name: str, where: str) -> str:
    value = getattr(item, name)
    if not value:
        raise Invalid(f"a {item.kind} label needs `{name}`", field=f"{where}{name}")
    return value


class LabelService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def content(self, item: LabelItem, where: str = "") -> tuple[str, LabelText]:
        """The text to encode and the words to print, for an entity that exists."""
        async with self.db.read() as session:
            if item.kind == "unit":
                serial = _required(item, "serial", where)
                row = (
                    await session.execute(
                        select(Part.part_number, Part.description)
                        .join(InventoryRow, InventoryRow.part_id == Part.id)
                        .where(InventoryRow.serial == serial)
                    )
                ).one_or_none()
                if row is None:
                    raise NotFound(f"No unit with serial {serial}", field=f"{where}serial")
                return codes.render(codes.UnitCode(serial)), LabelText("UNIT", serial, _detail(*row))
            if item.kind in ("lot", "part"):
                number = _required(item, "part", where)
                part = (
                    await session.execute(select(Part.id, Part.description, Part.revision).where(Part.part_number == number))
                ).one_or_none()
                if part is None:
                    raise NotFound(f"No part {number}", field=f"{where}part")
                if item.kind == "part":
                    description = f"rev {part.revision} {part.description}" if part.revision else part.description
                    return codes.render(codes.PartCode(number)), LabelText("PART", number, description)
                lot = _required(item, "lot", where)
                exists = await session.scalar(
                    select(InventoryRow.id).where(InventoryRow.part_id == part.id, InventoryRow.lot == lot).limit(1)
                )
                if exists is None:
                    raise NotFound(f"No lot {lot} of {number}", field=f"{where}lot")
                return codes.render(codes.LotCode(number, lot)), LabelText("LOT", lot, _detail(number, part.description))
            if item.kind == "location":
                code = _required(item, "location", where)
                name = await session.scalar(select(Location.name).where(Location.code == code))
                if name is None:
                    raise NotFound(f"No location {code}", field=f"{where}location")
                return codes.render(codes.LocationCode(code)), LabelText("LOCATION", code, name)
        raise Invalid(f"kind must be one of {', '.join(KINDS)}", field=f"{where}kind")

    async def layouts(self, items: list[LabelItem], options: LabelOptions, dpi: int | None = None) -> list[Layout]:
        found = []
        for index, item in enumerate(items):
            where = f"items[{index}]." if len(items) > 1 else ""
            found.append(await self.content(item, where))
        dot = 25.4 / dpi if dpi else None
        try:
            laid_out = [layout(options.size, encode(text, options.symbology), words, dot) for text, words in found]
        except LabelTooSmall as error:
            raise Invalid(f"{options.size} mm is too small: {error}", field="size") from None
        return [each for item, each in zip(items, laid_out, strict=True) for _ in range(item.copies)]

    async def label(self, item: LabelItem, fmt: str, options: LabelOptions) -> bytes:
        """One label, on a page the size of the label."""
        return await self._render([item], fmt, options, sheet=False)

    async def sheet(self, items: list[LabelItem], fmt: str, options: LabelOptions) -> bytes:
        """Many labels: a grid on A4/Letter pages (PDF; SVG when one page holds them), or a ZPL job."""
        return await self._render(items, fmt, options, sheet=True)

    async def _render(self, items: list[LabelItem], fmt: str, options: LabelOptions, sheet: bool) -> bytes:
        if fmt not in MEDIA_TYPES:
            raise Invalid(f"format must be one of {', '.join(MEDIA_TYPES)}", field="format")
        if fmt == "zpl":
            if options.dpi not in DPIS:
                raise Invalid(f"dpi must be one of {', '.join(map(str, DPIS))}", field="dpi")
            return render.zpl_labels(await self.layouts(items, options, options.dpi), options.dpi)
        layouts = await self.layouts(items, options)
        paper = render.PAPERS.get(options.paper)
        if sheet and paper is None:
            raise Invalid(f"paper must be one of {', '.join(render.PAPERS)}", field="paper")
        try:
            if fmt == "svg":
                return render.svg_sheet(layouts, paper) if sheet else render.svg_label(layouts[0])  # type: ignore[arg-type]
            return render.pdf_sheet(layouts, paper) if sheet else render.pdf_labels(layouts)  # type: ignore[arg-type]
        except render.DoesNotFit as error:
            raise Invalid(str(error), field="size") from None
        except ValueError as error:  # more labels than one SVG page holds
            raise Invalid(str(error), field="items") from None


def _detail(part_number: str, description: str) -> str:
    return f"{part_number} {description}".strip()
