"""Cycle counts: plans and the schedule, count sheets, closing locations, review, adjustments, accuracy.

Import direction: `models`, `rules`, `locks` are imported by the op handlers (server/ops); the services
apply adjustments through the same op path (server/ops/service.py `apply_op`). Nothing here imports the
sync engine except `pages.py`, which hangs these pages on the supervisor pages' sign-in (sync/pages.py).
"""
