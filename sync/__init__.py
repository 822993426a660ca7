"""The sync protocol (../shared/spec/sync-protocol.md): push, pull and conflicts, on top of the inventory
operations in `server/`. The server's inventory code knows nothing of this package; the app factory
wires it in (`sync.api`). Importing `sync.models` registers the sync tables on the shared metadata.

Reading order for "what happens when a phone pushes a move": sync/api.py → sync/push.py → sync/runner.py
(which calls `server.ops.service.apply_op`, the path online ops take too) and sync/decide.py (the rules).
"""

from sync import models as models  # noqa: F401 - registers the sync tables
