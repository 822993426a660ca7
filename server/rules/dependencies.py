"""An op's `depends_on`: the ops it builds on must be ones the server has received (sync protocol §3.5,
`unknown_reference`), online as in a push, and an op names at most MAX_DEPENDS_ON of them."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

from server.errors import NotFound

MAX_DEPENDS_ON = 100


def unknown_dependency(op_id: Any) -> NotFound:
    return NotFound(f"depends_on names operation {op_id}, which the server has not received", field="depends_on")


def check_received(depends_on: Iterable[Any], received: Collection[Any]) -> None:
    """Refuse the first op of `depends_on` that is not among `received`."""
    for op_id in depends_on:
        if op_id not in received:
            raise unknown_dependency(op_id)
