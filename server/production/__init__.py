"""Production (docs/production.md): BOMs per part revision, production runs and their WIP, the `issue` and
`complete_run` ops, lot expiry and the traceability report.

Production sits above the operations (server/ops): importing this package registers its ops (server/
production/ops.py), gives `install` its BOM check (server/ops/building.py) and a unit's and a lot's history the
runs that touched them (server/queries.py `HISTORY_EXTRAS`). The app imports it, and so does everything that lists
the tables (server/schema.py).
"""

from server.ops.building import provide
from server.production import ops  # noqa: F401 - registers `issue` and `complete_run`
from server.production.bom import check_install
from server.production.trace import history_runs
from server.queries import HISTORY_EXTRAS

provide(check_install)
HISTORY_EXTRAS["runs"] = history_runs
