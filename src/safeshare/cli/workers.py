# ruff: noqa: PLC0415 - the server stack is imported in the worker processes only
"""``safeshare serve --workers N``: N server processes, each listening on its own socket bound
to the same port with ``SO_REUSEPORT``, so that the kernel spreads new connections across them.

With one socket shared by every worker (uvicorn's own ``--workers``), the worker that wakes
first accepts every connection waiting: a client that opens its keep-alive connections at
once (a partner system's pool, a proxy) lands on one process and one core while the others
idle. Here each connection goes to a worker chosen by the kernel from the connection's
addresses.

The parent process holds the port (bound, not listening) so that a port already taken is a
clear error before any worker starts, forwards SIGINT and SIGTERM to the workers, and stops
them all if one of them exits on its own (the exit status is then 1: a supervisor such as
systemd restarts the whole server)."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import socket
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

BACKLOG = 2048
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class PortInUseError(OSError):
    """The port is taken by a process that is not one of this server's workers."""


def _reuse_port_socket(host: str, port: int) -> socket.socket:
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise PortInUseError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    return sock


def _worker(app: str, options: dict[str, Any]) -> None:
    """One worker process: its own socket in the port's group, one uvicorn server."""
    import uvicorn

    sock = _reuse_port_socket(options["host"], options["port"])
    sock.listen(BACKLOG)
    config = uvicorn.Config(app, factory=True, **options)
    uvicorn.Server(config).run(sockets=[sock])


def run_workers(app: str, workers: int, options: dict[str, Any]) -> int:
    """Runs ``workers`` processes serving the app factory ``app`` (a "module:function"
    string) until a stop signal; returns the exit status (0 after a stop signal)."""
    held = _reuse_port_socket(options["host"], options["port"])  # the port is ours
    context = multiprocessing.get_context("spawn")
    processes = [
        context.Process(target=_worker, args=(app, options), name=f"safeshare-worker-{i}")
        for i in range(workers)
    ]
    stopping = False

    def stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        for p in processes:
            if p.pid is not None and p.is_alive():
                p.terminate()  # SIGTERM: uvicorn finishes the requests in flight

    previous = {s: signal.signal(s, stop) for s in STOP_SIGNALS}
    try:
        for p in processes:
            p.start()
        while any(p.is_alive() for p in processes):
            if not stopping and any(p.exitcode is not None for p in processes):
                sys.stderr.write("safeshare: a worker exited; stopping the others\n")
                stop(signal.SIGTERM, None)
                return_code = 1
                break
            time.sleep(0.2)
        else:
            return_code = 0 if stopping else 1
        for p in processes:
            p.join(timeout=30)
            if p.is_alive():
                p.kill()
                p.join()
        return return_code
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        held.close()


def connections_per_worker(pids: Iterable[int], port: int) -> list[int]:
    """How many of the established TCP connections to ``port`` each of these processes
    holds, largest first (Linux: read from /proc). A worker holding more of a client's
    keep-alive connections serves more of its load."""
    established: set[int] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "01":
                    established.add(int(fields[9]))  # 01: ESTABLISHED; 9: the inode
    held = [len(_sockets_of(pid) & established) for pid in pids]
    return sorted((n for n in held if n), reverse=True)


def _sockets_of(pid: int) -> set[int]:
    found: set[int] = set()
    with contextlib.suppress(OSError):
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    found.add(int(target[8:-1]))
    return found
