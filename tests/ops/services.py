"""Real Redis and PostgreSQL servers for the tests, started on 127.0.0.1 and thrown away.

Debian's `redis-server` and `postgresql` packages provide the binaries
(`scripts/test --system-packages`, or CI=true, installs them). When a binary
is missing or the server does not start, the tests that need it are skipped
with the reason and how to install it.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

__all__ = ["free_port", "redis_server", "postgres_server", "Unavailable", "PG_PASSWORD"]

PG_PASSWORD = "pg-test-password-5e1f"  # must never show up in a log


class Unavailable(RuntimeError):
    """The server cannot run here; the message says why (used as the skip reason)."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_port(port: int, proc: subprocess.Popen | None, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise Unavailable(f"server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise Unavailable(f"nothing listening on 127.0.0.1:{port} after {timeout:.0f}s")


@contextmanager
def redis_server(timeout: float = 10.0) -> Iterator[str]:
    """Yield redis://127.0.0.1:PORT/0 of a fresh redis-server (no persistence)."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise Unavailable("redis-server not installed: 'scripts/test --system-packages' (or CI=true) installs "
                          "it, or apt-get install redis-server")
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="redis-") as tmp:
        proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                 "--appendonly", "no", "--dir", tmp, "--daemonize", "no"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            _wait_port(port, proc, timeout)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()


def _pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


@dataclass(frozen=True)
class Postgres:
    url: str  # with the password, as DATABASE_URL would be
    port: int


@contextmanager
def postgres_server(timeout: float = 30.0) -> Iterator[Postgres]:
    """A throwaway cluster (initdb + pg_ctl) on 127.0.0.1, password auth, fsync off."""
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if initdb is None or pg_ctl is None:
        raise Unavailable("PostgreSQL server binaries not installed: 'scripts/test --system-packages' (or CI=true) "
                          "installs them, or apt-get install postgresql")
    run_as: dict = {}
    if os.geteuid() == 0:  # postgres refuses to run as root: use the package's system user
        try:
            pw = pwd.getpwnam("postgres")
        except KeyError:
            raise Unavailable("running as root and there is no 'postgres' user to run the server") from None
        run_as = {"user": pw.pw_uid, "group": pw.pw_gid}
    tmp = tempfile.mkdtemp(prefix="pg-")
    data = os.path.join(tmp, "data")
    pwfile = os.path.join(tmp, "pw")
    with open(pwfile, "w") as f:
        f.write(PG_PASSWORD + "\n")
    if run_as:
        for path in (tmp, pwfile):
            os.chown(path, run_as["user"], run_as["group"])
    port = free_port()

    def run(*cmd: str, limit: float) -> None:
        p = subprocess.run(cmd, capture_output=True, timeout=limit, **run_as)
        if p.returncode != 0:
            raise Unavailable(f"{os.path.basename(cmd[0])} failed: {p.stderr.decode(errors='replace')[-300:]}")

    try:
        run(initdb, "-D", data, "-U", "madoguchi", "--pwfile", pwfile, "--auth-local=trust",
            "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync", limit=120)
        opts = f"-p {port} -k {tmp} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off"
        run(pg_ctl, "-D", data, "-o", opts, "-l", os.path.join(tmp, "log"), "-w", "-t", str(int(timeout)),
            "start", limit=timeout + 10)
        _wait_port(port, None, timeout)
        yield Postgres(f"postgresql://madoguchi:{PG_PASSWORD}@127.0.0.1:{port}/postgres", port)
    finally:
        if os.path.exists(os.path.join(data, "postmaster.pid")):
            subprocess.run([pg_ctl, "-D", data, "-m", "immediate", "-w", "stop"], capture_output=True,
                           timeout=30, **run_as)
        shutil.rmtree(tmp, ignore_errors=True)
