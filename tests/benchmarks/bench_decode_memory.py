"""Memory of POST /api/decode: the server's peak RSS while phones send large 16-bit RGBA PNGs at once.

    .venv/bin/python -m tests.benchmarks.bench_decode_memory [--side 4990] [--images 8] [--concurrency N]

A real server (`uvicorn server.app:create_app --factory`, one process, SQLite) is started; its resident
memory is read from /proc (VmRSS now, VmHWM: the peak so far) after start-up and after one warm-up decode
of a small photo (the decoders' own libraries loaded), then `--images` requests each POST the same PNG at
once: `--side`² pixels (4990² is just under the default 25,000,000-pixel limit), 16 bits per channel, RGBA,
white and opaque with a QR code in the middle — a file of ~230 KB that decodes to 100 MB of RGBA pixels.
Reported: the peak RSS before and after, its growth, the growth per decode running at the same time (the
decode slots, at most), and each answer
(200 with the QR code read, or 503 `decoder-busy` when every decode slot stayed taken for the wait).
`--concurrency` sets GEMBA_DECODE_CONCURRENCY for the server (default: the server's, the CPU count).

PNG is written here (zlib and the chunks by hand; the QR code drawn by zxing-cpp through Pillow): Pillow
writes 16-bit PNGs of one grey channel only.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import struct
import tempfile
import time
import zlib
from pathlib import Path
from typing import Any

import httpx
import zxingcpp
from PIL import Image

from tests.benchmarks.common import PASSWORD, Server, add_users, create_schema, scratch_database, write_result

QR_TEXT = "GEMBA-MEMORY-0001"


def qr_code(scale: int) -> Image.Image:
    pixels = memoryview(zxingcpp.create_barcode(QR_TEXT, zxingcpp.BarcodeFormat.QRCode).to_image(scale=scale))
    return Image.frombytes("L", (pixels.shape[1], pixels.shape[0]), pixels.tobytes())


def png16_rgba(side: int) -> bytes:
    """A `side`×`side` PNG, 16 bits per channel, RGBA: white and opaque, a QR code a third as wide in the middle."""
    symbol = qr_code(max(1, side // 3 // 29))  # a version-2 QR code is 25 modules and a quiet zone
    rgba16 = {level: bytes([level, level, level, level, level, level, 255, 255]) for level in range(256)}
    white_row = b"\x00" + rgba16[255] * side  # filter byte 0, then the pixels
    top, left = (side - symbol.height) // 2, (side - symbol.width) // 2
    rows: dict[bytes, bytes] = {}
    compressor = zlib.compressobj(6)
    parts = []
    for y in range(side):
        row = white_row
        if top <= y < top + symbol.height:
            grey = symbol.crop((0, y - top, symbol.width, y - top + 1)).tobytes()
            if grey not in rows:  # a QR code's rows repeat `scale` times
                rows[grey] = (b"\x00" + rgba16[255] * left + b"".join(rgba16[v] for v in grey)
                              + rgba16[255] * (side - left - symbol.width))
            row = rows[grey]
        parts.append(compressor.compress(row))
    parts.append(compressor.flush())

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", side, side, 16, 6, 0, 0, 0)  # 16-bit, colour type 6: RGBA
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", b"".join(parts)) + chunk(b"IEND", b"")


def memory_mb(pid: int) -> dict[str, float]:
    """The process's resident memory now (VmRSS) and its peak so far (VmHWM), in MB."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return {key: round(int(fields[key].split()[0]) / 1024, 1) for key in ("VmRSS", "VmHWM")}


async def measure(args: argparse.Namespace, image: bytes, tmp: Path) -> dict[str, Any]:
    if args.concurrency:
        os.environ["GEMBA_DECODE_CONCURRENCY"] = str(args.concurrency)
    async with scratch_database("sqlite", tmp) as url:
        await create_schema(url)
        await add_users(url, ["scanner"])
        async with Server(url, tmp / "server.log") as server:
            pid = server.process.pid
            async with httpx.AsyncClient(base_url=server.base_url, timeout=300) as client:
                signed_in = await client.post("/api/auth/token", json={"username": "scanner", "password": PASSWORD})
                headers = {"Authorization": f"Bearer {signed_in.json()['access_token']}", "Content-Type": "image/png"}
                started = memory_mb(pid)
                warm_up = io.BytesIO()  # a 300 px QR code: the decoders' libraries loaded
                qr_code(10).save(warm_up, "PNG")
                warmed = await client.post("/api/decode", content=warm_up.getvalue(), headers=headers)
                assert warmed.status_code == 200, warmed.text
                before = memory_mb(pid)
                began = time.perf_counter()
                answers = await asyncio.gather(*(client.post("/api/decode", content=image, headers=headers)
                                                 for _ in range(args.images)))
                seconds = time.perf_counter() - began
                after = memory_mb(pid)
    statuses = [answer.status_code for answer in answers]
    read = [answer.json()["symbols"] == [{"format": "qrcode", "text": QR_TEXT, "gs1": False}]
            for answer in answers if answer.status_code == 200]
    busy = [answer for answer in answers if answer.status_code == 503]
    decoded = statuses.count(200)
    at_once = min(decoded, args.concurrency or os.cpu_count() or 1)  # decodes that may have run side by side
    growth = round(after["VmHWM"] - before["VmHWM"], 1)
    return {
        "side": args.side, "pixels": args.side**2, "png_bytes": len(image), "images": args.images,
        "decode_concurrency": args.concurrency or "default (CPU count)",
        "rss_mb": {"started": started, "after_warm_up": before, "after": after},
        "peak_rss_mb": after["VmHWM"], "peak_growth_mb": growth,
        "decodes_at_once": at_once, "peak_growth_mb_per_decode_at_once": round(growth / at_once, 1) if at_once else None,
        "statuses": statuses, "all_decoded_read_the_code": all(read),
        "busy_answers": [{"type": b.json()["type"], "retry_after": b.headers.get("retry-after")} for b in busy],
        "seconds": round(seconds, 2),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--side", type=int, default=4990, help="the PNG's width and height in pixels")
    parser.add_argument("--images", type=int, default=8, help="requests sent at once")
    parser.add_argument("--concurrency", type=int, default=0, help="GEMBA_DECODE_CONCURRENCY (0: the server's default)")
    parser.add_argument("--out", type=Path, default=None, help="results directory (default tests/benchmarks/results)")
    args = parser.parse_args(argv)
    began = time.perf_counter()
    image = png16_rgba(args.side)
    print(f"a {args.side}x{args.side} 16-bit RGBA PNG: {len(image):,} bytes (made in {time.perf_counter() - began:.1f} s)")
    with tempfile.TemporaryDirectory(prefix="gemba-bench-decode-memory-") as tmp:
        result = asyncio.run(measure(args, image, Path(tmp)))
    print(f"peak RSS {result['rss_mb']['after_warm_up']['VmHWM']} MB after the warm-up -> {result['peak_rss_mb']} MB with "
          f"{args.images} at once (+{result['peak_growth_mb']} MB, {result['peak_growth_mb_per_decode_at_once']} MB for each of {result['decodes_at_once']} at once); "
          f"answers {result['statuses']}; every decoded one read the code: {result['all_decoded_read_the_code']}; "
          f"{result['seconds']} s")
    suffix = f"_c{args.concurrency}" if args.concurrency else ""
    print(f"wrote {write_result('decode_memory' + suffix, result, args.out)}")


if __name__ == "__main__":
    main()
