"""POST /api/decode through HTTP: raw bodies and multipart, the token, the 413/415/422 problems, and the
decode slots (503 when they stay taken)."""

from __future__ import annotations

import asyncio
import io
import struct
import threading
import time
import zlib
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import anyio.to_thread
import httpx
import pytest
from PIL import Image

import server.api.decode as decode_api
from server.app import create_app
from server.db import Database
from server.scan.decode import Symbol
from tests.conftest import Api

PHOTOS = Path(__file__).resolve().parents[1] / "data" / "barcodes"  # part of ../shared/data/barcodes, copied
DIGIKEY = "datamatrix/cpp-datamatrix-5_issue1072-left.webp"
GS1 = "datamatrix/cpp-datamatrix-5_issue794-12-1.webp"

pytestmark = pytest.mark.skipif(not PHOTOS.is_dir(), reason="the photo set is not on this machine")


def photo(name: str) -> bytes:
    return (PHOTOS / name).read_bytes()


def expected(name: str) -> str:
    return (PHOTOS / name).with_suffix(".txt").read_text()


async def post_raw(api: Api, data: bytes, content_type: str, **headers: str) -> httpx.Response:
    return await api.client.post("/api/decode", content=data, headers={**api.headers("operator"), "content-type": content_type, **headers})


def problem_type(response: httpx.Response) -> str:
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    return response.json()["type"]


async def test_raw_body_answers_the_symbols_with_control_characters_kept(api: Api) -> None:
    response = await post_raw(api, photo(DIGIKEY), "image/webp")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["symbols"] == [{"format": "datamatrix", "text": expected(DIGIKEY), "gs1": False}]
    assert body["symbols"][0]["text"].startswith("[)>\x1e06\x1d")
    assert body["elapsed_ms"] > 0


async def test_multipart_field_image(api: Api) -> None:
    files = {"image": ("frame.webp", photo(GS1), "image/webp")}
    response = await api.client.post("/api/decode", files=files, headers=api.headers("operator"))
    assert response.status_code == 200, response.text
    assert response.json()["symbols"] == [{"format": "datamatrix", "text": expected(GS1), "gs1": True}]


async def test_multipart_without_the_image_field_is_invalid(api: Api) -> None:
    response = await api.client.post("/api/decode", files={"photo": ("a.png", b"x", "image/png")}, headers=api.headers("operator"))
    assert response.status_code == 422
    assert problem_type(response) == "/problems/invalid"
    assert response.json()["field"] == "image"


async def test_the_content_type_header_is_not_trusted(api: Api) -> None:
    response = await post_raw(api, photo("upca/upca-1_2.png"), "image/jpeg")  # a PNG sent as JPEG
    assert response.status_code == 200
    assert response.json()["symbols"] == [{"format": "upca", "text": "036602301467", "gs1": False}]


async def test_a_photo_of_nothing_answers_an_empty_list(api: Api) -> None:
    wall = Image.open(io.BytesIO(photo("code39/code39-3_02.png"))).crop((0, 0, 640, 150))
    buffer = io.BytesIO()
    wall.save(buffer, "JPEG", quality=90)
    response = await post_raw(api, buffer.getvalue(), "image/jpeg")
    assert response.status_code == 200
    assert response.json()["symbols"] == []


async def test_a_token_is_required(api: Api) -> None:
    response = await api.client.post("/api/decode", content=photo(GS1), headers={"content-type": "image/webp"})
    assert response.status_code == 401
    assert problem_type(response) == "/problems/unauthorized"


@pytest.mark.parametrize(
    ("data", "content_type"),
    [(b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "image/gif"), (b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "image/png"),
     (b"not an image", "text/plain"), (b"not an image", "image/jpeg")],
)
async def test_other_formats_are_415(api: Api, data: bytes, content_type: str) -> None:
    response = await post_raw(api, data, content_type)
    assert response.status_code == 415
    assert problem_type(response) == "/problems/unsupported-image"


async def test_a_truncated_jpeg_is_422(api: Api) -> None:
    response = await post_raw(api, photo("qrcode/cpp-qrcode-2_#199b.jpg")[:600], "image/jpeg")
    assert response.status_code == 422
    assert problem_type(response) == "/problems/unreadable-image"


def png_header(width: int, height: int) -> bytes:
    """A tiny PNG that claims to be width x height."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")


@pytest.mark.parametrize("size", [(100_000, 100_000), (6_000, 5_000)])
async def test_too_many_pixels_is_413(api: Api, size: tuple[int, int]) -> None:
    response = await post_raw(api, png_header(*size), "image/png")
    assert response.status_code == 413
    assert problem_type(response) == "/problems/image-too-large"


@pytest.fixture
async def small_limit(api: Api, db: Database) -> AsyncIterator[Api]:
    """The same database and tokens behind an app whose image limit is 20 kB."""
    app = create_app(replace(db.settings, max_image_bytes=20_000), db)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver.local") as client:
        yield Api(client, api.tokens)


async def test_too_many_bytes_is_413(small_limit: Api) -> None:
    big = photo("qrcode/qrcode-1_1.png")  # 237 kB
    response = await post_raw(small_limit, big[:30_000], "image/png")
    assert response.status_code == 413
    assert problem_type(response) == "/problems/image-too-large"
    response = await post_raw(small_limit, big, "image/png")  # far above: refused while reading the body
    assert response.status_code == 413
    assert problem_type(response) == "/problems/payload-too-large"


async def test_images_may_exceed_the_request_limit_of_other_routes(api: Api, db: Database) -> None:
    big = photo("qrcode/qrcode-2_6.png")
    assert len(big) > db.settings.max_request_bytes
    response = await post_raw(api, big, "image/png")
    assert response.status_code == 200, response.text
    response = await api.client.post("/api/ops", content=b"{" + b" " * len(big) + b"}", headers={**api.headers("operator"), "content-type": "application/json"})
    assert response.status_code == 413


@pytest.fixture
async def one_slot(api: Api, db: Database, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[Api, threading.Event, threading.Event]]:
    """An app with one decode slot, whose decodes wait for `release` (after setting `started`) before
    decoding for real: a decode in progress for as long as the test needs."""
    started, release = threading.Event(), threading.Event()
    real = decode_api.decode

    def held(data: bytes, **limits: int) -> list[Symbol]:
        started.set()
        release.wait(60)
        return real(data, **limits)

    monkeypatch.setattr(decode_api, "decode", held)
    app = create_app(replace(db.settings, decode_concurrency=1), db)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver.local") as client:
            yield Api(client, api.tokens), started, release
    finally:
        release.set()


async def test_a_photo_waits_a_moment_for_a_decode_slot_then_is_refused_503_with_retry_after(one_slot) -> None:  # noqa: ANN001
    api, started, release = one_slot
    first = asyncio.create_task(post_raw(api, photo(DIGIKEY), "image/webp"))
    assert await anyio.to_thread.run_sync(started.wait, 30), "the first decode did not start"
    waited = time.perf_counter()
    busy = await post_raw(api, photo(GS1), "image/webp")
    waited = time.perf_counter() - waited
    assert busy.status_code == 503, busy.text
    assert problem_type(busy) == "/problems/decoder-busy"
    assert busy.headers["retry-after"] == "1" and busy.json()["retry_after"] == 1
    assert decode_api.DECODE_WAIT_S <= waited < decode_api.DECODE_WAIT_S + 5
    release.set()
    answered = await first
    assert answered.status_code == 200, answered.text
    assert answered.json()["symbols"] == [{"format": "datamatrix", "text": expected(DIGIKEY), "gs1": False}]
    again = await post_raw(api, photo(GS1), "image/webp")  # the slot is free again
    assert again.status_code == 200, again.text


async def test_a_failed_decode_gives_its_slot_back(one_slot) -> None:  # noqa: ANN001
    api, _started, release = one_slot
    release.set()
    for _ in range(3):
        truncated = await post_raw(api, photo("qrcode/cpp-qrcode-2_#199b.jpg")[:600], "image/jpeg")
        assert truncated.status_code == 422
    answered = await post_raw(api, photo(DIGIKEY), "image/webp")
    assert answered.status_code == 200, answered.text
