"""One frozen settings object, read from the environment once.

Tests set the environment (or build a Settings directly) before building the app.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str
    token_ttl_hours: int = 24 * 7
    max_request_bytes: int = 1_000_000
    max_image_bytes: int = 8_000_000  # POST /api/decode: a photo's bytes ...
    max_image_pixels: int = 25_000_000  # ... and pixels (declared in its header: decompression bombs)
    debug: bool = False
    sql_echo: bool = False
    page_limit_max: int = 500
    scrypt_log2_n: int = 14  # password hashing cost; only the tests lower it (not read from the environment)
    count_major_value: float = 500.0  # a count discrepancy worth this much (|difference| × unit cost) is major ...
    count_major_percent: float = 20.0  # ... and so is one of this % of the larger of expected and counted

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        url = env.get("DATABASE_URL") or default_sqlite_url(Path(env.get("GEMBA_DATA_DIR", REPO_ROOT / "var")))
        if url.startswith("postgresql://") or url.startswith("postgres://"):
            # Accept the URL people copy from their provider; we always talk asyncpg.
            url = "postgresql+asyncpg://" + url.split("://", 1)[1]
        return cls(
            database_url=url,
            token_ttl_hours=int(env.get("GEMBA_TOKEN_TTL_HOURS", 24 * 7)),
            max_request_bytes=int(env.get("GEMBA_MAX_REQUEST_BYTES", 1_000_000)),
            max_image_bytes=int(env.get("GEMBA_MAX_IMAGE_BYTES", 8_000_000)),
            max_image_pixels=int(env.get("GEMBA_MAX_IMAGE_PIXELS", 25_000_000)),
            debug=env.get("GEMBA_DEBUG", "") == "1",
            sql_echo=env.get("GEMBA_SQL_ECHO", "") == "1",
            count_major_value=float(env.get("GEMBA_COUNT_MAJOR_VALUE", 500)),
            count_major_percent=float(env.get("GEMBA_COUNT_MAJOR_PERCENT", 20)),
        )


def default_sqlite_url(data_dir: Path) -> str:
    data_dir.mkdir(parents=True, exist_ok=True)
    return f"sqlite+aiosqlite:///{data_dir / 'gemba.sqlite3'}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_env()
