"""Purchasing: purchase orders and their lines, the On-order inventory they make, receiving against their
lines, min/max constraints and replenishment (docs/purchasing.md).

Purchasing sits above the operations (server/ops): the `receive` op hands a receipt naming a `po_line` to it,
and receipts and moves ask it whether they lifted a location above a max — both provided when this package
is imported (server/ops/ordering.py). Its lines are stamped with op versions (a late push chunk shifts them
to real ones: server/ops/batch.py `stamped`), since phones pull them.
"""

from server.ops.batch import stamped
from server.ops.ordering import Purchasing, provide
from server.purchasing.limits import above_max, load_maxima
from server.purchasing.models import PoLine
from server.purchasing.receiving import load_lines, receive_on_line

provide(Purchasing(receive_on_line=receive_on_line, above_max=above_max, prefetch_lines=load_lines,
                      prefetch_maxima=load_maxima))
stamped(PoLine.__table__)
