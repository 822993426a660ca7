"""Browsing the phone's copy with no label in hand, offline (issue 19 §5): parts by number prefix or words
of the description, a location's contents with its sub-locations and totals per part, a part's stock by
location, a unit's recent activity; and the search stays fast on a copy of 100,000 rows."""

from __future__ import annotations

import os
import statistics
from pathlib import Path
from typing import Any

ROWS, PARTS = 100_000, 10_000

# A copy as big as a real store's, written into the app's own stores with its own helpers (db.js, rows.js):
# PARTS parts with descriptions, 521 locations (BIG, 20 aisles, 25 bins each), ROWS inventory rows.
FILL = """async ({ rows, parts }) => {
  const { write, withWords } = await import('/app/db.js');
  const { normalizeRow, rowKey } = await import('/app/logic/rows.js');
  const names = ['screw', 'nut', 'bolt', 'washer', 'pump', 'seal', 'motor', 'bearing', 'gasket', 'valve', 'pin', 'spring', 'hose', 'clamp', 'fitting'];
  const sizes = ['M2', 'M3', 'M4', 'M5', 'M6', 'M8', 'M10', 'M12'];
  const part = (i) => withWords({ id: `bp-${i}`, part_number: `BP-${String(i).padStart(5, '0')}`, tracking: i % 4 ? 'lot' : 'serial',
    description: `${names[i % names.length]} ${sizes[i % sizes.length]}x${i % 50} grade ${i % 7}` });
  const locations = [{ id: 'big', code: 'BIG', parent: null }];
  for (let a = 0; a < 20; a++) {
    locations.push({ id: `big-${a}`, code: `BIG/A${a}`, parent: 'BIG' });
    for (let b = 0; b < 25; b++) locations.push({ id: `big-${a}-${b}`, code: `BIG/A${a}/B${b}`, parent: `BIG/A${a}` });
  }
  const leaves = locations.filter((l) => l.code.split('/').length === 3);
  await write(['parts', 'locations'], async (t) => {
    for (let i = 0; i < parts; i++) t.store('parts').put(part(i));
    for (const l of locations) t.store('locations').put(l);
  });
  for (let start = 0; start < rows; start += 10000) {
    await write(['rows'], async (t) => {
      for (let i = start; i < Math.min(rows, start + 10000); i++) {
        const p = i % parts;
        const row = normalizeRow({ id: `br-${i}`, part: `BP-${String(p).padStart(5, '0')}`, location: leaves[i % leaves.length].code,
          ...(p % 4 ? { lot: `LOT-${i}`, quantity: 1 + (i % 90) } : { serial: `BS-${String(i).padStart(6, '0')}`, quantity: 1 }) });
        t.store('rows').put({ key: rowKey(row), id: row.id, server: row, view: row, last_op: null });
      }
    });
  }
  const { read } = await import('/app/db.js');
  return read(['rows', 'parts'], async (t) => [await t.count('rows'), await t.count('parts')]);
}"""

# Per keystroke: from the input event to the result list rendered for that text.
WATCH = """() => {
  window.latencies = [];
  const box = document.querySelector('input.find');
  const list = document.querySelector('div.results');
  const typed = new Map();
  box.addEventListener('input', () => typed.set(box.value, performance.now()));
  new MutationObserver(() => {
    const q = list.dataset.query;
    if (typed.has(q)) { window.latencies.push(performance.now() - typed.get(q)); typed.delete(q); }
  }).observe(list, { attributes: true });
}"""


def results(phone: Any) -> list[str]:
    return phone.page.eval_on_selector_all("div.results li", "els => els.map(e => e.innerText)")


def search(phone: Any, text: str) -> list[str]:
    phone.page.fill("input.find", text)
    phone.page.wait_for_selector(f"div.results[data-query='{text}']")
    return results(phone)


def test_browse_parts_locations_and_units_offline(phones: Any, server: Any, artifacts: Path, uid: str) -> None:
    root, screw, nut, unit = f"BR-{uid}", f"BRS-{uid}", f"BRN-{uid}", f"BRU-{uid}"
    server.api("POST", "/api/parts", json={"part_number": screw, "tracking": "untracked", "description": f"Screw M3x12 stainless {uid}"})
    server.api("POST", "/api/parts", json={"part_number": nut, "tracking": "lot", "description": f"Nut M3 {uid}"})
    for code, parent in ((root, None), (f"{root}/A", root), (f"{root}/A/1", f"{root}/A"), (f"{root}/B", root)):
        server.api("POST", "/api/locations", json={"code": code, "name": code.title(), **({"parent": parent} if parent else {})})
    server.op("receive", part=screw, tracking="untracked", location=f"{root}/A/1", quantity=300)
    server.op("receive", part=screw, tracking="untracked", location=f"{root}/B", quantity=200)
    server.op("receive", part=nut, tracking="lot", lot=f"N1-{uid}", location=f"{root}/A", quantity=50)
    server.op("receive", part="PUMP-A", tracking="serial", serial=unit, location=root, quantity=1)
    phone = phones("olga")
    phone.offline()
    phone.go("")
    phone.page.click("a.action[data-action='find']")

    assert search(phone, f"m3x12 stainl {uid.lower()}") == [f"{screw} — Screw M3x12 stainless {uid}"]  # words, any order, prefixes
    assert search(phone, f"brs-{uid}") == [f"{screw} — Screw M3x12 stainless {uid}"]  # number prefix, any case
    assert sorted(search(phone, f"m3 {uid}")) == sorted([f"{screw} — Screw M3x12 stainless {uid}", f"{nut} — Nut M3 {uid}"])
    phone.screenshot(artifacts, "32-find")
    assert search(phone, f"{unit[:-1]}") == [f"{unit} (PUMP-A) — {root}"]  # units by serial prefix
    assert search(phone, "no such thing here") == [] and "Nothing" in phone.page.inner_text("div.results")

    search(phone, f"{root}/")  # a location's contents: what is here, below it, and per part
    phone.page.click(f"div.results a:has-text('{root}/A — ')")
    phone.page.wait_for_selector("article.item[data-kind='location'] section.below")
    assert phone.page.eval_on_selector_all("section.below li", "els => els.map(e => e.innerText)") == [f"{root}/A/1 — 1 item"]
    assert phone.page.eval_on_selector_all("section.per-part li", "els => els.map(e => e.innerText)") == [f"{nut} — 50", f"{screw} — 300"]
    phone.screenshot(artifacts, "33-location-contents")
    phone.page.go_back()
    phone.page.wait_for_selector("input.find")
    assert phone.page.input_value("input.find") == f"{root}/"  # back to the search as it was

    search(phone, screw)  # a part's stock by location
    phone.page.click(f"div.results a:has-text('{screw}')")
    phone.page.wait_for_selector("section.by-location")
    assert phone.page.eval_on_selector_all("section.by-location li", "els => els.map(e => e.innerText)") == [
        f"{root}/A/1 — 300", f"{root}/B — 200"]
    assert "On hand\n500" in phone.page.inner_text("dl.facts")

    phone.go("move")  # a unit's recent activity: what this phone did to it, offline too
    phone.scan(unit)
    phone.page.wait_for_selector("ul.picked li >> nth=0")
    phone.scan(f"{root}/B")
    phone.page.click("button.primary:has-text('Move 1 item')")
    phone.wait_queued(1)
    phone.go("find")
    search(phone, unit)
    phone.page.click(f"div.results a:has-text('{unit}')")
    phone.page.wait_for_selector("article.item[data-kind='unit']")
    assert f"Move {unit} {root} → {root}/B" in phone.page.inner_text("article.item")


def test_search_keeps_up_with_typing_on_a_copy_of_100000_rows(phones: Any) -> None:
    phone = phones("olga")
    phone.offline()
    assert phone.page.evaluate(FILL, {"rows": ROWS, "parts": PARTS}) >= [ROWS, PARTS]
    phone.page.reload()  # as a phone whose copy came over days of pulls: not with the garbage of making it
    phone.page.wait_for_selector("html[data-ready='1']")
    phone.go("find")
    phone.page.wait_for_selector("input.find")
    phone.page.evaluate(WATCH)
    for text in ("bp-012", "screw m3x1", "big/a1", "bs-0042", "gasket m12 grade"):
        phone.page.fill("input.find", "")
        phone.page.locator("input.find").press_sequentially(text, delay=150)
        phone.page.wait_for_selector(f"div.results[data-query='{text}']")
    latencies = sorted(phone.page.evaluate("window.latencies"))
    p95 = latencies[int(len(latencies) * 0.95) - 1]
    print(f"\nsearch on {ROWS} rows, {PARTS} parts: {len(latencies)} keystrokes, median {statistics.median(latencies):.1f} ms, "
          f"p95 {p95:.1f} ms, max {latencies[-1]:.1f} ms")
    assert len(latencies) >= 40
    # The goal, 100 ms, holds on this 2-core machine when the test runs alone (GEMBA_SOAK=1, as the benchmarks
    # run); beside the parallel suite's other workers, 250 ms still catches a search that scans the copy.
    assert p95 < (100 if os.environ.get("GEMBA_SOAK") else 250)

    started = phone.page.evaluate("performance.now()")  # the biggest location: 520 below it, every row of the copy
    phone.go("item?code=B:BIG")
    phone.page.wait_for_selector("section.per-part li.more")
    shown = phone.page.evaluate("performance.now()") - started
    assert phone.page.eval_on_selector_all("section.below li", "els => els.length") == 20
    assert phone.page.eval_on_selector_all("section.per-part li", "els => els.length") == 51  # 50 parts, then "Show 50 more"
    print(f"location BIG with {ROWS} rows below it shown in {shown:.0f} ms")
