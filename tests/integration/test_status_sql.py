"""Status is one rule written twice: `derive_status` (Python) and `status_sql` / `status_filter_sql` (SQL).
These properties evaluate the SQL in the real database (SQLite, and PostgreSQL when configured) on
generated data and demand the same answer as the Python rule, row by row."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Boolean, Column, Date, Integer, MetaData, String, Table, delete, insert, literal, select

from server.db import Database
from server.models import InventoryRow, Location, Part
from server.rules.status import (
    PoState,
    Status,
    StatusInputs,
    derive_status,
    inventory_status_sql,
    is_expired,
    status_filter_sql,
    status_sql,
    utc_today,
)

DB_PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

INPUTS = st.builds(
    StatusInputs,
    scrapped=st.booleans(),
    removed=st.booleans(),
    installed=st.booleans(),
    on_open_run=st.booleans(),
    in_open_kit=st.booleans(),
    po_state=st.sampled_from(PoState),
    location_available=st.booleans(),
    isolated=st.booleans(),
    quantity=st.integers(-2, 3),
    expired=st.booleans(),
)
# an expiry date around today: expired from that day on (None: it never expires)
EXPIRY = st.one_of(st.none(), st.integers(-3, 3).map(lambda days: utc_today() + timedelta(days=days)))


# ---- status_sql over literal SQL expressions ---------------------------------------------------
@DB_PROPERTY
@given(st.lists(INPUTS, min_size=1, max_size=25))
async def test_status_sql_over_literals_agrees_with_derive_status(db: Database, rows: list[StatusInputs]) -> None:
    columns = [
        status_sql(
            scrapped=literal(row.scrapped, Boolean),
            removed=literal(row.removed, Boolean),
            installed=literal(row.installed, Boolean),
            on_open_run=literal(row.on_open_run, Boolean),
            in_open_kit=literal(row.in_open_kit, Boolean),
            po_state=literal(row.po_state.value, String),
            location_available=literal(row.location_available, Boolean),
            isolated=literal(row.isolated, Boolean),
            quantity=literal(row.quantity, Integer),
            expired=literal(row.expired, Boolean),
        ).label(f"s{i}")
        for i, row in enumerate(rows)
    ]
    async with db.read() as session:
        got = list((await session.execute(select(*columns))).one())
    assert got == [derive_status(row).value for row in rows]


# ---- status_sql and status_filter_sql over a table of generated rows ---------------------------
probe_metadata = MetaData()
probe = Table(
    "status_probe",
    probe_metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("scrapped", Boolean, nullable=False),
    Column("removed", Boolean, nullable=False),
    Column("installed_in_id", Integer),  # installed when set, as in the inventory table
    Column("on_open_run", Boolean),  # NULL: no run found (an outer join), the same as "not on one"
    Column("in_open_kit", Boolean),
    Column("po_state", String(16)),
    Column("available", Boolean, nullable=False),
    Column("isolated", Boolean, nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("expiry", Date),  # the inventory's own column: expired from that day on
)

PROBE_ROWS = st.fixed_dictionaries(
    {
        "scrapped": st.booleans(),
        "removed": st.booleans(),
        "installed_in_id": st.one_of(st.none(), st.integers(1, 5)),
        "on_open_run": st.one_of(st.none(), st.booleans()),
        "in_open_kit": st.one_of(st.none(), st.booleans()),
        "po_state": st.one_of(st.none(), st.sampled_from([p.value for p in PoState])),
        "available": st.booleans(),
        "isolated": st.booleans(),
        "quantity": st.integers(-1, 3),
        "expiry": EXPIRY,
    }
)


def probe_inputs(row: dict[str, Any]) -> StatusInputs:
    return StatusInputs(
        scrapped=row["scrapped"],
        removed=row["removed"],
        installed=row["installed_in_id"] is not None,
        on_open_run=bool(row["on_open_run"]),
        in_open_kit=bool(row["in_open_kit"]),
        po_state=PoState(row["po_state"] or "none"),
        location_available=row["available"],
        isolated=row["isolated"],
        quantity=row["quantity"],
        expired=is_expired(row["expiry"]),
    )


def probe_optional() -> dict[str, Any]:
    return {"on_open_run": probe.c.on_open_run, "in_open_kit": probe.c.in_open_kit, "po_state": probe.c.po_state}


@DB_PROPERTY
@given(st.lists(PROBE_ROWS, min_size=1, max_size=40))
async def test_case_and_every_status_filter_agree_with_derive_status(db: Database, rows: list[dict[str, Any]]) -> None:
    async with db.engine.begin() as connection:
        await connection.run_sync(probe_metadata.create_all)
    expected = {i: derive_status(probe_inputs(row)) for i, row in enumerate(rows)}
    async with db.write_sessions() as session:
        await session.execute(delete(probe))
        await session.execute(insert(probe), [{"id": i, **row} for i, row in enumerate(rows)])
        status_column = inventory_status_sql(probe.c, probe.c, **probe_optional())
        by_case = dict((await session.execute(select(probe.c.id, status_column))).all())
        by_filter: dict[Status, set[int]] = {}
        for status in Status:
            where = status_filter_sql(probe.c, probe.c, status, **probe_optional())
            by_filter[status] = set((await session.scalars(select(probe.c.id).where(where))).all())
        await session.rollback()
    assert by_case == {i: status.value for i, status in expected.items()}
    for status in Status:
        assert by_filter[status] == {i for i, s in expected.items() if s == status}, status


# ---- the inventory form, on real inventory rows ------------------------------------------------
INVENTORY_ROWS = st.fixed_dictionaries(
    {
        "serial": st.booleans(),
        "scrapped": st.booleans(),
        "removed": st.booleans(),  # the `remove` op leaves a unit at quantity 0
        "installed": st.booleans(),
        "isolated": st.booleans(),
        "available_location": st.booleans(),
        "in_kit_tote": st.booleans(),  # at the tote of an open kit (`locations.kit_id`): Kitted
        "quantity": st.integers(0, 3),
        "wip_location": st.booleans(),  # in the WIP location of an open or failed run
        "expiry": EXPIRY,
        # made by a purchase order line: on order, its line done, its order cancelled (the row's own column)
        "po_state": st.sampled_from([None, None, *(state.value for state in PoState if state != PoState.none)]),
    }
)


@DB_PROPERTY
@given(st.lists(INVENTORY_ROWS, min_size=1, max_size=25))
async def test_the_inventory_status_filter_selects_exactly_the_rows_of_that_status(
    db: Database, specs: list[dict[str, Any]]
) -> None:
    part_id, shelf_id, mrb_id, tote_id, parent_id, wip_id = (uuid.uuid4() for _ in range(6))
    rows: list[dict[str, Any]] = []
    expected: dict[uuid.UUID, Status] = {}
    for n, spec in enumerate(specs):
        installed = spec["installed"] and not spec["scrapped"]  # the database refuses both (a CHECK)
        removed = spec["removed"] and spec["serial"] and not installed  # only units are removed, never installed
        quantity = 0 if removed else min(spec["quantity"], 1) if spec["serial"] else spec["quantity"]
        row_id = uuid.uuid4()
        rows.append(
            {
                "id": row_id, "part_id": part_id, "quantity": quantity,
                "location_id": (wip_id if spec["wip_location"] else tote_id if spec["in_kit_tote"]
                                else shelf_id if spec["available_location"] else mrb_id),
                "expiry": spec["expiry"],
                "tracking": "serial" if spec["serial"] else "lot",
                "serial": f"SN-{n}" if spec["serial"] else None, "lot": None if spec["serial"] else f"LOT-{n}",
                "installed_in_id": parent_id if installed else None,
                "scrapped": spec["scrapped"], "removed": removed, "isolated": spec["isolated"], "version": 1,
                "po_state": spec["po_state"], "po_line_id": uuid.uuid4() if spec["po_state"] else None,
            }
        )
        expected[row_id] = derive_status(
            StatusInputs(
                scrapped=spec["scrapped"], removed=removed, installed=installed,
                location_available=spec["available_location"] or spec["in_kit_tote"] or spec["wip_location"],
                in_open_kit=spec["in_kit_tote"] and not spec["wip_location"],
                isolated=spec["isolated"], quantity=quantity, po_state=PoState(spec["po_state"] or "none"),
                on_open_run=spec["wip_location"], expired=is_expired(spec["expiry"]),
            )
        )
    async with db.write_sessions() as session:
        await session.execute(insert(Part), [{"id": part_id, "part_number": "PN-STATUS", "tracking": "serial"}])
        await session.execute(
            insert(Location),
            [{"id": shelf_id, "code": "SHELF", "available": True}, {"id": mrb_id, "code": "MRB", "available": False},
             {"id": tote_id, "code": "SHELF/KIT-0001", "available": True, "kit_id": uuid.uuid4()},
             {"id": wip_id, "code": "SHELF/RUN-1", "available": True, "wip": True}],
        )
        parent = {
            "id": parent_id, "part_id": part_id, "location_id": shelf_id, "quantity": 1, "tracking": "serial",
            "serial": "ASSY-1", "scrapped": False, "isolated": False, "version": 1,
        }
        await session.execute(insert(InventoryRow), [parent])
        await session.execute(insert(InventoryRow), rows)
        joined = select(InventoryRow.id).join(Location, Location.id == InventoryRow.location_id)
        status_column = inventory_status_sql(InventoryRow, Location)
        by_case = dict(
            (await session.execute(joined.add_columns(status_column).where(InventoryRow.id != parent_id))).all()
        )
        by_filter = {
            status: set(
                (
                    await session.scalars(
                        joined.where(status_filter_sql(InventoryRow, Location, status), InventoryRow.id != parent_id)
                    )
                ).all()
            )
            for status in Status
        }
        await session.rollback()
    assert by_case == {row_id: status.value for row_id, status in expected.items()}
    for status in Status:
        assert by_filter[status] == {row_id for row_id, s in expected.items() if s == status}, status
