"""End-to-end fixtures: a real `gemba serve` on a free port with a fresh SQLite file (tests/e2e/server.py),
Debian's Chromium driven by Playwright at a phone viewport, and helpers that act as an operator would.

Never `playwright install`: the browser is /usr/bin/chromium."""

from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from server.web import PWA_DIR
from tests.e2e.server import USERS, Server, start_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
ARTIFACTS = Path(__file__).parent / "artifacts"
TIMEOUT_MS = 20_000

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if not Path(CHROMIUM).exists():
        for item in items:
            if "tests/e2e" in str(item.fspath):
                item.add_marker(pytest.mark.skip(reason=f"NO BROWSER: {CHROMIUM} is missing (Debian package chromium)"))


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Our own server; or, with GEMBA_E2E_URL, one already running (`python -m tests.e2e.server DIR`)."""
    if os.environ.get("GEMBA_E2E_URL"):
        yield Server(url=os.environ["GEMBA_E2E_URL"].rstrip("/"), process=None, env={})
        return
    directory = tmp_path_factory.mktemp("gemba-e2e")
    build = directory / "pwa"  # the app as deployed: test_update.py deploys a new version of it
    shutil.copytree(PWA_DIR, build, ignore=shutil.ignore_patterns("tests"))
    running = start_server(directory, directory / "server.log", env={"GEMBA_PWA_DIR": str(build)})
    yield running
    running.stop()


@pytest.fixture
def uid() -> str:
    """A suffix that makes this test's serials and lots new on the server, also when re-run."""
    return uuid.uuid4().hex[:6].upper()


# One Playwright and one Chromium for each stretch of e2e files that a worker runs one after another (launching
# them costs ~1.5 s of CPU, 5-10 s on a loaded machine), closed as soon as the next test is not an e2e test:
# Playwright's sync API keeps an asyncio loop marked as running in this thread while it is open, and the async
# tests that a worker runs after an e2e file (and the session's own loop, closed after the last test) need it gone.
_open: dict[str, Any] = {}
_next: list[pytest.Item | None] = [None]


def _leaving_e2e(nextitem: pytest.Item | None) -> bool:
    return nextitem is None or Path(__file__).parent not in nextitem.path.parents


def _close_browser() -> None:
    if "browser" in _open:
        _open.pop("browser").close()
    if "playwright" in _open:
        _open.pop("playwright").stop()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Any:
    _next[0] = nextitem  # for `playwright`'s teardown, which runs in this hook
    if "playwright" not in getattr(item, "fixturenames", ()) and _leaving_e2e(nextitem):
        _close_browser()
    try:
        return (yield)
    finally:
        if _leaving_e2e(nextitem):  # a set-up that failed before `playwright` was set up skipped its teardown
            _close_browser()


@pytest.fixture
def playwright() -> Iterator[Any]:
    if "playwright" not in _open:
        _open["playwright"] = sync_api.sync_playwright().start()
    yield _open["playwright"]
    # after the teardown of whatever used the browser (phones, pages), before that of module and session fixtures
    if _leaving_e2e(_next[0]):
        _close_browser()


@pytest.fixture
def browser(playwright: Any) -> Any:
    if "browser" not in _open:
        _open["browser"] = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    return _open["browser"]


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def until(page: Any, expression: str, timeout_ms: float = TIMEOUT_MS) -> None:
    """Wait until the JavaScript `expression` is true; a promise is awaited. (page.wait_for_function takes
    a promise for true at once, so it cannot wait on IndexedDB.)"""
    deadline = time.monotonic() + timeout_ms / 1000
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise TimeoutError(f"not true within {timeout_ms / 1000:.0f} s: {expression}")
        page.wait_for_timeout(50)


PENDING_NONE = "import('/app/outbox.js').then(async (o) => (await o.pendingStats()).pending === 0)"


class Phone:
    """One phone: a browser context with the app open, as an operator uses it."""

    def __init__(self, context: Any, server: Server) -> None:
        self.context = context
        self.server = server
        self.page = context.new_page()
        self.page.set_default_timeout(TIMEOUT_MS)
        self.errors: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self._cdp: Any = None
        self._last_key = 0.0

    def open(self) -> Phone:
        self.page.goto(self.server.url + "/")
        self.page.wait_for_selector("html[data-ready='1']")
        return self

    def sign_in(self, user: str) -> Phone:
        self.page.fill("form.signin input[name=username]", user)
        self.page.fill("form.signin input[name=password]", USERS[user][1])
        self.page.click("form.signin button[type=submit]")
        self.page.wait_for_selector("nav.actions")
        self.wait_synced()
        # the service worker has the whole shell cached and controls the page: it works offline from here
        self.page.wait_for_function("navigator.serviceWorker.controller !== null")
        return self

    def offline(self, offline: bool = True) -> None:
        self.context.set_offline(offline)
        self.page.wait_for_function(f"navigator.onLine === {str(not offline).lower()}")

    def wait_synced(self) -> None:
        """The outbox holds nothing pending and the chip says Synced (an op just queued is in the outbox a
        moment before the chip counts it: the chip's "Synced" from before must not pass for it)."""
        until(self.page, PENDING_NONE, timeout_ms=60_000)
        self.page.wait_for_selector("#syncchip[data-phase='synced']", timeout=60_000)

    def pending(self) -> int:
        """Ops waiting in the outbox (IndexedDB), as the app counts them."""
        return self.page.evaluate("import('/app/outbox.js').then(async (o) => (await o.pendingStats()).pending)")

    def go(self, route: str) -> None:
        self.page.evaluate(f"location.hash = '#/{route}'")
        self.page.wait_for_function(f"location.hash.startsWith('#/{route}')")

    def keys(self, text: str, gap_ms: float, enter: bool = False) -> None:
        """Keystrokes into whatever has the focus, `gap_ms` apart on the events' own clock (their timestamps go
        through the DevTools protocol): a busy test machine may deliver them late, but a scanner's burst stays a
        burst and a person's slow typing stays slow, as the app measures them."""
        if self._cdp is None:
            self._cdp = self.context.new_cdp_session(self.page)
        at = max(time.time(), self._last_key + 1.0)  # a pause before: a new burst, never the tail of the last one
        events = [{"key": ch, "text": ch, "unmodifiedText": ch} for ch in text]
        if enter:
            events.append({"key": "Enter", "code": "Enter", "windowsVirtualKeyCode": 13, "text": "\r", "unmodifiedText": "\r"})
        for i, event in enumerate(events):
            stamp = at + i * gap_ms / 1000
            self._cdp.send("Input.dispatchKeyEvent", {"type": "keyDown", "timestamp": stamp, **event})
            self._cdp.send("Input.dispatchKeyEvent", {"type": "keyUp", "timestamp": stamp, "key": event["key"]})
        self._last_key = at + len(events) * gap_ms / 1000

    def wedge(self, code: str) -> None:
        """A keyboard-wedge scanner: the code as a burst of keys 3 ms apart, then Enter, wherever the focus is."""
        self.keys(code, 3, enter=True)

    def scan(self, code: str) -> None:
        """Typed entry in the scan bar (what a person does when a label will not read)."""
        self.page.fill("#code", code)
        self.page.press("#code", "Enter")

    def receive(self, part: str, location: str, serial: str | None = None, lot: str | None = None, quantity: int | None = None) -> None:
        self.go("receive")
        self.page.fill("input[name=part]", part)
        self.page.dispatch_event("input[name=part]", "change")
        self.page.wait_for_selector("p.tracking[data-tracking]:not([data-tracking=''])")
        if serial:
            self.page.fill("input[name=serial]", serial)
        if lot:
            self.page.fill("input[name=lot]", lot)
        if quantity is not None:
            self.page.fill("input[name=quantity]", str(quantity))
        self.page.fill("input[name=location]", location)
        before = self.queued()
        self.page.click("form.flow button.primary")
        self.wait_queued(before + 1)

    def queued(self) -> int:
        return self.page.evaluate("import('/app/outbox.js').then(async (o) => (await o.recent(100000)).length)")

    def wait_queued(self, count: int) -> None:
        until(self.page, f"import('/app/outbox.js').then(async (o) => (await o.recent(100000)).length >= {count})")

    def outcomes(self) -> list[str]:
        self.go("sync")
        self.page.wait_for_selector("ul.outcomes li")
        return self.page.eval_on_selector_all("ul.outcomes li", "els => els.map(e => e.innerText)")

    def screenshot(self, directory: Path, name: str) -> None:
        self.page.screenshot(path=str(directory / f"{name}.png"))


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item.stash[FAILED] = report.failed
    return report


FAILED = pytest.StashKey[bool]()


@pytest.fixture
def phones(browser: Any, server: Server, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A factory of phones (each its own context: its own IndexedDB, device_id and service worker)."""
    made: list[Phone] = []

    def make(
        user: str = "olga", browser_: Any = None, before_open: Callable[[Phone], None] | None = None, locale: str = "en-US"
    ) -> Phone:
        """`before_open(phone)` runs in the fresh context before the app first loads (to leave what an
        older version of the app kept on the phone, say). `locale`: the browser's language."""
        context = (browser_ or browser).new_context(**PHONE, locale=locale, service_workers="allow")
        phone = Phone(context, server)
        made.append(phone)
        if before_open:
            before_open(phone)
        phone.open()
        return phone.sign_in(user) if user else phone

    yield make
    failed = request.node.stash.get(FAILED, True)
    for number, phone in enumerate(made):
        if failed:  # what the phone showed when the test failed
            ARTIFACTS.mkdir(exist_ok=True)
            phone.screenshot(ARTIFACTS, f"FAILED-{request.node.name}-{number}")
        assert not phone.errors, phone.errors
        phone.context.close()


def y4m_from_image(image_path: Path, target: Path, frames: int = 10) -> Path:
    """A Y4M video (YUV 4:2:0) of a still photo, for Chromium's fake camera."""
    from PIL import Image

    image = Image.open(image_path).convert("RGB")
    width, height = image.size
    image = image.crop((0, 0, width - width % 2, height - height % 2))
    width, height = image.size
    y, cb, cr = image.convert("YCbCr").split()
    half = (width // 2, height // 2)
    frame = b"FRAME\n" + y.tobytes() + cb.resize(half, Image.BILINEAR).tobytes() + cr.resize(half, Image.BILINEAR).tobytes()
    target.write_bytes(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode() + frame * frames)
    return target
