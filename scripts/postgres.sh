# Find (or start, or install) the PostgreSQL server the integration tests use, and export
# GEMBA_TEST_PG_URL. Sourced by ./scripts/test after setup.sh.

pg_answers() {
    .venv/bin/python - "$1" <<'PY' 2>/dev/null
import asyncio, sys
import asyncpg
from sqlalchemy.engine import make_url
dsn = make_url(sys.argv[1]).set(drivername="postgresql").render_as_string(hide_password=False)
async def main():
    connection = await asyncpg.connect(dsn, timeout=5)
    await connection.close()
asyncio.run(main())
PY
}

start_local_postgres() {
    local cluster
    if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
        say "installing PostgreSQL from Debian's packages"
        as_root apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql
    fi
    cluster="$(ls /etc/postgresql | sort -V | tail -1)"
    say "starting PostgreSQL $cluster"
    as_root pg_ctlcluster --skip-systemctl-redirect "$cluster" main start || true
    for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
    # A fresh Debian cluster asks for passwords over TCP: give the postgres role a known one for tests.
    as_root su postgres -c "psql -qc \"ALTER USER postgres PASSWORD 'postgres'\"" >/dev/null
}

if [ "${GEMBA_TEST_PG:-1}" != "0" ] && [ -z "${GEMBA_TEST_PG_URL:-}" ]; then
    for url in postgresql+asyncpg://postgres@127.0.0.1:5432/test \
               postgresql+asyncpg://postgres:postgres@127.0.0.1:5432/postgres; do
        if pg_answers "$url"; then export GEMBA_TEST_PG_URL="$url"; break; fi
    done
    if [ -z "${GEMBA_TEST_PG_URL:-}" ]; then
        start_local_postgres
        for url in postgresql+asyncpg://postgres@127.0.0.1:5432/test \
                   postgresql+asyncpg://postgres:postgres@127.0.0.1:5432/postgres; do
            if pg_answers "$url"; then export GEMBA_TEST_PG_URL="$url"; break; fi
        done
    fi
    [ -n "${GEMBA_TEST_PG_URL:-}" ] || { echo "PostgreSQL did not answer on 127.0.0.1:5432" >&2; exit 1; }
fi
if [ -n "${GEMBA_TEST_PG_URL:-}" ]; then
    say "integration tests on SQLite and PostgreSQL ($GEMBA_TEST_PG_URL)"
fi
