"""Quality issues on a unit, a lot or a row (docs/kits-and-issues.md).

Issues sit above the operations: importing this package registers the `open_issue` op
(server/quality/opening.py) and gives unit and lot histories their issues (server/queries.py `HISTORY_EXTRAS`).
"""

from server.ops.registry import OpType, register
from server.quality.opening import open_issue
from server.quality.schemas import OpenIssue
from server.quality.service import issues_of
from server.queries import HISTORY_EXTRAS

register(OpType("open_issue", OpenIssue, open_issue, places=("location",)))
HISTORY_EXTRAS["issues"] = issues_of
