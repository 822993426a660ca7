"""One frozen settings object, read from the environment once.

Tests set the environment (or build a Settings directly) before building the app.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
CURRENCY = re.compile(r"[A-Z]{3}")
SQLITE_SYNCHRONOUS = ("FULL", "NORMAL")  # PRAGMA synchronous in WAL mode (README, "Durability")
LOG_FORMATS = ("plain", "json")  # the request log's lines (server/requestlog.py)


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str
    token_ttl_hours: int = 24 * 7
    max_request_bytes: int = 1_000_000
    max_image_bytes: int = 8_000_000  # POST /api/decode: a photo's bytes ...
    max_image_pixels: int = 25_000_000  # ... and pixels (declared in its header: decompression bombs)
    decode_concurrency: int = field(default_factory=lambda: os.cpu_count() or 1)  # decodes at once per process
    debug: bool = False
    sql_echo: bool = False
    page_limit_max: int = 500
    signin_free_attempts: int = 5  # failed sign-ins per (username, address) before the back-off (server/throttle.py)
    signin_max_delay: float = 60.0  # ... whose longest wait is this many seconds
    scrypt_log2_n: int = 14  # password hashing cost; only the tests lower it (not read from the environment)
    count_major_value: Decimal = Decimal(500)  # a count discrepancy worth this much (|difference| × unit cost) is major ...
    count_major_percent: Decimal = Decimal(20)  # ... and so is one of this % of the larger of expected and counted
    sqlite_synchronous: str = "FULL"  # FULL: a commit is on disk before it is answered; NORMAL: may be lost in a power cut
    metrics_token: str | None = None  # GET /metrics needs this bearer token; None: /metrics answers 404
    log_format: str = "plain"  # one line per request: plain text, or a JSON object
    data_dir: Path = REPO_ROOT / "var"  # the default SQLite file, and imports uploaded on the supervisor pages
    max_import_bytes: int = 50_000_000  # a CSV file uploaded to import (100,000 stock rows: ~6 MB)
    currency: str = "EUR"  # of every price; one per installation, shown beside totals
    po_number_pattern: str = "PO-{yyyy}-{seq:04}"  # purchase order numbers when none is given (checked by purchasing)

    def __post_init__(self) -> None:
        if self.decode_concurrency < 1:
            raise ValueError(f"GEMBA_DECODE_CONCURRENCY={self.decode_concurrency}: at least 1")
        if self.sqlite_synchronous not in SQLITE_SYNCHRONOUS:
            raise ValueError(f"GEMBA_SQLITE_SYNCHRONOUS={self.sqlite_synchronous!r}: choose {' or '.join(SQLITE_SYNCHRONOUS)}")
        if self.log_format not in LOG_FORMATS:
            raise ValueError(f"GEMBA_LOG_FORMAT={self.log_format!r}: choose {' or '.join(LOG_FORMATS)}")
        if not CURRENCY.fullmatch(self.currency):
            raise ValueError(f"GEMBA_CURRENCY={self.currency!r}: an ISO 4217 code, three capital letters (EUR, USD)")

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        data_dir = Path(env.get("GEMBA_DATA_DIR", REPO_ROOT / "var"))
        url = env.get("DATABASE_URL") or default_sqlite_url(data_dir)
        if url.startswith("postgresql://") or url.startswith("postgres://"):
            # Accept the URL people copy from their provider; we always talk asyncpg.
            url = "postgresql+asyncpg://" + url.split("://", 1)[1]
        return cls(
            database_url=url,
            token_ttl_hours=int(env.get("GEMBA_TOKEN_TTL_HOURS", 24 * 7)),
            max_request_bytes=int(env.get("GEMBA_MAX_REQUEST_BYTES", 1_000_000)),
            max_image_bytes=int(env.get("GEMBA_MAX_IMAGE_BYTES", 8_000_000)),
            max_image_pixels=int(env.get("GEMBA_MAX_IMAGE_PIXELS", 25_000_000)),
            decode_concurrency=int(env.get("GEMBA_DECODE_CONCURRENCY", 0)) or os.cpu_count() or 1,
            signin_free_attempts=int(env.get("GEMBA_SIGNIN_FREE_ATTEMPTS", 5)),
            signin_max_delay=float(env.get("GEMBA_SIGNIN_MAX_DELAY", 60)),
            debug=env.get("GEMBA_DEBUG", "") == "1",
            sql_echo=env.get("GEMBA_SQL_ECHO", "") == "1",
            count_major_value=Decimal(env.get("GEMBA_COUNT_MAJOR_VALUE", "500")),  # money: exact, never a float
            count_major_percent=Decimal(env.get("GEMBA_COUNT_MAJOR_PERCENT", "20")),
            sqlite_synchronous=env.get("GEMBA_SQLITE_SYNCHRONOUS", "FULL").upper(),
            metrics_token=env.get("GEMBA_METRICS_TOKEN") or None,
            log_format=env.get("GEMBA_LOG_FORMAT", "plain").lower(),
            data_dir=data_dir,
            max_import_bytes=int(env.get("GEMBA_MAX_IMPORT_BYTES", 50_000_000)),
            currency=env.get("GEMBA_CURRENCY", "EUR"),
            po_number_pattern=env.get("GEMBA_PO_NUMBER_PATTERN", "PO-{yyyy}-{seq:04}"),
        )


def default_sqlite_url(data_dir: Path) -> str:
    data_dir.mkdir(parents=True, exist_ok=True)
    return f"sqlite+aiosqlite:///{data_dir / 'gemba.sqlite3'}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_env()
