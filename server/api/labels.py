"""Printable labels: GET /api/labels/{kind}.{svg|pdf|zpl} (one label) and POST /api/labels/sheet."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, get, post
from msgspec import Meta

from server.api.files import disposition
from server.api.schemas import Body
from server.errors import Invalid, NotFound
from server.labels.layout import LabelSize, parse_size
from server.labels.service import KINDS, MEDIA_TYPES, LabelItem, LabelOptions, LabelService
from server.labels.symbols import Symbology

DEFAULT_SIZE = "50x25"
Key = Annotated[str, Meta(min_length=1, max_length=128)]
LABEL_FILES = {"response_media_types": tuple(MEDIA_TYPES.values())}  # for the OpenAPI document


def _size(text: str) -> LabelSize:
    try:
        return parse_size(text)
    except ValueError as error:
        raise Invalid(str(error), field="size") from None


def _symbology(text: str) -> Symbology:
    try:
        return Symbology(text.lower())
    except ValueError:
        raise Invalid(f"symbology must be one of {', '.join(Symbology)}", field="symbology") from None


def _file(content: bytes, fmt: str, name: str) -> Response[bytes]:
    return Response(content, media_type=MEDIA_TYPES[fmt], headers=disposition(name, fmt, "inline"))


class SheetItem(Body, kw_only=True):
    kind: str
    serial: Key | None = None
    part: Key | None = None
    lot: Key | None = None
    location: Key | None = None
    copies: Annotated[int, Meta(ge=1, le=100)] = 1


class SheetIn(Body, kw_only=True):
    items: Annotated[list[SheetItem], Meta(min_length=1, max_length=500)]
    format: str = "pdf"
    size: str = DEFAULT_SIZE
    symbology: str = "qr"
    paper: str = "a4"
    dpi: int = 203


class LabelsController(Controller):
    path = "/api/labels"
    tags = ["labels"]

    @get("/{name:str}", raises=[NotFound], opt=LABEL_FILES)
    async def label(
        self,
        name: str,
        labels: LabelService,
        serial: str | None = None,
        part: str | None = None,
        lot: str | None = None,
        location: str | None = None,
        size: str = DEFAULT_SIZE,
        symbology: str = "qr",
        dpi: int = 203,
    ) -> Response[bytes]:
        """One label as `unit.svg`, `lot.pdf`, `location.zpl`, `part.svg`…: a unit by `serial`, a lot by
        `part` and `lot`, a part by `part`, a location by `location` (its code). `size` is WIDTHxHEIGHT
        in mm (default 50x25), `symbology` qr (default), datamatrix or code128, `dpi` (ZPL) 203, 300
        or 600. The symbol holds our own code (`U:…`, `L:…`, `P:…`, `B:…`)."""
        kind, _, fmt = name.rpartition(".")
        if kind not in KINDS or fmt not in MEDIA_TYPES:
            raise Invalid(
                f"ask for KIND.FORMAT with KIND one of {', '.join(KINDS)} and FORMAT one of {', '.join(MEDIA_TYPES)}",
                field="name",
            )
        item = LabelItem(kind, serial=serial, part=part, lot=lot, location=location)
        options = LabelOptions(_size(size), _symbology(symbology), dpi)
        content = await labels.label(item, fmt, options)
        return _file(content, fmt, "-".join(v for v in (kind, part, lot, serial, location) if v))

    @post("/sheet", status_code=200, raises=[NotFound], opt=LABEL_FILES)
    async def sheet(self, data: SheetIn, labels: LabelService) -> Response[bytes]:
        """Many labels at once: `items` ([{kind, serial|part|lot|location, copies}]) as a PDF of A4 or
        Letter pages (`paper`), one SVG page, or a ZPL job of one label after the other."""
        items = [
            LabelItem(i.kind, serial=i.serial, part=i.part, lot=i.lot, location=i.location, copies=i.copies)
            for i in data.items
        ]
        if sum(item.copies for item in items) > 1000:
            raise Invalid("at most 1000 labels (copies included) per sheet request", field="items")
        options = LabelOptions(_size(data.size), _symbology(data.symbology), data.dpi, data.paper.lower())
        return _file(await labels.sheet(items, data.format.lower(), options), data.format.lower(), "labels")
