"""The camera: Chromium's fake camera plays a video made from a real barcode photo. With
`BarcodeDetector` removed from `window` (as on an iPhone; desktop Chromium has none either), the phone
reads the frames itself (zxing-cpp in WebAssembly, from the service worker's cache), offline too; a
phone that cannot run that reader sends frames to the server's decoder (POST /api/decode) online."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, y4m_from_image

PHOTOS = Path(__file__).resolve().parents[1] / "data" / "barcodes"  # part of ../shared/data/barcodes, copied
PHOTO = "code128/code128-2_14.png"  # a Code 128 label photographed by a phone camera
NO_DETECTOR = "delete window.BarcodeDetector;"


def expected_text(photo: str) -> str:
    with (PHOTOS / "manifest.csv").open() as manifest:
        return next(row["expected_text"] for row in csv.DictReader(manifest) if row["file"] == photo)


@pytest.fixture
def camera_browser(playwright: Any, tmp_path: Path) -> Any:
    if not (PHOTOS / PHOTO).exists():
        pytest.skip(f"NO PHOTO: {PHOTOS / PHOTO} is missing (the shared barcode photos)")
    video = y4m_from_image(PHOTOS / PHOTO, tmp_path / "barcode.y4m")
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[
        *CHROMIUM_ARGS, "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-video-capture={video}"])
    yield browser
    browser.close()


@pytest.fixture
def unit_on_label(server: Any) -> str:
    serial = expected_text(PHOTO)
    if not server.inventory(serial=serial):
        server.op("receive", part="PUMP-A", tracking="serial", serial=serial, location="STORES/SHELF-2", quantity=1)
    return serial


def camera_phone(phones: Any, camera_browser: Any, server: Any, script: str) -> Any:
    phone = phones("olga", browser_=camera_browser, before_open=lambda p: p.context.add_init_script(script))
    phone.context.grant_permissions(["camera"], origin=server.url)
    assert phone.page.evaluate("'BarcodeDetector' in window") is False
    return phone


def read_the_label(phone: Any, serial: str) -> None:
    phone.page.click("#camera")
    phone.page.wait_for_function("document.querySelector('#video').videoWidth > 0")
    phone.page.wait_for_selector("article.item[data-kind='unit']", timeout=30_000)
    text = phone.page.inner_text("article.item")
    assert serial in text and "STORES/SHELF-2" in text and "null" not in text


def test_the_camera_reads_a_real_barcode_offline_on_the_phone(camera_browser: Any, phones: Any, server: Any, unit_on_label: str,
                                                              artifacts: Path) -> None:
    phone = camera_phone(phones, camera_browser, server, NO_DETECTOR)
    decodes: list[str] = []
    phone.page.on("request", lambda request: decodes.append(request.url) if "/api/decode" in request.url else None)
    phone.offline()  # no signal from here: the reader and its .wasm come from the service worker's cache

    read_the_label(phone, unit_on_label)
    assert decodes == []  # read on the phone, not sent anywhere
    assert "needs a connection" not in phone.page.inner_text("#toast")
    phone.screenshot(artifacts, "09-camera-scan-offline")
    phone.page.click("#camera")  # stop the camera
    assert phone.page.evaluate("document.querySelector('#video').srcObject") is None


def test_without_its_own_reader_the_phone_asks_the_server(camera_browser: Any, phones: Any, server: Any, unit_on_label: str) -> None:
    # no workers (so no WebAssembly reader): frames go to POST /api/decode while online
    phone = camera_phone(phones, camera_browser, server, NO_DETECTOR + " delete window.Worker;")
    decodes: list[str] = []
    phone.page.on("request", lambda request: decodes.append(request.url) if "/api/decode" in request.url else None)

    read_the_label(phone, unit_on_label)
    assert decodes
    phone.page.click("#camera")
