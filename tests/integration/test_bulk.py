"""server/db/bulk.py: rows inserted by `insert_rows` are stored exactly as SQLAlchemy's own insert stores them
(UUIDs, JSON including null, times, booleans, defaults), on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, insert, select

from server.db.bulk import insert_rows
from server.db import Database
from server.models import Movement, OpRecord
from sync.models import SyncConflict

AUDIT = {"id", "created_at", "updated_at"}


def op_row(**values: Any) -> dict[str, Any]:
    return {
        "op_id": uuid.uuid4(), "device_id": None, "seq": 7, "type": "move", "actor": "alice",
        "client_time": "2026-11-23T09:14:03Z", "body_hash": "ab" * 32,
        "body": {"type": "move", "args": {"part": "PN-1", "quantity": 2, "note": "ünïcode"}},
        "status": "applied", "reason": None, "message": None, "result": None, **values,
    }


async def stored(db: Database, table: Table, **where: Any) -> list[dict[str, Any]]:
    async with db.read() as session:
        rows = await session.execute(select(table).filter_by(**where))
        return [dict(row._mapping) for row in rows]


async def test_rows_are_stored_as_sqlalchemy_stores_them(db: Database) -> None:
    ours = [op_row(actor="bulk", result={"inventory_id": str(uuid.uuid4()), "moved": 2}), op_row(actor="bulk")]
    theirs = [{**row, "op_id": uuid.uuid4(), "actor": "core"} for row in ours]
    before = datetime.now(UTC)
    async with db.write() as session:
        await insert_rows(session, OpRecord.__table__, ours)
        await session.execute(insert(OpRecord.__table__), theirs)
    table = OpRecord.__table__
    ours_back, theirs_back = await stored(db, table, actor="bulk"), await stored(db, table, actor="core")
    strip = lambda rows: sorted(({k: v for k, v in r.items() if k not in AUDIT | {"op_id", "actor"}} for r in rows),
                                key=lambda r: str(r["result"]))  # noqa: E731
    assert strip(ours_back) == strip(theirs_back)
    assert {row["op_id"] for row in ours_back} == {row["op_id"] for row in ours}
    assert all(isinstance(row["id"], uuid.UUID) and row["id"].version == 7 for row in ours_back)
    assert all(row["created_at"] >= before and row["updated_at"] >= before for row in ours_back)
    assert [row["result"] for row in sorted(ours_back, key=lambda r: r["result"] is None)] == [ours[0]["result"], None]


async def test_a_column_left_out_gets_its_default_and_nulls_stay_null(db: Database) -> None:
    op = op_row()
    async with db.write() as session:
        await insert_rows(session, OpRecord.__table__, [op])
        await insert_rows(session, SyncConflict.__table__, [{
            "op_id": op["op_id"], "device_id": None, "kind": "held", "reason": "insufficient_quantity",
            "message": "A holds 1", "field": None,
        }])
        await insert_rows(session, Movement.__table__, [{
            "op_id": op["op_id"], "op_type": "move", "action": "Move", "actor": "alice", "device_id": None,
            "reason": None, "part_id": None, "inventory_id": None, "serial": None, "lot": None, "quantity": 3,
            "from_location_id": None, "to_location_id": None, "parent_serial": None,
        }][:0])  # nothing to write writes nothing
    (conflict,) = await stored(db, SyncConflict.__table__, op_id=op["op_id"])
    assert (conflict["details"], conflict["status"], conflict["field"], conflict["resolved_at"]) == ({}, "open", None, None)
    assert await stored(db, Movement.__table__, op_id=op["op_id"]) == []


async def test_rows_of_one_call_may_give_different_columns(db: Database) -> None:
    full, short = op_row(actor="mixed", client_time="2026-11-23T10:00:00Z"), op_row(actor="mixed")
    del short["client_time"], short["result"]  # left out: stored as null
    async with db.write() as session:
        await insert_rows(session, OpRecord.__table__, [full, short, op_row(actor="mixed", seq=9)])
    back = {row["op_id"]: row for row in await stored(db, OpRecord.__table__, actor="mixed")}
    assert (back[full["op_id"]]["client_time"], back[short["op_id"]]["client_time"]) == ("2026-11-23T10:00:00Z", None)
    assert back[short["op_id"]]["result"] is None and back[short["op_id"]]["body"] == short["body"]
    assert sorted(row["seq"] for row in back.values()) == [7, 7, 9]
