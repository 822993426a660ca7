"""The `gemba` command: serve, migrate, users, demo, tls, backup, restore, import, export."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from server.settings import get_settings


def _with_db(work: Callable[[Any], Awaitable[Any]]) -> Any:
    """Run `work(db)` on a fresh engine in its own event loop, then dispose of the engine."""
    from server.db import Database

    async def run() -> Any:
        db = Database(get_settings())
        try:
            return await work(db)
        finally:
            await db.dispose()

    return asyncio.run(run())


def _migrate() -> None:
    from server.migrate import upgrade_to_head

    upgrade_to_head(get_settings().database_url)


def _tls(args: argparse.Namespace) -> Any:

    from server import tls
    from server.settings import REPO_ROOT

    directory = Path(args.tls_dir or Path(os.environ.get("GEMBA_DATA_DIR", REPO_ROOT / "var")) / "tls")
    return tls.ensure(directory, args.name or None)


MAX_DEFAULT_WORKERS = 4  # x 20 pooled connections each: within PostgreSQL's default max_connections (100)
GRACEFUL_SECONDS = 30  # a worker asked to stop finishes the requests it has begun for at most this long
STARTUP_SECONDS = 60  # a worker answers its supervisor within this (a worker imports the app: slow when loaded)


def default_workers(is_sqlite: bool) -> int:
    """SQLite: one process (one writer at a time anyway); PostgreSQL: one per CPU, up to MAX_DEFAULT_WORKERS."""
    return 1 if is_sqlite else max(1, min(os.cpu_count() or 1, MAX_DEFAULT_WORKERS))


def cmd_serve(args: argparse.Namespace) -> int:
    """Migrate (once, here), then serve: one process, or `--workers` processes under uvicorn's supervisor
    (it replaces a worker that dies; SIGHUP replaces them one by one, each new one ready before the old one
    stops; a worker stops by finishing the requests it has begun, pushes included)."""
    import uvicorn

    _migrate()
    if args.demo:
        cmd_demo(args)
    ssl: dict[str, str] = {}
    if args.https:
        files = _tls(args)
        ssl = {"ssl_certfile": str(files.cert), "ssl_keyfile": str(files.key)}
        print(f"HTTPS for {', '.join(files.names)}; phones must trust {files.ca_cert} once (gemba tls)")
    settings = get_settings()
    workers = args.workers or default_workers(settings.is_sqlite)
    scheme = "https" if ssl else "http"
    print(f"Gemba serving on {scheme}://{args.host}:{args.port} ({settings.database_url.split('://')[0]}, "
          f"{workers} worker{'s' if workers > 1 else ''})")
    with metrics_shared_by(workers):  # the request log replaces uvicorn's access log (server/requestlog.py)
        uvicorn.run("server.app:create_app", factory=True, host=args.host, port=args.port, log_level="info",
                    access_log=False, proxy_headers=True, workers=workers if workers > 1 else None,
                    timeout_graceful_shutdown=GRACEFUL_SECONDS, timeout_worker_healthcheck=STARTUP_SECONDS, **ssl)
    return 0


@contextmanager
def metrics_shared_by(workers: int) -> Iterator[None]:
    """Several workers: prometheus-client's multiprocess mode, in a fresh directory made here (removed after)
    unless PROMETHEUS_MULTIPROC_DIR names one already; the workers inherit it (server/metrics.py)."""
    from server.metrics import MULTIPROCESS_DIR

    if workers == 1 or os.environ.get(MULTIPROCESS_DIR):
        yield
        return
    with tempfile.TemporaryDirectory(prefix="gemba-metrics-") as directory:
        os.environ[MULTIPROCESS_DIR] = directory
        try:
            yield
        finally:
            del os.environ[MULTIPROCESS_DIR]


def cmd_backup(args: argparse.Namespace) -> int:
    from server.backup import BackupError, backup

    try:
        print(backup(get_settings().database_url, Path(args.file)))
    except BackupError as error:
        print(f"gemba backup: {error}", file=sys.stderr)
        return 1
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from server.backup import BackupError, restore

    try:
        print(restore(get_settings().database_url, Path(args.file), force=args.force))
    except BackupError as error:
        print(f"gemba restore: {error}", file=sys.stderr)
        return 1
    return 0


def cmd_tls(args: argparse.Namespace) -> int:
    from server.tls import fingerprint

    files = _tls(args)
    print(f"certificate authority: {files.ca_cert}  (install this one on each phone)")
    print(f"  SHA-256 {fingerprint(files.ca_cert)}")
    print(f"server certificate:    {files.cert}")
    print(f"  valid for: {', '.join(files.names)}")
    print("serve with: gemba serve --https --host 0.0.0.0")
    return 0


def cmd_migrate(_args: argparse.Namespace) -> int:
    _migrate()
    print("database at the latest schema")
    return 0


def cmd_demo(_args: argparse.Namespace) -> int:
    from server.demo import DEMO_USERS, load_demo

    _migrate()
    if _with_db(load_demo):
        print("demo data loaded; sign in as:")
        for username, role, password in DEMO_USERS:
            print(f"  {username:<6} {role:<10} password {password}")
    else:
        print("the database already has data: demo not loaded")
    return 0


def _read_password(args: argparse.Namespace) -> str:
    if args.password:
        return args.password
    if sys.stdin.isatty():
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Again: "):
            raise SystemExit("passwords differ")
        return first
    return sys.stdin.readline().rstrip("\n")


def cmd_users_add(args: argparse.Namespace) -> int:
    from server.auth import AuthService
    from server.errors import DomainError

    _migrate()
    password = _read_password(args)
    try:
        user = _with_db(lambda db: AuthService(db).add_user(args.name, args.role, password))
    except DomainError as error:
        print(f"gemba: {error.message}", file=sys.stderr)
        return 1
    print(f"user {user.username} ({user.role}) created")
    return 0


def cmd_users_list(_args: argparse.Namespace) -> int:
    from server.auth import AuthService

    for user in _with_db(lambda db: AuthService(db).list_users()):
        print(f"{user.username:<24} {user.role:<10} {'active' if user.active else 'disabled'}")
    return 0


def cmd_users_revoke(args: argparse.Namespace) -> int:
    from server.auth import AuthService

    count = _with_db(lambda db: AuthService(db).revoke(username=args.name))
    print(f"revoked {count} token(s) of {args.name}")
    return 0


def positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: a whole number, at least 1")
    return int(text)


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="gemba", description="Gemba inventory server")
    commands = root.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="apply pending migrations, then serve HTTP")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--demo", action="store_true", help="load demo data first if the database is empty")
    serve.add_argument("--https", action="store_true", help="serve HTTPS with a certificate from the local CA (see `gemba tls`)")
    serve.add_argument("--workers", type=positive, metavar="N",
                       help="server processes (default: 1 on SQLite; on PostgreSQL one per CPU, at most "
                            f"{MAX_DEFAULT_WORKERS}); SIGHUP restarts them one by one")
    serve.set_defaults(run=cmd_serve)
    tls = commands.add_parser("tls", help="make (or renew) the local CA and this server's certificate for phones")
    for command in (serve, tls):
        command.add_argument("--name", action="append", metavar="HOST_OR_IP",
                             help="a name or address phones use to reach this server (repeatable; added to this machine's own names)")
        command.add_argument("--tls-dir", help="where the CA and certificates live (default: <data dir>/tls)")
    tls.set_defaults(run=cmd_tls)

    commands.add_parser("migrate", help="apply pending migrations").set_defaults(run=cmd_migrate)
    commands.add_parser("demo", help="load demo data into an empty database").set_defaults(run=cmd_demo)

    backup = commands.add_parser("backup", help="copy the whole database into FILE, while serving (SQLite: its "
                                 "online backup; PostgreSQL: pg_dump)")
    backup.add_argument("file", metavar="FILE")
    backup.set_defaults(run=cmd_backup)
    restore = commands.add_parser("restore", help="put a backup into the database (an empty one unless --force), "
                                  "then migrate it; stop the server first")
    restore.add_argument("file", metavar="FILE")
    restore.add_argument("--force", action="store_true", help="replace everything in a database that is not empty")
    restore.set_defaults(run=cmd_restore)

    users = commands.add_parser("users", help="manage users").add_subparsers(dest="users_command", required=True)
    add = users.add_parser("add", help="create a user (password from --password, or stdin)")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=["operator", "supervisor", "admin"])
    add.add_argument("--password")
    add.set_defaults(run=cmd_users_add)
    users.add_parser("list", help="list users").set_defaults(run=cmd_users_list)
    revoke = users.add_parser("revoke", help="revoke every token of a user (a lost phone)")
    revoke.add_argument("name")
    revoke.set_defaults(run=cmd_users_revoke)

    from server.importing.cli import add_commands as add_import_commands

    add_import_commands(commands)  # gemba import, gemba export
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    raise SystemExit(main())
