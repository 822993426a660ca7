"""What ops ask of purchasing, which sits above them (server/purchasing): a `receive` naming a `po_line`
receives against that purchase order line, and a receipt or move that lifts a location above a max says so
(`warnings: ["above_max"]` in its result).

server/purchasing provides both when it is imported (server/purchasing/__init__.py, which also registers
its lines as rows stamped with op versions: phones pull them). The app imports it, and so does everything
that lists the tables (server/schema.py); a receipt against a line applied without it is a bug, said so.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from server.models import Location, Part
from server.ops import args as a
from server.ops.stock import Lookups, OpContext

ABOVE_MAX = "above_max"


@dataclass(frozen=True, slots=True)
class Purchasing:
    # (the op, its args, the part it checked) → the op's result: the goods received against the line
    receive_on_line: Callable[[OpContext, a.Receive, Part], Awaitable[dict[str, Any]]]
    # (the op, the part, where it went, where it came from or None, how much) → whether that lifted a
    # location whose subtree has a max for the part above it
    above_max: Callable[[OpContext, Part, Location, Location | None, Any], Awaitable[bool]]
    # (the transaction, its lookups, line names) → the lines and their POs read ahead, in a few queries (a push
    # chunk's receipts: server/ops/batch.py `prefetch`)
    prefetch_lines: Callable[[AsyncSession, Lookups, Collection[str]], Awaitable[None]]
    # (the transaction, its lookups, part ids) → the maxima of these parts read ahead, in one query
    prefetch_maxima: Callable[[AsyncSession, Lookups, Collection[Any]], Awaitable[None]]


_provided: list[Purchasing] = []


def provide(purchasing: Purchasing) -> None:
    _provided[:] = [purchasing]


def _purchasing() -> Purchasing:
    if not _provided:
        raise RuntimeError("Purchasing is not loaded: import server.purchasing before applying receipts")
    return _provided[0]


async def receive_on_line(ctx: OpContext, args: a.Receive, part: Part) -> dict[str, Any]:
    return await _purchasing().receive_on_line(ctx, args, part)


async def prefetch_lines(session: AsyncSession, lookups: Lookups, names: Collection[str]) -> None:
    await _purchasing().prefetch_lines(session, lookups, names)


async def prefetch_maxima(session: AsyncSession, lookups: Lookups, part_ids: Collection[Any]) -> None:
    await _purchasing().prefetch_maxima(session, lookups, part_ids)


async def with_warnings(
    ctx: OpContext, result: dict[str, Any], part: Part, to: Location, source: Location | None, quantity: Any
) -> dict[str, Any]:
    """The result, with `warnings: ["above_max"]` when the op lifted a location above its max."""
    if await _purchasing().above_max(ctx, part, to, source, quantity):
        result["warnings"] = [ABOVE_MAX]
    return result
