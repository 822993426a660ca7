"""Decoder benchmark: Gemba's decoder next to plain pyzbar and plain zxing-cpp on a folder of photos.

    .venv/bin/python -m tests.benchmarks.bench_decode [FOLDER] [--repeats 3] [--seed 0] [--select]

FOLDER (default /work/shared/data/barcodes) holds a manifest.csv with `file`, `symbology` and
`expected_text`. A decode is correct when the expected text is among the decoded texts after removing
GS characters, trimming whitespace and dropping a leading AIM identifier (UPC-A may come as EAN-13
with a leading 0). A misread is any other text returned, except codes known to be printed in the
photo beside the expected one (`OTHER_CODES_IN_PHOTO`, checked by eye). Latency is per image, from
bytes to symbols at the original size, the median of `--repeats` runs; percentiles over images.

Held out: the photos are split in two halves by a fixed seed, per symbology and keeping every photo
of one code (same expected text) on the same side, so that near-duplicate shots cannot leak. The
numbers on the test half are for photos the cascade was not chosen on. `--select` re-runs that
choice: a greedy search over candidate steps on the training half (best gain in correct reads per
millisecond of CPU, pairs of steps when no single step gains, then the budget left spent on steps
that read most photos alone; no misread allowed, the whole cascade within a CPU budget on the photos
and on them enlarged to full working frames), prints the cascade to put in `server/scan/decode.py`
and its numbers on the test half, and runs the same procedure over ten seeds beside plain
zxing-cpp and pyzbar on the same test halves.
"""

from __future__ import annotations

import argparse
import csv
import io
import itertools
import json
import os
import platform
import random
import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyzbar.pyzbar as pyzbar
import zxingcpp
from PIL import Image

from server.scan.decode import CASCADE, WORK_SIDE, Step, decide, decode, load
from server.scan.prepare import PREPARE

DATASET = Path("/work/shared/data/barcodes")
RESULTS = Path(__file__).resolve().parent / "results"
LIMITS = {"max_bytes": 64_000_000, "max_pixels": 100_000_000}
# Codes printed beside the expected one in the same photo (their human-readable text is visible).
OTHER_CODES_IN_PHOTO = {
    "code39/code39-3_02.png": {"001EC947D49B"},  # a second Code 39 label below the first
    **{f"ean13/ean13-2_{n}.png": {"1920081045006"} for n in (14, 17, 19, 21)},  # a Japanese book's price code
}
SELECT_BUDGET_MS = 30.0  # CPU ms: the mean cost of the whole cascade (an unreadable photo) on the training half
FRAME_BUDGET_MS = 60.0  # CPU ms: the same on those photos enlarged to a full working frame (WORK_SIDE px), as
# a phone sends them: most photos of the set are small, and a cascade's cost grows with the pixels
SEEDS = range(10)


@dataclass(frozen=True)
class Photo:
    file: str
    symbology: str
    expected: str
    data: bytes


def load_photos(folder: Path) -> list[Photo]:
    with (folder / "manifest.csv").open(newline="") as handle:
        return [
            Photo(row["file"], row["symbology"], row["expected_text"], (folder / row["file"]).read_bytes())
            for row in csv.DictReader(handle)
        ]


def _clean(text: str) -> str:
    text = text.replace("\x1d", "").strip()
    return text[3:] if text.startswith("]") and len(text) >= 3 else text


def judge(photo: Photo, texts: list[str]) -> tuple[bool, list[str]]:
    """(correct, misread texts)."""
    wanted = {_clean(photo.expected)}
    if photo.symbology == "upca":
        wanted.add("0" + _clean(photo.expected))
    cleaned = [_clean(text) for text in texts]
    allowed = wanted | OTHER_CODES_IN_PHOTO.get(photo.file, set())
    return bool(wanted & set(cleaned)), [text for text in cleaned if text not in allowed]


def split(photos: list[Photo], seed: int) -> tuple[list[Photo], list[Photo]]:
    """Training and test halves: per symbology, the distinct codes in a shuffled order, each with all
    its photos, go to whichever half has fewer photos of that symbology so far."""
    by_code: dict[tuple[str, str], list[Photo]] = defaultdict(list)
    for photo in photos:
        by_code[(photo.symbology, photo.expected)].append(photo)
    rng = random.Random(seed)
    train: list[Photo] = []
    test: list[Photo] = []
    for symbology in sorted({s for s, _ in by_code}):
        codes = sorted(code for s, code in by_code if s == symbology)
        rng.shuffle(codes)
        sizes = [0, 0]
        for code in codes:
            side = 0 if sizes[0] < sizes[1] or (sizes[0] == sizes[1] and rng.random() < 0.5) else 1
            (train, test)[side].extend(by_code[(symbology, code)])
            sizes[side] += len(by_code[(symbology, code)])
    return train, test


# ---- the decoders ----------------------------------------------------------------------------------
def gemba(data: bytes) -> list[str]:
    return [symbol.text for symbol in decode(data, **LIMITS)]


def plain_pyzbar(data: bytes) -> list[str]:
    return [found.data.decode("utf-8", errors="replace") for found in pyzbar.decode(Image.open(io.BytesIO(data)))]


def plain_zxing(data: bytes) -> list[str]:
    image = Image.open(io.BytesIO(data))
    return [found.text for found in zxingcpp.read_barcodes(image, text_mode=zxingcpp.TextMode.Plain)]


DECODERS: dict[str, Callable[[bytes], list[str]]] = {"gemba": gemba, "pyzbar": plain_pyzbar, "zxing-cpp": plain_zxing}


def run(decoder: Callable[[bytes], list[str]], photos: list[Photo], repeats: int) -> dict[str, tuple[list[str], list[tuple[float, float]]]]:
    """file → (texts, (wall ms, CPU ms) of each repeat); repeats go over the whole set in turn."""
    out: dict[str, tuple[list[str], list[tuple[float, float]]]] = {p.file: ([], []) for p in photos}
    for _ in range(repeats):
        for photo in photos:
            wall, cpu = time.perf_counter(), time.thread_time()
            texts = decoder(photo.data)
            out[photo.file][1].append(((time.perf_counter() - wall) * 1000, (time.thread_time() - cpu) * 1000))
            out[photo.file][0][:] = texts
    return out


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))], 2)


def summarise(photos: list[Photo], results: dict[str, tuple[list[str], list[tuple[float, float]]]]) -> dict[str, Any]:
    per: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])  # photos, correct, misread photos
    misreads = []
    for photo in photos:
        texts, _ = results[photo.file]
        correct, wrong = judge(photo, texts)
        counts = per[photo.symbology]
        counts[0] += 1
        counts[1] += correct
        counts[2] += bool(wrong)
        misreads += [{"file": photo.file, "expected": photo.expected, "read": text} for text in wrong]
    median = [statistics.median(wall for wall, _ in results[p.file][1]) for p in photos]
    best = [min(wall for wall, _ in results[p.file][1]) for p in photos]
    cpu = [statistics.median(cpu for _, cpu in results[p.file][1]) for p in photos]
    n, ok = len(photos), sum(c[1] for c in per.values())
    return {
        "photos": n, "decoded": ok, "rate": round(ok / n, 4), "misread_photos": sum(c[2] for c in per.values()),
        "per_symbology": {s: {"photos": c[0], "decoded": c[1], "rate": round(c[1] / c[0], 4), "misread_photos": c[2]}
                          for s, c in sorted(per.items())},
        "latency_ms": {"p50": percentile(median, 50), "p95": percentile(median, 95), "max": round(max(median), 2),
                       "best_of_repeats_p50": percentile(best, 50), "best_of_repeats_p95": percentile(best, 95),
                       "cpu_p50": percentile(cpu, 50), "cpu_p95": percentile(cpu, 95)},
        "misreads": misreads,
    }


def show(title: str, summaries: dict[str, dict[str, Any]]) -> None:
    names = list(summaries)
    print(f"\n{title}\n{'':14}" + "".join(f"{name:>18}" for name in names))
    symbologies = sorted({s for summary in summaries.values() for s in summary["per_symbology"]})
    for s in symbologies:
        cells = [summaries[name]["per_symbology"].get(s) for name in names]
        print(f"{s:14}" + "".join(f"{c['decoded']:>6}/{c['photos']:<3} {c['decoded'] / c['photos']:6.1%}  " if c else f"{'-':>18}" for c in cells))
    print(f"{'overall':14}" + "".join(f"{summaries[n]['decoded']:>6}/{summaries[n]['photos']:<3} {summaries[n]['decoded'] / summaries[n]['photos']:6.1%}  " for n in names))
    print(f"{'misread photos':14}" + "".join(f"{summaries[n]['misread_photos']:>18}" for n in names))
    for key in ("p50", "p95", "best_of_repeats_p50", "best_of_repeats_p95", "cpu_p50", "cpu_p95"):
        print(f"{key.replace('best_of_repeats_', 'best ').replace('_', ' ') + ' ms':14}" + "".join(f"{summaries[n]['latency_ms'][key]:>18.2f}" for n in names))
    for name in names:
        for wrong in summaries[name]["misreads"]:
            print(f"  misread by {name}: {wrong['file']} expected {wrong['expected']!r} read {wrong['read']!r}")


# ---- choosing the cascade ------------------------------------------------------------------------
CANDIDATES = [
    Step(engine, prepare, binarizer, thorough)
    for prepare, how in PREPARE.items()
    for engine, binarizer, thorough in (("zbar", "local", False), ("zxing", "local", False), ("zxing", "local", True),
                                        ("zxing", "histogram", False), ("zxing", "histogram", True), ("zxing", "fixed", False))
    if not (how.binarized and binarizer == "fixed")  # a fixed threshold of black and white is the image itself
]


@dataclass
class Trial:
    """Every candidate step's reads on one photo, and what each costs; `frame_ms`, what each costs
    on the photo enlarged to a full working frame (prepared copies included, once per copy)."""

    load_ms: float
    prepare_ms: dict[str, float]
    steps: dict[Step, tuple[list, float]]
    frame_ms: dict[Step, float]
    frame_prepare_ms: dict[str, float]


def _prepare_all(gray: Image.Image) -> tuple[dict[str, Image.Image], dict[str, float]]:
    prepared, prepare_ms = {}, {}
    for name, how in PREPARE.items():
        start = time.thread_time()
        prepared[name] = how.function(gray)
        prepare_ms[name] = (time.thread_time() - start) * 1000
    return prepared, prepare_ms


def trials(photos: list[Photo]) -> dict[str, Trial]:
    out = {}
    for photo in photos:
        start = time.thread_time()
        gray = load(photo.data, **LIMITS)
        load_ms = (time.thread_time() - start) * 1000
        prepared, prepare_ms = _prepare_all(gray)
        steps = {}
        for step in CANDIDATES:
            times = []
            for _ in range(2):
                start = time.thread_time()
                reads = step.run(gray, prepared)
                times.append((time.thread_time() - start) * 1000)
            steps[step] = (reads, min(times))
        factor = WORK_SIDE / max(gray.size)
        frame = gray.resize((round(gray.width * factor), round(gray.height * factor)), Image.BICUBIC)
        frame_prepared, frame_prepare_ms = _prepare_all(frame)
        frame_ms = {}
        for step in CANDIDATES:
            start = time.thread_time()
            step.run(frame, frame_prepared)
            frame_ms[step] = (time.thread_time() - start) * 1000
        out[photo.file] = Trial(load_ms, prepare_ms, steps, frame_ms, frame_prepare_ms)
        print(".", end="", flush=True)
    print()
    return out


def frame_cost(trial: Trial, cascade: list[Step]) -> float:
    """CPU ms of the whole cascade on the photo as a full working frame."""
    prepares = {step.prepare for step in cascade} - {"gray"}
    return sum(trial.frame_ms[step] for step in cascade) + sum(trial.frame_prepare_ms[name] for name in prepares)


def simulate(trial: Trial, cascade: list[Step]) -> tuple[list[str], float, float]:
    """(texts, ms until the cascade stopped, ms of the whole cascade) as decode_image would run it."""
    reads: list = []
    spent, stopped, texts, seen = trial.load_ms, None, [], set()
    for step in cascade:
        if step.prepare not in seen and step.prepare != "gray":
            spent += trial.prepare_ms[step.prepare]
            seen.add(step.prepare)
        step_reads, ms = trial.steps[step]
        spent += ms
        reads += step_reads
        if stopped is None and (symbols := decide(reads)):
            texts, stopped = [s.text for s in symbols], spent
    return texts, spent if stopped is None else stopped, spent


def score(photos: list[Photo], table: dict[str, Trial], cascade: list[Step]) -> tuple[int, int, float, float, float]:
    """(correct, misread photos, mean ms, mean ms of the whole cascade, mean ms of it on full frames)."""
    correct = misread = 0
    total = full = 0.0
    for photo in photos:
        texts, ms, whole = simulate(table[photo.file], cascade)
        ok, wrong = judge(photo, texts)
        correct += ok
        misread += bool(wrong)
        total += ms
        full += whole
    frames = statistics.mean(frame_cost(table[photo.file], cascade) for photo in photos)
    return correct, misread, total / len(photos), full / len(photos), frames


def _within_budget(trial: tuple[int, int, float, float, float]) -> bool:
    return trial[3] <= SELECT_BUDGET_MS and trial[4] <= FRAME_BUDGET_MS


def _reads_right(photo: Photo, reads: list) -> bool:
    correct, wrong = judge(photo, [read.text for read in reads])
    return correct and not wrong


def _frame_cost(photos: list[Photo], table: dict[str, Trial], step: Step) -> float:
    """The mean CPU ms of one step (and its copy) on the photos as full working frames."""
    return statistics.mean(table[p.file].frame_ms[step] + (table[p.file].frame_prepare_ms[step.prepare] if step.prepare != "gray" else 0)
                           for p in photos)


def select(photos: list[Photo], table: dict[str, Trial]) -> list[Step]:
    """Greedy, in two phases, never accepting a misread on the training photos nor a whole cascade
    over the budget. 1. Add the move with the most extra correct photos per extra millisecond; a
    move is one step or, when no single step gains, two steps at once (a linear code needs two
    independent reads: two steps that each give one gain nothing alone). 2. With the budget left,
    add the steps that read the most training photos right on their own per millisecond on a full
    frame: second opinions for photos unlike the training ones, where phase 1 has no evidence."""
    cascade: list[Step] = []
    current = score(photos, table, cascade)
    while move := _best_move(photos, table, cascade, current):
        cascade += move[0]
        current = move[1]
    standalone = {step: sum(_reads_right(p, table[p.file].steps[step][0]) for p in photos) / max(_frame_cost(photos, table, step), 0.3)
                  for step in CANDIDATES if step not in cascade}
    for step in sorted(standalone, key=lambda step: -standalone[step]):
        trial = score(photos, table, [*cascade, step])
        if trial[1] == 0 and _within_budget(trial) and trial[0] >= current[0]:
            cascade.append(step)
            current = trial
    return cascade


def _best_move(photos: list[Photo], table: dict[str, Trial], cascade: list[Step], current: tuple) -> tuple | None:
    best = None

    def consider(move: tuple[Step, ...]) -> None:
        nonlocal best
        trial = score(photos, table, [*cascade, *move])
        gain = trial[0] - current[0]
        if gain <= 0 or trial[1] > 0 or not _within_budget(trial):
            return
        value = gain / max(trial[2] - current[2], 0.05)
        if best is None or value > best[0]:
            best = (value, move, trial)

    for step in CANDIDATES:
        if step not in cascade:
            consider((step,))
    if best is None:  # pairs of the steps that read right some photo the cascade does not decode yet
        missed = [p for p in photos if not judge(p, simulate(table[p.file], cascade)[0])[0]]
        useful = [step for step in CANDIDATES if step not in cascade
                  and any(judge(p, [read.text for read in table[p.file].steps[step][0]])[0] for p in missed)]
        for pair in itertools.combinations(useful, 2):
            consider(pair)
    return None if best is None else (list(best[1]), best[2])


def selection_report(photos: list[Photo], seed: int) -> dict[str, Any]:
    print(f"trying {len(CANDIDATES)} candidate steps on every photo", end="")
    table = trials(photos)
    train, test = split(photos, seed)
    chosen = select(train, table)
    print(f"\nchosen on the training half of seed {seed} ({len(train)} photos):")
    for step in chosen:
        print(f"    {step!r},")
    ok, bad, ms, _, frames = score(test, table, chosen)
    print(f"on its test half: {ok}/{len(test)} = {ok / len(test):.1%}, misread photos {bad}, mean {ms:.1f} ms, "
          f"whole cascade on a full frame {frames:.1f} ms (simulated CPU)")
    seeds = []
    for other in SEEDS:
        other_train, other_test = split(photos, other)
        cascade = select(other_train, table)
        ok, bad, _, _, _ = score(other_test, table, cascade)
        per: dict[str, list[int]] = defaultdict(lambda: [0, 0])  # decoded, photos
        for photo in other_test:
            per[photo.symbology][0] += judge(photo, simulate(table[photo.file], cascade)[0])[0]
            per[photo.symbology][1] += 1
        seeds.append({"seed": other, "test_photos": len(other_test), "decoded": ok, "rate": round(ok / len(other_test), 4),
                      "misread_photos": bad, "steps": len(cascade), "per_symbology": dict(sorted(per.items()))})
    return {"seed": seed, "chosen": [str(s) for s in chosen], "shipped": [str(s) for s in CASCADE], "over_seeds": seeds}


def compare_over_seeds(photos: list[Photo], selection: dict[str, Any], results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The selection procedure's held-out rate on every seed beside the plain engines' on the same
    halves; per symbology, the photos decoded over all ten test halves together."""
    gemba = "gemba (chosen on the training half)"
    rates: dict[str, list[float]] = {gemba: [s["rate"] for s in selection["over_seeds"]]}
    per: dict[str, dict[str, list[int]]] = {gemba: defaultdict(lambda: [0, 0])}
    for seed in selection["over_seeds"]:
        for symbology, (decoded, count) in seed["per_symbology"].items():
            per[gemba][symbology][0] += decoded
            per[gemba][symbology][1] += count
    for name in ("zxing-cpp", "pyzbar"):
        rates[name], per[name] = [], defaultdict(lambda: [0, 0])
        for seed in SEEDS:
            _, test = split(photos, seed)
            rates[name].append(sum(judge(p, results[name][p.file][0])[0] for p in test) / len(test))
            for photo in test:
                per[name][photo.symbology][0] += judge(photo, results[name][photo.file][0])[0]
                per[name][photo.symbology][1] += 1
    print(f"\nheld-out rate over seeds {SEEDS.start}..{SEEDS.stop - 1} (misread photos of the procedure: "
          f"{sum(s['misread_photos'] for s in selection['over_seeds'])}):")
    for name, values in rates.items():
        print(f"    {name:38} mean {statistics.mean(values):6.1%}  min {min(values):6.1%}  max {max(values):6.1%}")
    print(f"    {'per symbology, all ten test halves':38}" + "".join(f"{name.split()[0]:>12}" for name in per))
    for symbology in sorted(per[gemba]):
        print(f"    {symbology:38}" + "".join(f"{per[n][symbology][0] / per[n][symbology][1]:>12.1%}" for n in per))
    return {name: {"mean": round(statistics.mean(v), 4), "min": round(min(v), 4), "max": round(max(v), 4),
                   "per_symbology": {s: round(d / c, 4) for s, (d, c) in sorted(per[name].items())}}
            for name, v in rates.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", nargs="?", type=Path, default=DATASET)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--select", action="store_true", help="re-run the choice of the cascade")
    args = parser.parse_args()
    photos = load_photos(args.folder)
    payload: dict[str, Any] = {"dataset": str(args.folder), "repeats": args.repeats, "seed": args.seed,
                               "cascade": [str(step) for step in CASCADE]}
    if args.select:
        payload["selection"] = selection_report(photos, args.seed)
    _, test = split(photos, args.seed)
    results = {name: run(decoder, photos, args.repeats) for name, decoder in DECODERS.items()}
    full = {name: summarise(photos, result) for name, result in results.items()}
    held_out = {name: summarise(test, result) for name, result in results.items()}
    show(f"all {len(photos)} photos ({args.folder})", full)
    show(f"held-out half, seed {args.seed}: {len(test)} photos the cascade was not chosen on", held_out)
    payload.update(full_set=full, held_out=held_out)
    if args.select:
        payload["selection"]["held_out_over_seeds"] = compare_over_seeds(photos, payload["selection"], results)
    payload = {"benchmark": "decode", "when": datetime.now(UTC).isoformat(timespec="seconds"),
               "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
               **payload}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "decode.json").write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
    print(f"\nwritten {RESULTS / 'decode.json'}")


if __name__ == "__main__":
    main()
