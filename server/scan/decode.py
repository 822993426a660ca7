"""Read the barcodes in one photo: bytes in, symbols out. No HTTP here.

1. `load`: sniff the format from the bytes (JPEG, PNG, WebP only), check the byte and pixel limits
   before decoding pixels, make it 8-bit grayscale right away (transparency flattened onto white),
   at most `WORK_SIDE` pixels on its long side, and upright (EXIF orientation).
2. `decode_image` runs the `CASCADE` of steps (an engine on a preprocessed copy) and stops at the
   first step after which the reads add up to a trustworthy symbol. The steps and their order were
   chosen by `tests/benchmarks/bench_decode.py --select` on one half of the photo set and checked on
   the other half (docs/scanning.md).
3. `decide` is the trust rule. Reads of one place in the photo that disagree are dropped (an
   ambiguous photo is a re-scan, never a guess). A linear code (EAN/UPC, Code 128, Code 39, ...)
   needs two independent reads that agree: both engines, or zxing-cpp on two different
   binarizations; zbar twice is not independent (on our photos zbar repeats the same wrong EAN/UPC
   from every preprocessing). EAN/UPC digits must also carry a valid check digit. 2D codes carry
   Reed-Solomon error correction; one read of them is enough.

Symbols are reported by format name; an EAN-13 starting with 0 is a UPC-A and is reported as
`upca` with its 12 digits, whichever engine read it.
"""

from __future__ import annotations

import ctypes
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import zxingcpp
from PIL import ExifTags, Image, ImageChops
from pyzbar import wrapper as zbar

from server.errors import ImageTooLarge, UnreadableImage, UnsupportedImage
from server.scan.prepare import PREPARE, Point

WORK_SIDE = 1280  # long side of the working image; a phone frame is read at 1280 px or less

# ---- the symbols ----------------------------------------------------------------------------------
EAN_UPC = frozenset({"ean13", "upca", "ean8", "upce", "itf14"})
LINEAR = EAN_UPC | {"code128", "code39", "code93", "databar", "databar_expanded"}
ZXING_READS = "Code128,Code39Std,Code93,EAN13,EAN8,UPCA,UPCE,ITF14,DataBarOmni,DataBarExp,QRCode,MicroQRCode,DataMatrix,PDF417,Aztec"
ZXING_FORMATS = zxingcpp.barcode_formats_from_str(ZXING_READS)
ZXING_NAMES = {  # how zxing-cpp names what it found (Code39Std is reported as Code39, ITF14 as ITF)
    "Code128": "code128", "Code39": "code39", "Code93": "code93", "EAN13": "ean13", "EAN8": "ean8", "UPCA": "upca",
    "UPCE": "upce", "ITF": "itf14", "DataBarOmni": "databar", "DataBarExp": "databar_expanded", "QRCode": "qrcode",
    "MicroQRCode": "microqr", "DataMatrix": "datamatrix", "PDF417": "pdf417", "Aztec": "aztec",
}
ZXING_FORMAT = {getattr(zxingcpp.BarcodeFormat, name): fmt for name, fmt in ZXING_NAMES.items()}
ZBAR_NAMES = {
    "EAN13": "ean13", "UPCA": "upca", "EAN8": "ean8", "UPCE": "upce", "CODE128": "code128",
    "CODE39": "code39", "CODE93": "code93", "QRCODE": "qrcode",
}  # not I25 (the classic false positive on text and textures), nor zbar's PDF417 (it read none of ours)
ZBAR_GS1 = 1  # bit ZBAR_MOD_GS1 of zbar_symbol_get_modifiers


@dataclass(frozen=True, slots=True)
class Symbol:
    format: str
    text: str
    gs1: bool


@dataclass(frozen=True, slots=True)
class Read:
    """One engine's answer on one step, `box` (x0, y0, x1, y1) in working-image pixels."""

    source: str  # what made the pixels it saw: "zbar", or "zxing/<binarization>"
    format: str
    text: str
    gs1: bool
    box: tuple[float, float, float, float]


# ---- loading ----------------------------------------------------------------------------------------
def sniff(data: bytes) -> str:
    """The image format from its first bytes; the Content-Type header is not trusted."""
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    raise UnsupportedImage("Send a JPEG, PNG or WebP image", field="image")


def load(data: bytes, *, max_bytes: int, max_pixels: int) -> Image.Image:
    """The working image (grayscale, upright, long side <= WORK_SIDE) or a domain error. Memory: the
    decoded pixels (a JPEG at the smallest scale that still gives WORK_SIDE) and two 8-bit planes of
    their size at most; the decoded pixels are freed before the grey plane is scaled down."""
    if len(data) > max_bytes:
        raise ImageTooLarge(f"The image has {len(data)} bytes; the limit is {max_bytes}", field="image", max_bytes=max_bytes)
    if not data:
        raise UnreadableImage("The image is empty", field="image")
    kind = sniff(data)
    try:
        image = Image.open(io.BytesIO(data), formats=[kind])
        width, height = image.size
        if width * height > max_pixels:
            raise ImageTooLarge(
                f"The image is {width}x{height} pixels; the limit is {max_pixels} pixels",
                field="image", max_pixels=max_pixels,
            )
        if kind == "JPEG":
            image.draft("L", (WORK_SIDE, WORK_SIDE))  # decode at 1/2, 1/4 or 1/8 scale when that is enough
        upright = UPRIGHT.get(image.getexif().get(ExifTags.Base.Orientation, 1))
        gray = flatten(image)
        image.close()  # the decoded pixels freed before scaling the grey plane down
    except ImageTooLarge:
        raise
    except Image.DecompressionBombError as error:
        raise ImageTooLarge(str(error), field="image", max_pixels=max_pixels) from error
    except Exception as error:  # noqa: BLE001 - any failure to decode untrusted bytes is the file's fault
        raise UnreadableImage(f"The {kind} file is truncated or corrupt", field="image") from error
    if max(gray.size) > WORK_SIDE:
        factor = WORK_SIDE / max(gray.size)
        gray = gray.resize((max(1, round(gray.width * factor)), max(1, round(gray.height * factor))), Image.BILINEAR)
    return gray if upright is None else gray.transpose(upright)


# EXIF orientation → the turn or flip that makes the photo upright (as ImageOps.exif_transpose does it),
# applied to the small grey working image instead of the decoded photo
UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def flatten(image: Image.Image) -> Image.Image:
    """8-bit grey, straight from the decoded pixels; transparent pixels become white paper (a label PNG
    on a transparent background)."""
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        if image.mode not in ("RGBA", "LA"):
            image = image.convert("RGBA")  # a palette's or a tRNS chunk's transparency as an alpha band
        clear = ImageChops.invert(image.getchannel("A"))  # 255 where fully transparent
        gray = image.convert("L")
        gray.paste(255, mask=clear)  # on white: grey × alpha + 255 × (1 − alpha)
        return gray
    if image.mode.startswith("I"):  # 16/32-bit grayscale: keep the top 8 bits instead of clipping
        return image.point(lambda value: value * (1 / 256)).convert("L")  # I;16 stays 16-bit until then
    return image.convert("L")


# ---- engines ----------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Step:
    """An engine on one preprocessed copy. zxing's `binarizer` is local (LocalAverage), histogram
    (GlobalHistogram) or fixed (black below 128); `thorough` also lets it try rotations, inverted
    and downscaled copies."""

    engine: str
    prepare: str = "gray"
    binarizer: str = "local"
    thorough: bool = False

    def __str__(self) -> str:
        if self.engine == "zbar":
            return f"zbar:{self.prepare}"
        return f"zxing-{self.binarizer}{'+' if self.thorough else ''}:{self.prepare}"

    def run(self, gray: Image.Image, prepared: dict[str, Image.Image]) -> list[Read]:
        how = PREPARE[self.prepare]
        if self.prepare not in prepared:
            prepared[self.prepare] = how.function(gray)
        image = prepared[self.prepare]
        back = how.back(gray, image)
        if self.engine == "zbar":
            return zbar_reads(image, back)
        # independent zxing reads are those from different binarizations of the pixels
        return zxing_reads(image, self, f"zxing/{self.prepare if how.binarized else self.binarizer}", back)


def _box(points: Iterable[Point], back: Callable[[Point], Point]) -> tuple[float, float, float, float]:
    """The working image's box around the points of a prepared copy."""
    xs, ys = zip(*(back(point) for point in points), strict=True)
    return (min(xs), min(ys), max(xs), max(ys))


def _symbol(format_: str, text: str) -> tuple[str, str]:
    """One spelling per symbol: an EAN-13 with a leading 0 is a UPC-A (12 digits); a UPC-E is its 8
    printed digits (zxing-cpp reports it expanded to 13)."""
    if format_ in ("ean13", "upce") and len(text) == 13 and text.startswith("0"):
        text = text[1:]
        format_ = "upca" if format_ == "ean13" else format_
    if format_ == "upce" and len(text) == 12:
        text = upce_compress(text) or text
    return format_, text


BINARIZERS = {
    "local": zxingcpp.Binarizer.LocalAverage, "histogram": zxingcpp.Binarizer.GlobalHistogram,
    "fixed": zxingcpp.Binarizer.FixedThreshold,  # black below 128
}


def zxing_reads(image: Image.Image, step: Step, source: str, back: Callable[[Point], Point]) -> list[Read]:
    found = zxingcpp.read_barcodes(
        image, formats=ZXING_FORMATS, text_mode=zxingcpp.TextMode.Plain,  # Plain: GS/RS/EOT stay in the text
        binarizer=BINARIZERS[step.binarizer],
        try_rotate=step.thorough, try_downscale=step.thorough, try_invert=step.thorough,
    )
    reads = []
    for barcode in found:
        if barcode.format not in ZXING_FORMAT:
            continue
        format_, text = _symbol(ZXING_FORMAT[barcode.format], barcode.text)
        p = barcode.position
        box = _box([(p.top_left.x, p.top_left.y), (p.top_right.x, p.top_right.y),
                    (p.bottom_left.x, p.bottom_left.y), (p.bottom_right.x, p.bottom_right.y)], back)
        gs1 = barcode.content_type == zxingcpp.ContentType.GS1
        reads.append(Read(source, format_, text, gs1, box))
    return reads


_zbar_modifiers = zbar.zbar_function("zbar_symbol_get_modifiers", ctypes.c_uint, ctypes.POINTER(zbar.zbar_symbol))
_GRAY = 808466521  # zbar's fourcc 'Y800': 8-bit grayscale


def zbar_reads(image: Image.Image, back: Callable[[Point], Point]) -> list[Read]:
    """zbar through pyzbar's ctypes bindings, for what `pyzbar.decode` leaves out: the GS1 flag."""
    pixels = image.tobytes()
    scanner = zbar.zbar_image_scanner_create()
    zimage = zbar.zbar_image_create()
    try:
        zbar.zbar_image_scanner_set_config(scanner, zbar.ZBarSymbol.NONE, zbar.ZBarConfig.CFG_ENABLE, 0)
        for name in ZBAR_NAMES:
            zbar.zbar_image_scanner_set_config(scanner, zbar.ZBarSymbol[name], zbar.ZBarConfig.CFG_ENABLE, 1)
        zbar.zbar_image_set_format(zimage, _GRAY)
        zbar.zbar_image_set_size(zimage, image.width, image.height)
        zbar.zbar_image_set_data(zimage, ctypes.cast(pixels, ctypes.c_void_p), len(pixels), None)
        if zbar.zbar_scan_image(scanner, zimage) < 0:
            return []
        reads = []
        symbol = zbar.zbar_image_first_symbol(zimage)
        while symbol:
            name = zbar.ZBarSymbol(symbol.contents.type).name
            raw = ctypes.string_at(zbar.zbar_symbol_get_data(symbol), zbar.zbar_symbol_get_data_length(symbol))
            points = [(zbar.zbar_symbol_get_loc_x(symbol, i), zbar.zbar_symbol_get_loc_y(symbol, i))
                      for i in range(zbar.zbar_symbol_get_loc_size(symbol))]
            if name in ZBAR_NAMES and points:
                format_, text = _symbol(ZBAR_NAMES[name], raw.decode("utf-8", errors="replace"))
                gs1 = bool(_zbar_modifiers(symbol) & ZBAR_GS1)
                reads.append(Read("zbar", format_, text, gs1, _box(points, back)))
            symbol = zbar.zbar_symbol_next(symbol)
        return reads
    finally:
        zbar.zbar_image_destroy(zimage)
        zbar.zbar_image_scanner_destroy(scanner)


# ---- trust ------------------------------------------------------------------------------------------
def upce_expand(upce: str) -> str:
    """The 12-digit UPC-A that an 8-digit UPC-E stands for."""
    d, last = upce[1:7], upce[6]
    if last in "012":
        middle = d[:2] + last + "0000" + d[2:5]
    elif last == "3":
        middle = d[:3] + "00000" + d[3:5]
    elif last == "4":
        middle = d[:4] + "00000" + d[4]
    else:
        middle = d[:5] + "0000" + last
    return upce[0] + middle + upce[7]


def upce_compress(upca: str) -> str | None:
    """The UPC-E for a UPC-A that has one (the inverse of `upce_expand`)."""
    maker, item = upca[1:6], upca[6:11]
    if maker[2:] in ("000", "100", "200") and item[:2] == "00":
        digits = maker[:2] + item[2:] + maker[2]
    elif maker[3:] == "00" and item[:3] == "000":
        digits = maker[:3] + item[3:] + "3"
    elif maker[4] == "0" and item[:4] == "0000":
        digits = maker[:4] + item[4] + "4"
    elif item[:4] == "0000" and item[4] in "56789":
        digits = maker + item[4]
    else:
        return None
    return upca[0] + digits + upca[11]


def check_digit_ok(format_: str, text: str) -> bool:
    """The GS1 mod-10 check digit of EAN-13/8, UPC-A, ITF-14 and UPC-E (expanded to UPC-A first)."""
    lengths = {"ean13": 13, "upca": 12, "ean8": 8, "upce": 8, "itf14": 14}
    if not text.isdigit() or len(text) != lengths[format_] or (format_ == "upce" and text[0] not in "01"):
        return False
    digits = [int(c) for c in (upce_expand(text) if format_ == "upce" else text)]
    total = sum(digit * (3 if i % 2 == 0 else 1) for i, digit in enumerate(reversed(digits[:-1])))
    return (10 - total % 10) % 10 == digits[-1]


def _family(format_: str) -> str:
    return "linear" if format_ in LINEAR else format_


def _same_place(a: Read, b: Read) -> bool:
    """Two reads of one symbol: their boxes touch; or, for linear codes (whose boxes are often thin
    scan strips), the boxes share a row or column band and the texts have one length and differ in
    at most a third of the characters: a strip through damaged bars reads as a near copy of the
    true text."""
    if _family(a.format) != _family(b.format):
        return False
    across = a.box[0] <= b.box[2] and b.box[0] <= a.box[2]
    down = a.box[1] <= b.box[3] and b.box[1] <= a.box[3]
    if across and down:
        return True
    if a.format in LINEAR and (across or down) and len(a.text) == len(b.text):
        return sum(x != y for x, y in zip(a.text, b.text, strict=True)) * 3 <= len(a.text)
    return False


def decide(reads: list[Read]) -> list[Symbol]:
    """The symbols the reads so far establish (see the module docstring), in reading order."""
    reads = [r for r in reads if r.format not in EAN_UPC or check_digit_ok(r.format, r.text)]
    groups: list[list[Read]] = []
    for read in reads:  # group reads of one place, merging groups the read bridges
        joined = [group for group in groups if any(_same_place(read, other) for other in group)]
        for group in joined:
            groups.remove(group)
        groups.append([read, *(other for group in joined for other in group)])
    symbols = []
    for group in sorted(groups, key=lambda g: (min(r.box[1] for r in g), min(r.box[0] for r in g))):
        if len({(r.format, r.text) for r in group}) != 1:
            continue  # one place, two answers: ambiguous
        first = group[0]
        if first.format in LINEAR and len({r.source for r in group}) < 2:
            continue  # a linear code needs two independent reads
        symbols.append(Symbol(first.format, first.text, any(r.gs1 for r in group)))
    return symbols


# ---- the cascade ------------------------------------------------------------------------------------
# Chosen by `bench_decode.py --select` on the training half (seed 0). First the moves with the most
# extra training photos read per millisecond: coarse to fine, half size first (fast, and it averages
# out noise and oversized modules), full size with both of zxing-cpp's binarizers, our local
# threshold for uneven light, zbar as the independent second engine, zxing-cpp's own rotations,
# inversion and downscaling, and two binarizations of the equalized copy chosen as a pair (a linear
# code needs both). From `autocontrast` on, the CPU budget left (about 60 ms for the whole cascade
# on a full 1280 px frame) goes to the steps that read the most training photos on their own per
# millisecond: second opinions for photos unlike the training ones. The candidate preprocessings
# are `PREPARE` (server/scan/prepare.py).
CASCADE: tuple[Step, ...] = (
    Step("zxing", "half", "histogram"),
    Step("zxing", "half", "local"),
    Step("zxing", "gray", "histogram"),
    Step("zxing", "gray", "local"),
    Step("zxing", "local_threshold", "histogram"),
    Step("zbar", "half"),
    Step("zxing", "half", "histogram", thorough=True),
    Step("zxing", "equalize", "histogram"),
    Step("zxing", "equalize", "fixed"),
    Step("zxing", "autocontrast", "histogram"),
    Step("zxing", "autocontrast", "fixed"),
    Step("zxing", "gamma_dark", "histogram"),
    Step("zxing", "gamma_dark", "local"),
    Step("zxing", "gray", "fixed"),
)


def decode_image(gray: Image.Image, cascade: Iterable[Step] = CASCADE) -> list[Symbol]:
    prepared: dict[str, Image.Image] = {}
    reads: list[Read] = []
    for step in cascade:
        reads += step.run(gray, prepared)
        if symbols := decide(reads):
            return symbols
    return []


def decode(data: bytes, *, max_bytes: int, max_pixels: int) -> list[Symbol]:
    """The symbols in one JPEG, PNG or WebP photo. Raises ImageTooLarge (413), UnsupportedImage (415)
    or UnreadableImage (422). CPU-bound: call it from a worker thread."""
    return decode_image(load(data, max_bytes=max_bytes, max_pixels=max_pixels))
