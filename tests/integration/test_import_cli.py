"""`gemba import` and `gemba export` as an admin types them (the first as a subprocess, the others run by the same
`main` in this process: tests/integration/test_cli.py `gemba_here`) on a fresh database (SQLite, and
PostgreSQL when configured): exit status, the summary and the refused rows on standard output, progress on
standard error (plain lines: not a terminal), the --skip-bad-rows file, a refused file, the exports and a
template."""

from __future__ import annotations

from pathlib import Path

from server.importing.table import read_table
from tests.integration.test_cli import database_url, gemba, gemba_here  # noqa: F401 - fixture

PARTS = "part_number;tracking;description;serial_pattern\nPUMP;serial;Pump;\nSCREW;untracked;Schraube M3;\n"
LOCATIONS = "code,name\nPLANT/STORES/SHELF-1,Shelf 1\nPLANT/DOCK,Dock\n"
STOCK = ("part,location,quantity,serial,unit_cost,supplier\n"
         "SCREW,PLANT/STORES/SHELF-1,100,,0.05,Acme\nPUMP,PLANT/DOCK,1,P-1,700,\nPUMP,PLANT/DOCK,1,,,\n"
         "NOPE,PLANT/DOCK,1,,,\n")


def test_import_and_export_from_the_command_line(database_url: str, tmp_path: Path) -> None:  # noqa: F811
    files = {name: tmp_path / f"{name}.csv" for name in ("parts", "locations", "stock")}
    for name, text in (("parts", PARTS), ("locations", LOCATIONS), ("stock", STOCK)):
        files[name].write_text(text, encoding="utf-8")

    parts = gemba(database_url, "import", "parts", str(files["parts"]))
    assert parts.returncode == 0, parts.stderr
    assert parts.stdout.startswith("parts: 2 rows — 2 created (applied; ")
    assert "parts: checking 2 of 2 rows\n" in parts.stderr and "parts: applying 2 of 2 rows\n" in parts.stderr
    assert gemba_here(database_url, "import", "locations", str(files["locations"])).returncode == 0

    dry = gemba_here(database_url, "import", "stock", str(files["stock"]), "--dry-run")
    assert dry.returncode == 1
    assert dry.stdout.splitlines() == [
        "row 4: serial: PUMP has no serial pattern: give the serial",
        "row 5: part: No part NOPE: import it first (gemba import parts)",
        dry.stdout.splitlines()[-1],
    ]
    assert dry.stdout.splitlines()[-1].startswith("stock: 4 rows — 2 received, 2 refused (dry run: nothing was changed; ")
    nothing = gemba_here(database_url, "import", "stock", str(files["stock"]))
    assert nothing.returncode == 1 and "nothing was imported: fix the refused rows" in nothing.stdout

    bad = tmp_path / "bad.csv"
    skipped = gemba_here(database_url, "import", "stock", str(files["stock"]), "--skip-bad-rows", str(bad))
    assert skipped.returncode == 1
    assert f"the refused rows, with an error column, are in {bad}" in skipped.stdout
    assert "2 received, 2 refused (applied without the refused rows" in skipped.stdout
    assert [(r.row, r.cells["part"], r.cells["error"]) for r in read_table(bad.read_bytes()).records] == [
        (2, "PUMP", "row 4: serial: PUMP has no serial pattern: give the serial"),
        (3, "NOPE", "row 5: part: No part NOPE: import it first (gemba import parts)"),
    ]
    again = gemba_here(database_url, "import", "stock", str(files["stock"]), "--skip-bad-rows", str(bad))
    assert "2 imported already, 2 refused" in again.stdout

    exported = gemba_here(database_url, "export", "stock", "-")
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout.splitlines() == [
        "part,location,quantity,serial,lot,unit_cost,package_price,package_ref,expiry,supplier",
        "PUMP,PLANT/DOCK,1,P-1,,700.00,,,,",
        "SCREW,PLANT/STORES/SHELF-1,100,,,0.05,,,,Acme",
    ]
    locations = tmp_path / "out-locations.csv"
    assert gemba_here(database_url, "export", "locations", str(locations)).returncode == 0
    assert [list(r.cells.values()) for r in read_table(locations.read_bytes()).records] == [
        ["PLANT", "", "", "normal", "true"], ["PLANT/DOCK", "Dock", "PLANT", "normal", "true"],
        ["PLANT/STORES", "", "PLANT", "normal", "true"], ["PLANT/STORES/SHELF-1", "Shelf 1", "PLANT/STORES", "normal", "true"],
    ]
    template = tmp_path / "template.csv"
    assert gemba_here(database_url, "export", "parts", str(template), "--template").returncode == 0
    assert template.read_bytes() == "\ufeffpart_number,description,unit,tracking,revision,serial_pattern,lot_pattern,quantity_places,packs\r\n".encode()


def test_a_file_that_does_not_fit_is_refused_whole(database_url: str, tmp_path: Path) -> None:  # noqa: F811
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("part_number,colour\nP,red\n", encoding="utf-8")
    refused = gemba_here(database_url, "import", "parts", str(wrong))
    assert refused.returncode == 2
    assert refused.stderr.strip() == ("gemba: wrong.csv refused: Unknown column 'colour': the columns of parts are "
                                      "part_number, description, unit, tracking, revision, serial_pattern, lot_pattern, quantity_places, "
                                      "packs "
                                      "(download the template)")
    missing = gemba_here(database_url, "import", "parts", str(tmp_path / "absent.csv"))
    assert missing.returncode == 2 and "no file" in missing.stderr
