"""A real Gemba server for the end-to-end tests and the PWA benchmark: `gemba serve` (uvicorn) in a
subprocess on a free port, on a fresh SQLite file, with users made by `gemba users add` and a small
catalogue made through the HTTP API."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
GEMBA = ROOT / ".venv" / "bin" / "gemba"
USERS = {"admin": ("admin", "admin-pass-1"), "sam": ("supervisor", "super-pass-1"),
         "olga": ("operator", "oper-pass-1"), "oleg": ("operator", "oper-pass-2")}
PARTS = [
    {"part_number": "PUMP-A", "tracking": "serial", "description": "Pump assembly"},
    {"part_number": "MOTOR-5", "tracking": "serial", "description": "Motor 5 kW"},
    {"part_number": "SEAL-KIT", "tracking": "lot", "description": "Seal kit"},
    {"part_number": "SCREW-M3", "tracking": "untracked", "description": "Screw M3x8", "unit": "ea"},
]
LOCATIONS = ["DOCK-1", "STORES", "STORES/SHELF-1", "STORES/SHELF-2", "LINE-1", "MRB"]
# One client for the plain-HTTP calls that tests make to servers they started: `httpx.get(…)` builds a client, and
# loads the CA bundle for it, at each call (~30 ms of CPU: a server's start polled every 0.1 s took a third of a
# core). No keep-alive: each request opens its own connection, as `httpx.get` did (a server restarts on its port).
HTTP = httpx.Client(limits=httpx.Limits(max_keepalive_connections=0))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes] | None
    env: dict[str, str]
    data_dir: Path | None = None
    log: Path | None = None
    tokens: dict[str, str] = field(default_factory=dict)

    def token(self, user: str) -> str:
        if user not in self.tokens:
            answer = HTTP.post(f"{self.url}/api/auth/token", json={"username": user, "password": USERS[user][1]})
            answer.raise_for_status()
            self.tokens[user] = answer.json()["access_token"]
        return self.tokens[user]

    def api(self, method: str, path: str, user: str = "admin", **kw: Any) -> Any:
        answer = HTTP.request(method, f"{self.url}{path}", headers={"Authorization": f"Bearer {self.token(user)}"}, timeout=30, **kw)
        if answer.status_code >= 400:
            raise AssertionError(f"{method} {path} → {answer.status_code}: {answer.text}")
        return answer.json() if answer.content else None

    def op(self, op_type: str, **args: Any) -> Any:
        return self.api("POST", "/api/ops", json={"op_id": str(uuid.uuid4()), "type": op_type, "args": args})

    def inventory(self, **filters: Any) -> list[dict[str, Any]]:
        return self.api("GET", "/api/inventory", params={"limit": 500, **filters})["items"]

    def restart(self) -> None:
        """Stop and start again on the same port and database (a deploy)."""
        assert self.log is not None, "not a server these tests started"
        self.stop()
        port = int(self.url.rsplit(":", 1)[1])
        self.process = start_server(self.data_dir, self.log, port=port, env=self.env, fresh=False).process

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def start_server(data_dir: Path, log_path: Path, *, port: int | None = None, env: dict[str, str] | None = None,
                 fresh: bool = True) -> Server:
    """`gemba serve` on `port` (default: a free one). `fresh`: make the users and the catalogue first."""
    env = {**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{data_dir / 'gemba.sqlite3'}", "GEMBA_DATA_DIR": str(data_dir),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])), **(env or {})}
    env.pop("GEMBA_DEBUG", None)
    if fresh:  # the first user as a fresh install makes it: from the command line
        role, password = USERS["admin"]
        subprocess.run([str(GEMBA), "users", "add", "admin", "--role", role, "--password", password], env=env, check=True,
                       capture_output=True, cwd=ROOT)
    port = port or free_port()
    log = log_path.open("ab")
    process = subprocess.Popen([str(GEMBA), "serve", "--host", "127.0.0.1", "--port", str(port)], env=env, cwd=ROOT,
                               stdout=log, stderr=subprocess.STDOUT)
    server = Server(url=f"http://127.0.0.1:{port}", process=process, env=env, data_dir=data_dir, log=log_path)
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"gemba serve exited: {log_path.read_text()[-3000:]}")
        try:
            if HTTP.get(f"{server.url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(f"gemba serve did not answer: {log_path.read_text()[-3000:]}")
        time.sleep(0.1)
    if fresh:
        seed(server)
    return server


def seed(server: Server) -> None:
    for name, (role, password) in USERS.items():
        if name != "admin":
            server.api("POST", "/api/users", json={"username": name, "role": role, "password": password})
    for part in PARTS:
        server.api("POST", "/api/parts", json=part)
    for code in LOCATIONS:
        parent, _, _ = code.rpartition("/")
        server.api("POST", "/api/locations", json={"code": code, "name": code.title(), **({"parent": parent} if parent else {})})
    server.op("receive", part="SCREW-M3", tracking="untracked", location="STORES/SHELF-1", quantity=500)
    server.op("receive", part="SEAL-KIT", tracking="lot", lot="SK-2026-01", location="STORES/SHELF-2", quantity=40)
    server.op("receive", part="PUMP-A", tracking="serial", serial="PUMP-0001", location="STORES", quantity=1)


if __name__ == "__main__":  # a server to look at by hand: python -m tests.e2e.server /tmp/dir
    directory = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/gemba-e2e")
    directory.mkdir(parents=True, exist_ok=True)
    running = start_server(directory, directory / "server.log")
    print(running.url, flush=True)
    try:
        running.process.wait()
    except KeyboardInterrupt:
        running.stop()
