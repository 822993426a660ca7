"""POST /api/decode: one photo in, the barcodes in it out (for phones whose browser cannot decode)."""

from __future__ import annotations

import time
from functools import partial

import anyio
import anyio.to_thread
from litestar import Request, post
from litestar.datastructures import UploadFile
from litestar.handlers import HTTPRouteHandler

from server.api.schemas import Out
from server.api.contract import BINARY
from server.errors import DecoderBusy, ImageTooLarge, Invalid, UnreadableImage, UnsupportedImage
from server.scan.decode import Symbol, decode
from server.settings import Settings

IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})
MULTIPART_OVERHEAD = 64 * 1024  # boundaries and part headers around the image
# The body, documented: read raw, so Litestar cannot see it
REQUEST_BODY = {
    **{media_type: BINARY for media_type in sorted(IMAGE_TYPES)},
    "multipart/form-data": {"type": "object", "properties": {"image": BINARY}, "required": ["image"]},
}
DECODE_WAIT_S = 1.0  # how long a photo may wait for a decode slot before 503 decoder_busy
RETRY_AFTER_S = 1


class SymbolOut(Out, kw_only=True):
    format: str
    text: str
    gs1: bool


class DecodeOut(Out, kw_only=True):
    symbols: list[SymbolOut]
    elapsed_ms: float


def _timed_decode(data: bytes, settings: Settings) -> tuple[list[Symbol], float]:
    start = time.perf_counter()
    symbols = decode(data, max_bytes=settings.max_image_bytes, max_pixels=settings.max_image_pixels)
    return symbols, (time.perf_counter() - start) * 1000


async def _image_bytes(request: Request) -> bytes:
    media_type, _ = request.content_type
    if media_type == "multipart/form-data":
        upload = (await request.form()).get("image")
        if not isinstance(upload, UploadFile):
            raise Invalid("Send the photo as the multipart file field `image`", field="image")
        return await upload.read()
    if media_type in IMAGE_TYPES:
        return await request.body()
    raise UnsupportedImage(
        f"Content-Type {media_type or '(none)'}: send the photo as the body with Content-Type image/jpeg, "
        "image/png or image/webp, or as the multipart field `image`", field="image",
    )


def decode_route(settings: Settings) -> HTTPRouteHandler:
    """The route, with the body limit of an image (the app's limit stays for every other route) and at
    most GEMBA_DECODE_CONCURRENCY decodes at a time (default: one per CPU). Decoding is CPU-bound and runs
    in worker threads, so the event loop keeps serving other requests; each decode holds up to 6–7 bytes per
    pixel of the photo, so the slots bound the process's memory as well as its CPU. A photo waits for a
    slot up to DECODE_WAIT_S, then is refused (503 `decoder_busy`, Retry-After): a phone's camera sends
    its next frame anyway, and a frame that queued longer would be stale by the time it is read."""
    slots = anyio.Semaphore(settings.decode_concurrency)

    @post(
        "/api/decode", request_max_body_size=settings.max_image_bytes + MULTIPART_OVERHEAD, status_code=200, tags=["scan"],
        raises=[ImageTooLarge, UnsupportedImage, UnreadableImage, DecoderBusy], opt={"request_body": REQUEST_BODY},
    )
    async def decode_photo(request: Request) -> DecodeOut:
        """Decode one photo (JPEG, PNG or WebP; at most GEMBA_MAX_IMAGE_BYTES and GEMBA_MAX_IMAGE_PIXELS),
        sent as the raw body with its Content-Type or as the multipart field `image`. Answers the symbols
        read (`format`: code128, code39, code93, ean13, ean8, upca, upce, itf14, databar,
        databar_expanded, qrcode, microqr, datamatrix, pdf417, aztec; `text` with GS/RS/EOT kept; `gs1`),
        an empty list when nothing is readable for sure, and the decoding time. 503 `decoder_busy` with
        Retry-After when every decode slot stays taken for a second."""
        data = await _image_bytes(request)
        try:
            with anyio.fail_after(DECODE_WAIT_S):
                await slots.acquire()
        except TimeoutError:
            raise DecoderBusy(
                f"All {settings.decode_concurrency} decode slots stayed taken for {DECODE_WAIT_S:g} s: send the photo again",
                retry_after=RETRY_AFTER_S,
            ) from None
        try:  # the thread runs to its end even if the client goes away: the slot is held until then
            symbols, elapsed_ms = await anyio.to_thread.run_sync(partial(_timed_decode, data, settings))
        finally:
            slots.release()
        return DecodeOut(
            symbols=[SymbolOut(format=s.format, text=s.text, gs1=s.gs1) for s in symbols],
            elapsed_ms=round(elapsed_ms, 1),
        )

    return decode_photo
