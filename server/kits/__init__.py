"""Kits: components picked for a run or a location into a kit's tote, Kitted while the kit is open
(docs/kits-and-issues.md).

Kits sit above the operations: importing this package registers the `kit` op (server/kits/picking.py) and
stamps the kits' lines with op versions (a late push chunk shifts them to real ones: server/ops/batch.py
`stamped`), since phones pull them.
"""

from server.kits.models import KitLine
from server.kits.picking import KitArgs, pick
from server.ops.batch import stamped
from server.ops.registry import OpType, register

register(OpType("kit", KitArgs, pick, places=("from_location",), source="from_location"))
stamped(KitLine.__table__)
