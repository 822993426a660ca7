"""Cycle counts: plans and the schedule, count sheets, closing locations, review, adjustments, accuracy.

Counts sit above the operations (server/ops) and below the sync engine (which sends counts and their lines
to phones). The op handlers need two things from counts — recording a count line (the `count` op) and a
count lifting its lock for a supervisor's adjust or move — which this package provides when it is imported
(server/ops/counting.py); its services apply adjustments through the one op path (server/ops/service.py).
Held operations (a sync concept) reach counts through what the app factory hands CountService.
"""

from server.counts.lines import record_line
from server.counts.locks import lift_count_lock
from server.counts.models import CountLine
from server.ops.batch import stamped
from server.ops.counting import Counting, provide

provide(Counting(record_line=record_line, lift_lock=lift_count_lock))
stamped(CountLine.__table__)
