"""Labels: every format and symbology, rasterised and decoded back to the entity it names; sizes,
sheets, and the problems for unknown entities and impossible sizes."""

from __future__ import annotations

import io
import re
from typing import Any

import cairosvg
import pypdfium2
import pytest
from PIL import Image

from server.scan import codes
from server.scan.decode import decode

LIMITS = {"max_bytes": 64_000_000, "max_pixels": 100_000_000}

LOT = "L/2024 α"  # a lot code with the lot separator, a space and a non-ASCII letter


@pytest.fixture
async def stock(api: Any) -> Any:
    await api.location("PLANT-1")
    await api.location("PLANT-1/STORES", parent="PLANT-1", name="Main stores")
    await api.part("PSU-24V", "serial", description="Power supply 24 V")
    await api.part("RES/10K", "lot", description="Resistor 10k 0603")
    await api.ok("receive", part="PSU-24V", tracking="serial", location="PLANT-1/STORES", quantity=1, serial="SN-24-0017")
    await api.ok("receive", part="RES/10K", tracking="lot", location="PLANT-1/STORES", quantity=50, lot=LOT)
    return api


FORMATS = {"qr": "qrcode", "datamatrix": "datamatrix", "code128": "code128"}  # label symbology → decoder's
ENTITIES = [
    ("unit", {"serial": "SN-24-0017"}, codes.UnitCode("SN-24-0017")),
    ("lot", {"part": "RES/10K", "lot": LOT}, codes.LotCode("RES/10K", LOT)),
    ("part", {"part": "RES/10K"}, codes.PartCode("RES/10K")),
    ("location", {"location": "PLANT-1/STORES"}, codes.LocationCode("PLANT-1/STORES")),
]


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def decoded(image: Image.Image, symbology: str | None = None) -> list[codes.OwnCode | None]:
    """What our own decoder (POST /api/decode's) reads in the image as a PNG, through our own
    parser; with `symbology`, every symbol must also be reported in that format."""
    symbols = decode(png(image), **LIMITS)
    if symbology is not None:
        assert {symbol.format for symbol in symbols} <= {FORMATS[symbology]}
    return [codes.parse(symbol.text) for symbol in symbols]


def pdf_pages(content: bytes, dpi: int = 300) -> list[Image.Image]:
    document = pypdfium2.PdfDocument(content)
    return [page.render(scale=dpi / 72).to_pil() for page in document]


def svg_image(content: bytes, dpi: int = 300) -> Image.Image:
    return Image.open(io.BytesIO(cairosvg.svg2png(bytestring=content, dpi=dpi, background_color="white")))


def zpl_symbols(content: bytes) -> list[Image.Image]:
    """The ^GFA bitmaps of a ZPL job, as the printer would print them (1 bit per dot, 1 = black)."""
    images = []
    for total, per_row, data in re.findall(r"\^GFA,(\d+),\d+,(\d+),([0-9A-F]+)\^FS", content.decode()):
        width, height = int(per_row) * 8, int(total) // int(per_row)
        bitmap = Image.frombytes("1", (width, height), bytes.fromhex(data))
        framed = Image.new("L", (width + 80, height + 80), 255)
        framed.paste(bitmap.point(lambda v: 0 if v else 255).convert("L"), (40, 40))  # quiet zone
        images.append(framed)
    return images


@pytest.mark.parametrize("symbology", ["qr", "datamatrix", "code128"])
@pytest.mark.parametrize(("kind", "keys", "entity"), ENTITIES, ids=[e[0] for e in ENTITIES])
async def test_every_label_decodes_back_to_its_entity(stock, kind, keys, entity, symbology):
    size = "120x30" if symbology == "code128" else "50x25"
    params = {**keys, "symbology": symbology, "size": size}
    pdf = await stock.get(f"/api/labels/{kind}.pdf", params=params)
    assert pdf.status_code == 200, pdf.text
    assert pdf.headers["content-type"] == "application/pdf"
    (page,) = pdf_pages(pdf.content)
    assert abs(page.width / 300 * 25.4 - float(size.split("x")[0])) < 0.5  # the page is the label
    assert decoded(page, symbology) == [entity]

    svg = await stock.get(f"/api/labels/{kind}.svg", params=params)
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    assert decoded(svg_image(svg.content), symbology) == [entity]

    zpl = await stock.get(f"/api/labels/{kind}.zpl", params={**params, "dpi": 203})
    assert zpl.status_code == 200
    assert zpl.content.startswith(b"^XA") and zpl.content.rstrip().endswith(b"^XZ")
    assert [decoded(image, symbology) for image in zpl_symbols(zpl.content)] == [[entity]]


@pytest.mark.parametrize("symbology", ["qr", "datamatrix", "code128"])
@pytest.mark.parametrize(("kind", "keys", "entity"), ENTITIES, ids=[e[0] for e in ENTITIES])
async def test_a_decoded_label_scans_to_the_same_entity(stock, kind, keys, entity, symbology):
    """The phone's path: a photo of the label to POST /api/decode, its text to GET /api/scan."""
    size = "120x30" if symbology == "code128" else "50x25"
    svg = await stock.get(f"/api/labels/{kind}.svg", params={**keys, "symbology": symbology, "size": size})
    response = await stock.client.post(
        "/api/decode", content=png(svg_image(svg.content)),
        headers={**stock.headers("operator"), "content-type": "image/png"},
    )
    assert response.status_code == 200, response.text
    [symbol] = response.json()["symbols"]
    assert symbol["format"] == FORMATS[symbology]
    answer = await stock.get("/api/scan", params={"code": symbol["text"]})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["kind"], body["found"], body["format"]) == (kind, True, "gemba")
    expected = {
        "unit": lambda: body["unit"]["serial"] == keys["serial"],
        "lot": lambda: (body["fields"]["part"], body["fields"]["lot"]) == (keys["part"], keys["lot"]),
        "part": lambda: body["part"]["part_number"] == keys["part"],
        "location": lambda: body["location"]["code"] == keys["location"],
    }[kind]
    assert expected(), body


async def test_the_label_shows_the_code_and_what_it_is_in_words(stock):
    svg = (await stock.get("/api/labels/lot.svg", params={"part": "RES/10K", "lot": LOT})).text
    assert ">LOT<" in svg and f">{LOT}<" in svg and "RES/10K Resistor" in svg
    zpl = (await stock.get("/api/labels/location.zpl", params={"location": "PLANT-1/STORES"})).text
    assert "^FDPLANT-1/STORES^FS" in zpl and "^FDMain stores^FS" in zpl
    lot_zpl = (await stock.get("/api/labels/lot.zpl", params={"part": "RES/10K", "lot": LOT})).text
    assert "^FDL/2024 _CE_B1^FS" in lot_zpl  # UTF-8 through ^FH and ^CI28


@pytest.mark.parametrize(("size", "dpi", "dots"), [("50x25", 203, (400, 200)), ("100x50", 300, (1181, 591))])
async def test_sizes_and_printer_resolutions(stock, size, dpi, dots):
    zpl = (await stock.get("/api/labels/part.zpl", params={"part": "PSU-24V", "size": size, "dpi": dpi})).text
    assert f"^PW{dots[0]}" in zpl and f"^LL{dots[1]}" in zpl
    (symbol,) = zpl_symbols(zpl.encode())
    assert decoded(symbol) == [codes.PartCode("PSU-24V")]
    svg = (await stock.get("/api/labels/part.svg", params={"part": "PSU-24V", "size": size})).text
    width, height = size.split("x")
    assert f'width="{width}mm" height="{height}mm"' in svg


async def test_a_sheet_of_many_labels_on_a4_and_letter(stock):
    items = [
        {"kind": "unit", "serial": "SN-24-0017", "copies": 30},
        {"kind": "lot", "part": "RES/10K", "lot": LOT},
        {"kind": "location", "location": "PLANT-1/STORES"},
    ]
    response = await stock.post("/api/labels/sheet", {"items": items, "format": "pdf", "size": "50x25"})
    assert response.status_code == 200, response.text
    pages = pdf_pages(response.content, dpi=200)
    assert len(pages) == 2  # 3 columns x 10 rows of 50x25 mm fit an A4 page; 32 labels need two
    assert abs(pages[0].width / 200 * 25.4 - 210) < 1
    assert decoded(pages[0]) == [codes.UnitCode("SN-24-0017")] * 30
    assert set(decoded(pages[1])) == {codes.LotCode("RES/10K", LOT), codes.LocationCode("PLANT-1/STORES")}

    letter = await stock.post("/api/labels/sheet", {"items": items[1:], "format": "svg", "paper": "letter"})
    assert letter.status_code == 200
    assert 'width="215.9mm" height="279.4mm"' in letter.text
    assert set(decoded(svg_image(letter.content, dpi=200))) == {
        codes.LotCode("RES/10K", LOT), codes.LocationCode("PLANT-1/STORES"),
    }

    job = await stock.post("/api/labels/sheet", {"items": items[1:], "format": "zpl", "symbology": "datamatrix"})
    assert job.text.count("^XA") == 2
    assert [decoded(image) for image in zpl_symbols(job.content)] == [
        [codes.LotCode("RES/10K", LOT)], [codes.LocationCode("PLANT-1/STORES")],
    ]


async def test_an_svg_sheet_holds_one_page_only(stock):
    items = [{"kind": "part", "part": "PSU-24V", "copies": 31}]
    response = await stock.post("/api/labels/sheet", {"items": items, "format": "svg"})
    assert response.status_code == 422
    assert response.json()["field"] == "items"


@pytest.mark.parametrize(
    ("url", "params", "field"),
    [
        ("/api/labels/unit.pdf", {"serial": "NO-SUCH"}, "serial"),
        ("/api/labels/lot.svg", {"part": "RES/10K", "lot": "NO-SUCH"}, "lot"),
        ("/api/labels/part.zpl", {"part": "NO-SUCH"}, "part"),
        ("/api/labels/location.pdf", {"location": "NO/SUCH"}, "location"),
    ],
)
async def test_a_label_of_something_that_does_not_exist_is_a_404(stock, url, params, field):
    response = await stock.get(url, params=params)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert (response.json()["type"], response.json()["field"]) == ("/problems/unknown-reference", field)


@pytest.mark.parametrize(
    ("params", "field", "says"),
    [
        ({"size": "big"}, "size", "WIDTHxHEIGHT"),
        ({"size": "5x5"}, "size", "between"),
        ({"size": "12x12", "symbology": "code128"}, "size", "at least"),
        ({"symbology": "aztec"}, "symbology", "qr"),
        ({"dpi": 150}, "dpi", "203"),
    ],
)
async def test_impossible_sizes_and_options_are_422_problems(stock, params, field, says):
    response = await stock.get("/api/labels/unit.zpl", params={"serial": "SN-24-0017", **params})
    assert response.status_code == 422, response.text
    body = response.json()
    assert (body["type"], body["field"]) == ("/problems/invalid", field)
    assert says in body["detail"]


async def test_labels_need_a_token_and_a_known_kind_and_format(stock):
    assert (await stock.client.get("/api/labels/unit.svg", params={"serial": "SN-24-0017"})).status_code == 401
    assert (await stock.get("/api/labels/pallet.svg")).status_code == 422
    assert (await stock.get("/api/labels/unit.png", params={"serial": "SN-24-0017"})).status_code == 422
    missing = await stock.get("/api/labels/lot.pdf", params={"part": "RES/10K"})
    assert (missing.status_code, missing.json()["field"]) == (422, "lot")
