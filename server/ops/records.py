"""The op records (`ops`): every op the server accepted, with its outcome — the key to exactly-once. One
builder of a record (`op_record`), whoever applies the op (online, a push, a supervisor's approval, a count
decision), and one lookup of what the server has of op ids (`recorded`), whoever asks (an online op sent
again, a push's ops and the ops they depend on).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any
from uuid import UUID

import msgspec
from sqlalchemy import Select, Text, bindparam, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession

from server.actor import Actor
from server.errors import DomainError
from server.models import OpRecord
from server.ops.args import Args
from server.ops.registry import parse_args

IN_BATCH = 500  # ids per IN (...) list

# What the server has of an op id; its result as JSON text, decoded only when needed (server/db/codecs.py
# `json_of`). Push selects more beside it (its sync records), by the same op ids (`by_op_ids`).
RECORDED = Select(
    OpRecord.op_id, OpRecord.seq, OpRecord.status, OpRecord.body_hash, OpRecord.reason, OpRecord.message,
    type_coerce(OpRecord.result, Text).label("result"),
)


def by_op_ids(query: Select[Any]) -> Select[Any]:
    """`query` for the op ids of `recorded` (built once: a statement built per call is compiled per call)."""
    return query.where(OpRecord.op_id.in_(bindparam("op_ids", expanding=True)))


RECORDED_BY_ID = by_op_ids(RECORDED)


async def recorded(
    session: AsyncSession, op_ids: Iterable[UUID], query: Select[Any] = RECORDED_BY_ID
) -> list[Any]:
    """The records of these op ids the server has (pushed by any device, applied online or by a supervisor):
    rows of `query` (RECORDED_BY_ID, or another `by_op_ids` select), one query per IN_BATCH ids."""
    ids, found = list(set(op_ids)), []
    connection = await session.connection()
    for start in range(0, len(ids), IN_BATCH):
        found += (await connection.execute(query, {"op_ids": ids[start : start + IN_BATCH]})).all()
    return found


def body_hash(op_type: str, args: Args | Any) -> str:
    """Identity of an op's content: the same op id with another body is a reused id."""
    canonical = msgspec.json.encode({"type": op_type, "args": args}, order="sorted")
    return hashlib.sha256(canonical).hexdigest()


def digest(op_type: str, raw_args: Any, args: Args | None = None) -> str:
    """The op's identity for exactly-once: the hash of its parsed args when they parse (`args`: parsed
    already), so that an op applied online and then pushed is recognised; of the raw args otherwise."""
    try:
        return body_hash(op_type, args if args is not None else parse_args(op_type, raw_args))
    except DomainError:
        return body_hash(op_type, raw_args)


def op_record(
    op_id: UUID, op_type: str, actor: Actor, body: dict[str, Any], body_hash: str, status: str,
    result: dict[str, Any] | None = None, *, seq: int | None = None, client_time: str | None = None,
    reason: str | None = None, message: str | None = None,
) -> dict[str, Any]:
    """An op's record, as a row of `ops` (server/db/bulk.py `insert_rows`). `body`: the op as sent or applied
    (`type`, `args`, and `depends_on` or what it resolves); the device is the actor's."""
    return {
        "op_id": op_id, "device_id": actor.device_id, "seq": seq, "type": op_type, "actor": actor.username,
        "client_time": client_time, "body_hash": body_hash, "body": body, "status": status, "result": result,
        "reason": reason, "message": message,
    }


def applied_body(op_type: str, args: Args, **more: Any) -> dict[str, Any]:
    """What the record of an op applied now keeps of it: its type, its parsed args, and `more`."""
    return {"type": op_type, "args": msgspec.to_builtins(args), **more}
