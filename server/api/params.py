"""Query parameters the list routes share, declared once: a page's size and where it starts."""

from __future__ import annotations

from typing import Annotated

from litestar.params import Parameter

MAX_PAGE = 500
# Far beyond the rows of any list, and well inside the databases' 64-bit integers: a larger offset is a 422
# naming `offset`, not a number SQLite or asyncpg cannot bind.
MAX_OFFSET = 1_000_000_000

Limit = Annotated[int, Parameter(ge=1, le=MAX_PAGE, description=f"page size (at most {MAX_PAGE})")]
Offset = Annotated[int, Parameter(ge=0, le=MAX_OFFSET, description=f"rows to skip (at most {MAX_OFFSET:,})")]
