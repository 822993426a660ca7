"""Importing suppliers: a row per name (the natural key, in any case, as the API and receiving compare
names: `Supplier.named`), with an optional code, unique among suppliers. A supplier that exists gets the code
given.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.api.schemas import SupplierIn
from server.importing.kinds import Kind, Run, text_of
from server.importing.report import CREATED, UNCHANGED, UPDATED, Row
from server.models import Supplier

COLUMNS = ("name", "code")


async def apply(session: AsyncSession, rows: list[Row], run: Run) -> None:
    for done, row in enumerate(rows, start=1):
        if not row.refused:
            await _one(session, row)
        await run.tick("applying", done, len(rows))


async def _one(session: AsyncSession, row: Row) -> None:
    found = (await session.execute(select(Supplier).where(Supplier.named(row.key)))).scalar_one_or_none()
    code = row.values.get("code")
    if code is not None:
        holder = (await session.execute(select(Supplier).where(Supplier.code == code))).scalar_one_or_none()
        if holder is not None and holder is not found:
            row.refuse("code", f"{code} is the code of supplier {holder.name} already")
            return
    if found is None:
        session.add(Supplier(name=row.key, code=code))
        row.done(CREATED)
    elif code is not None and found.code != code:
        row.done(UPDATED, f"code: {found.code or '(none)'} → {code}")
        found.code = code
    else:
        row.done(UNCHANGED)


async def export(session: AsyncSession) -> AsyncIterator[list[str]]:
    for supplier in (await session.execute(select(Supplier).order_by(Supplier.name))).scalars():
        yield [supplier.name, text_of(supplier.code)]


KIND = Kind(
    name="suppliers", columns=COLUMNS, key="name", shape=SupplierIn, apply=apply, export=export, fold=str.lower,
)
