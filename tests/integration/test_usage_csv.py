"""The usage CSV at size (issue 17): every record of the filters, oldest first, read from the database a batch at a
time and written as it comes — the same records, times and costs as `GET /api/usage`, on both engines."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import uuid4

from sqlalchemy import insert, select

from server.costs.read import STREAM_ROWS
from server.db import Database
from server.models import Location, Part, UsageRecord
from tests.integration.ops_support import shop  # noqa: F401 - fixture

RECORDS = 2 * STREAM_ROWS + 7  # three batches


async def test_the_csv_has_every_record_in_order_with_the_jsons_times_and_exact_costs(shop: Any, db: Database) -> None:
    async with db.read() as session:
        part = await session.scalar(select(Part.id).where(Part.part_number == "BULK"))
        places = dict((await session.execute(select(Location.code, Location.id))).all())
    start = datetime(2026, 1, 1, 8, 0, 0, 250_000, tzinfo=UTC)
    async with db.write() as session:  # a tenth of a cent at a time: float sums would drift
        await session.execute(insert(UsageRecord), [
            {"id": uuid4(), "op_id": uuid4(), "op_type": "remove" if n % 2 else "scrap", "part_id": part,
             "location_id": places["SHELF" if n % 3 else "DOCK"], "serial": None, "lot": None, "quantity": 1 + n % 4,
             "cost": Decimal("0.1") + Decimal(n % 10) / 1000, "reason": "maintenance" if n % 2 else "bent",
             "reference": f"WO-{n}" if n % 2 else None, "actor": "sam", "used_at": start + timedelta(minutes=n)}
            for n in range(RECORDS)
        ])

    response = await shop.get("/api/usage.csv", params={"part": "BULK"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == RECORDS
    assert [row["reference"] for row in rows[:3]] == ["", "WO-1", ""]  # oldest first; no reference: empty
    assert rows[0]["used_at"] == "2026-01-01T08:00:00.250000Z" and rows[-1]["used_at"] == "2026-01-08T06:46:00.250000Z"
    assert (rows[1]["op_type"], rows[1]["location"], rows[1]["quantity"], rows[1]["cost"]) == ("remove", "SHELF", "2", "0.101")
    page = (await shop.get("/api/usage", params={"part": "BULK", "limit": 2})).json()
    assert [(item["used_at"], item["op_id"], item["cost"]) for item in page["items"]] == [
        (row["used_at"], row["op_id"], row["cost"]) for row in rows[:2]
    ]
    assert str(sum(Decimal(row["cost"]) for row in rows)) == page["total_cost"] == "1045.721"  # to the tenth of a cent
    bent = list(csv.DictReader(io.StringIO((await shop.get("/api/usage.csv", params={"reason": "bent"})).text)))
    assert len(bent) == STREAM_ROWS + 4 and {row["op_type"] for row in bent} == {"scrap"}
