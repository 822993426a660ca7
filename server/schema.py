"""Every table: importing this module registers each package's tables on advanced-alchemy's metadata
(`METADATA`). For whatever builds or compares the whole schema — Alembic's environment
(server/migrations/env.py), `create_all` in tests and benchmarks. Like the app factory it is wiring: it
imports every package that has tables, from the inventory's to the sync engine's."""

from __future__ import annotations

from advanced_alchemy.base import orm_registry

import server.counts.models  # noqa: F401 - cycle counts (and their count lines)
import server.costs.values  # noqa: F401 - stock values per part and location subtree, kept by triggers
import server.kits.models  # noqa: F401 - kits, their lines and picks
import server.levels  # noqa: F401 - stock levels per part and location subtree, kept by triggers
import server.models  # noqa: F401 - inventory, users and devices, the op records
import server.production.models  # noqa: F401 - BOMs, production runs, their lines and history
import server.purchasing.models  # noqa: F401 - purchase orders and their lines, min/max constraints
import server.quality.models  # noqa: F401 - quality issues and the stock they isolated
import server.scan.models  # noqa: F401 - scans nobody could read
import sync.models  # noqa: F401 - sync records, conflicts, resolutions

METADATA = orm_registry.metadata
