"""The decoder on real photos (tests/data/barcodes) with the real engines, its trust rule on
crafted reads, and its refusals of files it must not decode."""

from __future__ import annotations

import csv
import io
import struct
import zlib
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from server.errors import ImageTooLarge, UnreadableImage, UnsupportedImage
from server.scan.decode import (
    Read,
    Step,
    Symbol,
    check_digit_ok,
    decide,
    decode,
    load,
    upce_compress,
    upce_expand,
)
from server.scan.prepare import PREPARE

PHOTOS = Path(__file__).resolve().parents[1] / "data" / "barcodes"  # part of ../shared/data/barcodes, copied
LIMITS = {"max_bytes": 8_000_000, "max_pixels": 25_000_000}
EXPECTED = {row["file"]: row["expected_text"] for row in csv.DictReader((PHOTOS / "manifest.csv").open(newline=""))}

pytestmark = pytest.mark.skipif(not PHOTOS.is_dir(), reason="the photo set is not on this machine")


def photo(name: str) -> bytes:
    return (PHOTOS / name).read_bytes()


@pytest.mark.parametrize(
    ("name", "format_"),
    [
        ("code128/code128-2_14.png", "code128"),
        ("code128/cpp-code128-2_#444.webp", "code128"),
        ("code39/code39-3_01.png", "code39"),
        ("ean13/ean13-1_1.png", "ean13"),
        ("upca/upca-1_2.png", "upca"),  # read as EAN-13 0036602301467, reported as UPC-A
        ("qrcode/qrcode-1_1.png", "qrcode"),
        ("qrcode/cpp-qrcode-2_#199b.jpg", "qrcode"),  # a JPEG
        ("datamatrix/cpp-datamatrix-5_issue1072-left.webp", "datamatrix"),  # a DigiKey label
        ("pdf417/pdf417-3_12.png", "pdf417"),  # a UPS label: ISO/IEC 15434 with RS, GS, FS and EOT
    ],
)
def test_a_photo_of_each_symbology_decodes_to_its_exact_text(name: str, format_: str) -> None:
    assert Symbol(format_, EXPECTED[name], gs1=False) in decode(photo(name), **LIMITS)


def test_gs1_datamatrix_keeps_its_group_separators_and_says_gs1() -> None:
    name = "datamatrix/cpp-datamatrix-5_issue794-12-1.webp"
    assert decode(photo(name), **LIMITS) == [Symbol("datamatrix", EXPECTED[name], gs1=True)]
    assert "\x1d" in EXPECTED[name]


def test_iso15434_datamatrix_keeps_rs_gs_and_eot() -> None:
    name = "datamatrix/cpp-datamatrix-3_dm-f.webp"
    [symbol] = decode(photo(name), **LIMITS)
    assert symbol.text == EXPECTED[name]
    assert symbol.text.startswith("[)>\x1e06\x1d") and symbol.text.endswith("\x1e\x04")


def test_photos_where_an_engine_misreads_give_the_right_code_or_nothing() -> None:
    # zbar alone reads the UPC-A below as the UPC-E 02212166 (valid check digit, wrong product);
    # zxing-cpp reads ean13-1_35 also as 7034759003930 from a strip of damaged bars.
    for name in ("upca/upca-2_38.png", "ean13/ean13-1_35.png"):
        texts = {symbol.text for symbol in decode(photo(name), **LIMITS)}
        assert texts <= {EXPECTED[name]}, name


def test_a_photo_of_no_barcode_gives_no_symbols() -> None:
    wall = Image.open(io.BytesIO(photo("code39/code39-3_02.png"))).crop((0, 0, 640, 150))  # the wall above the labels
    assert decode(png(wall), **LIMITS) == []


def rendered(text: str, format_: zxingcpp.BarcodeFormat, scale: int) -> Image.Image:
    pixels = memoryview(zxingcpp.create_barcode(text, format_).to_image(scale=scale))
    return Image.frombytes("L", (pixels.shape[1], pixels.shape[0]), pixels.tobytes())


def test_a_label_on_a_transparent_background_reads_as_on_white_paper() -> None:
    symbol = rendered("U:SN-000123", zxingcpp.BarcodeFormat.Code128, scale=3)
    label = Image.new("RGBA", (symbol.width + 60, symbol.height + 60), (0, 0, 0, 0))  # transparent black
    label.paste(Image.new("RGBA", symbol.size, (0, 0, 0, 255)), (30, 30), mask=Image.eval(symbol.convert("L"), lambda v: 255 - v))
    assert decode(png(label), **LIMITS) == [Symbol("code128", "U:SN-000123", gs1=False)]


def test_16_bit_grayscale_keeps_its_contrast() -> None:
    symbol = rendered("LOT-42", zxingcpp.BarcodeFormat.DataMatrix, scale=8)
    wide = symbol.convert("I").point(lambda v: v * 257).convert("I;16")
    framed = Image.new("I;16", (wide.width + 40, wide.height + 40), 65535)
    framed.paste(wide, (20, 20))
    assert decode(png(framed), **LIMITS) == [Symbol("datamatrix", "LOT-42", gs1=False)]


def test_exif_orientation_is_applied_and_large_photos_are_scaled_down() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to view
    buffer = io.BytesIO()
    Image.new("L", (3000, 1000), 255).save(buffer, "JPEG", exif=exif.tobytes())
    assert load(buffer.getvalue(), **LIMITS).size == (427, 1280)


def test_every_preprocessing_reports_its_reads_where_the_symbol_is_in_the_working_image() -> None:
    gray = load(photo("qrcode/qrcode-1_1.png"), **LIMITS)
    prepared: dict[str, Image.Image] = {}
    [reference] = Step("zxing", "gray", "local").run(gray, prepared)
    for name in PREPARE:
        for binarizer in ("local", "histogram", "fixed"):
            for found in Step("zxing", name, binarizer).run(gray, prepared):
                if found.text == reference.text:  # the box is within a few pixels of the original's
                    assert max(abs(a - b) for a, b in zip(found.box, reference.box, strict=True)) < 6, (name, binarizer)


# ---- the trust rule ------------------------------------------------------------------------------
def read(source: str, format_: str, text: str, box: tuple[float, float, float, float] = (100, 100, 300, 160)) -> Read:
    return Read(source, format_, text, False, box)


def test_a_linear_code_needs_two_independent_reads() -> None:
    assert decide([read("zxing/local", "ean13", "5030159003930")]) == []
    assert decide([read("zbar", "ean13", "5030159003930"), read("zbar", "ean13", "5030159003930")]) == []
    assert decide([read("zbar", "ean13", "5030159003930"), read("zxing/local", "ean13", "5030159003930")]) == [
        Symbol("ean13", "5030159003930", gs1=False)
    ]
    assert decide([read("zxing/local", "code128", "LOT-1"), read("zxing/histogram", "code128", "LOT-1")]) == [
        Symbol("code128", "LOT-1", gs1=False)
    ]


def test_an_ean_with_a_wrong_check_digit_is_never_returned() -> None:
    reads = [read(source, "ean13", "5030159003931") for source in ("zbar", "zxing/local", "zxing/histogram")]
    assert decide(reads) == []


def test_two_answers_for_one_place_give_nothing() -> None:
    right, wrong = "5030159003930", "7034759003930"  # both with valid check digits
    assert decide([
        read("zbar", "ean13", right), read("zxing/local", "ean13", right),
        read("zxing/local", "ean13", wrong, box=(100, 170, 300, 175)),  # a thin strip just below: same symbol
        read("zxing/histogram", "ean13", wrong, box=(100, 170, 300, 175)),
    ]) == []


def test_two_different_codes_in_one_photo_are_both_returned() -> None:
    top = [read(s, "ean13", "9784872348880") for s in ("zbar", "zxing/local")]
    bottom = [read(s, "ean13", "1920081045006", box=(100, 300, 300, 360)) for s in ("zbar", "zxing/local")]
    assert [s.text for s in decide(bottom + top)] == ["9784872348880", "1920081045006"]


def test_one_read_of_a_2d_code_is_enough() -> None:
    assert decide([read("zxing/local", "qrcode", "hello")]) == [Symbol("qrcode", "hello", gs1=False)]


@pytest.mark.parametrize(
    ("format_", "text", "ok"),
    [
        ("ean13", "4006381333931", True), ("ean13", "4006381333932", False), ("upca", "036000291452", True),
        ("ean8", "96385074", True), ("ean8", "96385075", False), ("upce", "01234565", True),
        ("upce", "01234566", False), ("upce", "21234565", False), ("itf14", "10012345678902", True),
        ("ean13", "400638133393", False), ("ean13", "40063813339A1", False),
    ],
)
def test_check_digits(format_: str, text: str, ok: bool) -> None:
    assert check_digit_ok(format_, text) is ok


@pytest.mark.parametrize("upce", ["01200003", "04252614", "01234533", "01234544", "01234565", "00123457"])
def test_upce_expands_and_compresses_back(upce: str) -> None:
    assert upce_compress(upce_expand(upce)) == upce


# ---- refusals ------------------------------------------------------------------------------------
def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def png_header(width: int, height: int) -> bytes:
    """A PNG that only claims its size: signature, IHDR, an empty IDAT, IEND."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)) + chunk(
        b"IDAT", zlib.compress(b"")
    ) + chunk(b"IEND", b"")


@pytest.mark.parametrize("size", [(100_000, 100_000), (6_000, 5_000)])
def test_too_many_pixels_is_refused_before_decoding(size: tuple[int, int]) -> None:
    with pytest.raises(ImageTooLarge):
        decode(png_header(*size), **LIMITS)


def test_too_many_bytes_is_refused() -> None:
    with pytest.raises(ImageTooLarge):
        decode(photo("qrcode/qrcode-1_1.png"), max_bytes=1000, max_pixels=25_000_000)


@pytest.mark.parametrize("data", [b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", b"hello, world", b"BM" + bytes(60)])
def test_formats_other_than_jpeg_png_webp_are_unsupported(data: bytes) -> None:
    with pytest.raises(UnsupportedImage):
        decode(data, **LIMITS)


@pytest.mark.parametrize(
    ("name", "keep"),
    [
        ("", 0),  # empty
        ("qrcode/cpp-qrcode-2_#199b.jpg", 600),  # truncated JPEG
        ("qrcode/qrcode-1_1.png", 5000),  # truncated PNG
        ("qrcode/cpp-qrcode-2_#199.webp", 300),  # truncated WebP
    ],
)
def test_corrupt_or_truncated_files_are_unreadable(name: str, keep: int) -> None:
    with pytest.raises(UnreadableImage):
        decode(photo(name)[:keep] if name else b"", **LIMITS)


def test_a_jpeg_signature_with_garbage_is_unreadable() -> None:
    with pytest.raises(UnreadableImage):
        decode(b"\xff\xd8\xff\xe0" + bytes(200), **LIMITS)
