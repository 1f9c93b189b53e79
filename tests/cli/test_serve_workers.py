"""``safeshare serve --workers 2`` as a real process: the parent migrates the store and loads
the demo once, then two worker processes each build their own store and app from the same
environment and serve the API on one port (sessions shared through the database), each on
its own ``SO_REUSEPORT`` socket: connections opened at once are spread across both."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from safeshare.cli.workers import connections_per_worker

SAFESHARE = str(Path(sys.executable).parent / "safeshare")
ACCOUNT = re.compile(r"^\s+(unhcr\.caseworker)\s+\S+\s+(\S+)\s*$")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found |= {int(c) for c in text}
    return found


def _env(tmp_path: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "SAFESHARE_ENV": "development",
        "SAFESHARE_DATABASE_URL": f"sqlite:///{tmp_path / 'store.db'}",
        "SAFESHARE_FIELD_KEY_FILE": str(tmp_path / "keys.json"),
        "SAFESHARE_AUDIT_KEY_FILE": str(tmp_path / "audit.pem"),
        "SAFESHARE_ORG_KEY_DIR": str(tmp_path / "org-keys"),
    }
    env.pop("SAFESHARE_FIELD_KEYS", None)
    return env


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], str, str]]:
    port = _free_port()
    env = _env(tmp_path)
    proc = subprocess.Popen(
        [SAFESHARE, "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=tmp_path,
    )
    try:
        assert proc.stdout is not None
        password = ""
        for line in proc.stdout:
            if m := ACCOUNT.match(line):
                password = m.group(2)
            if line.startswith("API:"):
                break
        assert password, "the demo accounts were not printed"
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, "the server exited"
            try:
                if httpx.get(f"{base}/api/auth/csrf", timeout=2).is_success:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not become ready in 60 s"
            time.sleep(0.2)
        yield proc, base, password
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def test_connections_opened_at_once_are_spread_across_the_workers(
    served: tuple[subprocess.Popen[str], str, str],
) -> None:
    """A client opening its pool at once (32 keep-alive connections) reaches both workers;
    with one shared socket the first worker to wake took them all."""
    proc, base, _password = served
    port = int(base.rsplit(":", 1)[1])
    opened = [socket.create_connection(("127.0.0.1", port)) for _ in range(32)]
    try:
        time.sleep(0.5)
        held = sorted(connections_per_worker(_children(proc.pid), port))
        assert sum(held) == 32, held
        # Spread by a hash of the addresses: fewer than 4 of 32 on a worker happens by
        # chance less than once in 100,000 runs.
        assert len(held) == 2, held
        assert held[0] >= 4, held
    finally:
        for s in opened:
            s.close()


def test_a_port_already_taken_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [SAFESHARE, "serve", "--no-demo", "--port", str(port), "--workers", "2"],
            env=_env(tmp_path),
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=120,
            check=False,
        )
    assert done.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr


def test_two_workers_serve_one_store(served: tuple[subprocess.Popen[str], str, str]) -> None:
    proc, base, password = served
    workers = _children(proc.pid)
    assert len(workers) >= 2, workers  # uvicorn's supervisor and its worker processes
    login = httpx.post(
        f"{base}/api/auth/login",
        json={"username": "unhcr.caseworker", "password": password},
        timeout=30,
    )
    assert login.status_code == 200, login.text
    headers = {"Authorization": f"Bearer {login.json()['token']}"}
    # Many requests on fresh connections land on both workers: each must know the session.
    for _ in range(20):
        with httpx.Client(base_url=base, timeout=30) as client:
            me = client.get("/api/auth/me", headers=headers)
            assert me.status_code == 200
            assert me.json()["role"] == "caseworker"
            case = client.get(f"/api/cases/{me.json()['cases'][0]}", headers=headers)
            assert case.status_code == 200
            assert case.headers["x-content-type-options"] == "nosniff"


def test_a_sessions_csrf_token_holds_on_every_worker(
    served: tuple[subprocess.Popen[str], str, str],
) -> None:
    """In development and demo the session secret may be left unset: the parent then gives
    every worker the same one, so a CSRF token bound to a session by one worker is accepted
    by the others (a cookie session's state-changing request on fresh connections, spread
    across the workers: refused with 403 by a worker with another secret; here it passes
    the check and fails on its empty body instead)."""
    _proc, base, password = served
    login = httpx.post(
        f"{base}/api/auth/login",
        json={"username": "unhcr.caseworker", "password": password},
        timeout=30,
    )
    assert login.status_code == 200, login.text
    token, csrf = login.json()["token"], login.json()["csrf_token"]
    statuses = set()
    for _ in range(16):
        with httpx.Client(base_url=base, timeout=30, cookies={"safeshare_session": token}) as c:
            answer = c.post("/api/decisions", json={}, headers={"X-CSRF-Token": csrf})
            statuses.add(answer.status_code)
    assert statuses == {422}, statuses
