"""The camera: Chromium's fake camera plays a video made from a real barcode photo; desktop Chromium has
no BarcodeDetector, so frames go to the server's decoder (POST /api/decode) and the app shows the unit."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, y4m_from_image

PHOTOS = Path(__file__).resolve().parents[1] / "data" / "barcodes"  # part of ../shared/data/barcodes, copied
PHOTO = "code128/code128-2_14.png"  # a Code 128 label photographed by a phone camera


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


def test_the_camera_reads_a_real_barcode_through_the_server(camera_browser: Any, phones: Any, server: Any, artifacts: Path) -> None:
    serial = expected_text(PHOTO)
    if not server.inventory(serial=serial):
        server.op("receive", part="PUMP-A", tracking="serial", serial=serial, location="STORES/SHELF-2", quantity=1)
    phone = phones("olga", browser_=camera_browser)
    phone.context.grant_permissions(["camera"], origin=server.url)
    assert phone.page.evaluate("'BarcodeDetector' in window") is False  # so this goes through the server

    phone.page.click("#camera")
    phone.page.wait_for_function("document.querySelector('#video').videoWidth > 0")
    phone.page.wait_for_selector("article.item[data-kind='unit']", timeout=30_000)
    text = phone.page.inner_text("article.item")
    assert serial in text and "STORES/SHELF-2" in text and "null" not in text
    phone.screenshot(artifacts, "09-camera-scan")
    phone.page.click("#camera")  # stop the camera
    assert phone.page.evaluate("document.querySelector('#video').srcObject") is None
