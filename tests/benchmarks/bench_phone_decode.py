"""The phone's own barcode reader (pwa/decoder.js: zxing-cpp in WebAssembly, in a worker) against the
server's POST /api/decode, on the same photos, in Debian's Chromium at 390x844 with `BarcodeDetector`
removed from `window` (as on an iPhone):

- the server: each photo's bytes sent by the page through the app's own `api.decodeFrame`, online;
- the phone: the network gone (the reader and its .wasm come from the service worker's cache), each
  photo drawn to a canvas at its own size (at most 1280 px wide, as scanner.js grabs a camera frame)
  and its pixels handed to the app's reader, as the camera loop does: the whole cascade, and the quick
  pass (its first steps) the camera runs on most live frames.

Correct and misread are judged as in bench_decode.py (`judge`). Decode time per frame is measured in
the page (pixels handed over → symbols back; the worker's own time beside it), p50/p95 over photos.
Also a full 1280x720 frame with nothing readable (the whole cascade runs, as on most camera frames),
and the sizes as the service worker caches them: the app shell, and apart from it the barcode reader
loaded when the camera opens (pwa/reader/, zxing-wasm's JS and its .wasm).

    .venv/bin/python -m tests.benchmarks.bench_phone_decode [FOLDER] [--url http://127.0.0.1:8000]

Writes tests/benchmarks/results/phone_decode.json.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from playwright.sync_api import sync_playwright

from tests.benchmarks.bench_decode import DATASET, Photo, judge, load_photos, percentile
from tests.benchmarks.bench_pwa import shell_size
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, PHONE, Phone
from tests.e2e.server import Server, start_server

RESULTS = Path(__file__).resolve().parent / "results"
NO_DETECTOR = "delete window.BarcodeDetector;"

SERVER = """async (photos) => {
  const api = await import('/app/api.js');
  const out = [];
  for (const [name, b64] of photos) {
    const blob = new Blob([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))]);
    const started = performance.now();
    try { const answer = await api.decodeFrame(blob); out.push([name, answer.symbols.map((s) => s.text), performance.now() - started, null]); }
    catch (error) { out.push([name, [], performance.now() - started, `${error.status} ${error.message}`]); }
  }
  return out;
}"""
PHONE_READER = """async ([photos, quick]) => {
  const decoder = await import('/app/decoder.js');
  if (!(await decoder.load())) return { failed: 'the reader did not load' };
  const canvas = document.createElement('canvas');
  const context = canvas.getContext('2d', { willReadFrequently: true });
  const out = [];
  for (const [name, b64] of photos) {
    const bitmap = await createImageBitmap(new Blob([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))]));
    const scale = Math.min(1, 1280 / bitmap.width);
    canvas.width = Math.round(bitmap.width * scale);
    canvas.height = Math.round(bitmap.height * scale);
    context.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    const frame = context.getImageData(0, 0, canvas.width, canvas.height);
    const started = performance.now();
    const { symbols, ms } = await decoder.read(frame, { quick });
    out.push([name, symbols.map((s) => s.text), performance.now() - started, ms]);
  }
  const empty = [];  // a full 1280x720 frame with nothing to read (noise): the whole cascade runs
  const noise = new ImageData(1280, 720);
  for (let i = 0; i < noise.data.length; i++) noise.data[i] = i % 4 === 3 ? 255 : (i * 7919) % 251;
  for (let i = 0; i < 5; i++) {
    const started = performance.now();
    await decoder.read(new ImageData(noise.data.slice(), 1280, 720), { quick });
    empty.push(performance.now() - started);
  }
  return { out, empty };
}"""


def summarise(photos: list[Photo], rows: list[list[Any]]) -> dict[str, Any]:
    by_name = {photo.file: photo for photo in photos}
    per: dict[str, list[int]] = {}
    misreads, errors = [], []
    for name, texts, _, note in rows:
        photo = by_name[name]
        correct, wrong = judge(photo, texts)
        counts = per.setdefault(photo.symbology, [0, 0, 0])
        counts[0] += 1
        counts[1] += correct
        counts[2] += bool(wrong)
        misreads += [{"file": name, "expected": photo.expected, "read": text} for text in wrong]
        if isinstance(note, str):
            errors.append({"file": name, "error": note})
    wall = [row[2] for row in rows]
    decoded = sum(c[1] for c in per.values())
    out = {"photos": len(rows), "decoded": decoded, "rate": round(decoded / len(rows), 4),
           "misread_photos": sum(c[2] for c in per.values()),
           "per_symbology": {s: {"photos": c[0], "decoded": c[1], "misread_photos": c[2]} for s, c in sorted(per.items())},
           "ms": {"p50": percentile(wall, 50), "p95": percentile(wall, 95), "max": round(max(wall), 1)},
           "misreads": misreads, "errors": errors}
    worker = [row[3] for row in rows if isinstance(row[3], (int, float))]
    if worker:
        out["worker_ms"] = {"p50": percentile(worker, 50), "p95": percentile(worker, 95), "max": round(max(worker), 1)}
    return out


def measure(browser: Any, server: Server, photos: list[Photo]) -> dict[str, Any]:
    payload = [[photo.file, base64.b64encode(photo.data).decode()] for photo in photos]
    context = browser.new_context(**PHONE, service_workers="allow")
    context.add_init_script(NO_DETECTOR)
    phone = Phone(context, server).open().sign_in("olga")
    assert phone.page.evaluate("'BarcodeDetector' in window") is False
    server_rows = phone.page.evaluate(SERVER, payload)
    phone.offline()
    sides = {"server": summarise(photos, server_rows)}
    for side, quick in (("phone", False), ("phone_quick", True)):
        answer = phone.page.evaluate(PHONE_READER, [payload, quick])
        if "failed" in answer:
            raise SystemExit(answer["failed"])
        sides[side] = summarise(photos, answer["out"])
        sides[side]["empty_1280x720_frame_ms"] = {"median": round(sorted(answer["empty"])[2], 1), "max": round(max(answer["empty"]), 1)}
    context.close()
    return sides


def show(result: dict[str, Any]) -> None:
    sides = {"server /api/decode": result["server"], "phone, offline": result["phone"], "phone, quick pass": result["phone_quick"]}
    print(f"{'':16}" + "".join(f"{name:>22}" for name in sides))
    for s in sorted(result["server"]["per_symbology"]):
        print(f"{s:16}" + "".join(f"{side['per_symbology'][s]['decoded']:>18}/{side['per_symbology'][s]['photos']:<3}" for side in sides.values()))
    print(f"{'overall':16}" + "".join(f"{side['decoded']:>11}/{side['photos']:<3} ({side['rate']:.1%})" for side in sides.values()))
    print(f"{'misread photos':16}" + "".join(f"{side['misread_photos']:>22}" for side in sides.values()))
    print(f"{'ms p50 / p95':16}" + "".join(f"{side['ms']['p50']:>13} / {side['ms']['p95']:<6}" for side in sides.values()))
    print(f"{'empty frame ms':16}{'':22}" + "".join(f"{side['empty_1280x720_frame_ms']['median']:>22}" for side in list(sides.values())[1:]))
    for name, side in sides.items():
        for wrong in side["misreads"]:
            print(f"  misread by {name}: {wrong['file']} expected {wrong['expected']!r} read {wrong['read']!r}")
        for error in side["errors"]:
            print(f"  error on {name}: {error['file']}: {error['error']}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", nargs="?", type=Path, default=DATASET)
    parser.add_argument("--url", help="an already running server seeded by tests/e2e/server.py")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    photos = load_photos(args.folder)
    result: dict[str, Any] = {"benchmark": "phone_decode", "when": datetime.now(UTC).isoformat(timespec="seconds"),
                              "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "load_average": os.getloadavg()},
                              "browser": CHROMIUM, "dataset": str(args.folder), "size": shell_size()}
    size = result["size"]
    print(f"shell: {size['uncompressed_bytes'] / 1000:.1f} KB (gzip {size['gzip_bytes'] / 1000:.1f} KB), its JavaScript "
          f"{size['js_bytes'] / 1000:.1f} KB (target ≤ 150 KB); "
          f"reader apart: {size['reader_bytes'] / 1000:.1f} KB (gzip {size['reader_gzip_bytes'] / 1000:.1f} KB)")
    with tempfile.TemporaryDirectory() as tmp:
        server = Server(url=args.url.rstrip("/"), process=None, env={}) if args.url else start_server(Path(tmp), Path(tmp) / "server.log")
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                result.update(measure(browser, server, photos))
                browser.close()
        finally:
            server.stop()
    show(result)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "phone_decode.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {args.out / 'phone_decode.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
