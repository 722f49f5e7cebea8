"""What can be checked of the deployment files on a machine without a Docker engine.

The compose file, both Dockerfiles and the systemd unit are parsed and
cross-checked against each other; where the tools are installed (Debian's
docker-compose, caddy, PostgreSQL, systemd-analyze), they check the files for
real: Compose v1 validates compose.yaml, Caddy serves the shipped Caddyfile over
HTTPS in front of a real `python -m bot serve`, and deploy/postgres-start
creates a cluster. A missing tool skips its test and says how to install it.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import tempfile
import ssl
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import yaml

from tests.ops.services import _pg_bin, free_port
from tests.ops.support import FakeLine, sign, text_event, wait_for, webhook
from tests.support.server import serve_app

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "knowledge"
INSTALL = "'scripts/test --system-packages' (or CI=true) installs it"
DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")


def _compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))


def _stages(dockerfile: Path) -> list[dict]:
    """Each FROM with its instructions (continuation lines joined, comments dropped)."""
    text = re.sub(r"\\\n", " ", dockerfile.read_text(encoding="utf-8"))
    args = dict(re.findall(r"^ARG (\w+)=(\S+)", text, re.M))
    stages: list[dict] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        word, _, rest = line.partition(" ")
        if word == "FROM":
            image, _, name = rest.partition(" AS ")
            image = re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], image)
            stages.append({"from": image, "name": name.strip() or None, "steps": []})
        elif stages:
            stages[-1]["steps"].append((word, rest))
    return stages


def _steps(stage: dict, word: str) -> list[str]:
    return [rest for w, rest in stage["steps"] if w == word]


def test_compose_file_is_the_subset_v1_and_v2_both_read() -> None:
    c = _compose()
    assert c["version"] == "3.8" and "name" not in c  # v1 1.29 rejects a top-level name
    assert set(c) <= {"version", "services", "volumes", "networks"}
    services = c["services"]
    assert set(services) == {"madoguchi", "https", "redis", "postgres"}
    assert [n for n, s in services.items() if s.get("profiles") == ["shared"]] == ["redis", "postgres"]
    for name, s in services.items():
        for dep in s.get("depends_on", []):
            assert dep in services and "profiles" not in services[dep], (name, dep)
        build = s["build"]
        context = ROOT / build["context"]
        stages = {st["name"] for st in _stages(context / build.get("dockerfile", "Dockerfile"))}
        assert build.get("target") is None or build["target"] in stages, name
        for volume in s.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (ROOT / source).exists(), (name, source)
            else:
                assert source in c["volumes"], (name, source)
    # the app is reached through the proxy; its own port only from this machine
    assert services["madoguchi"]["ports"] == ["127.0.0.1:8000:8000"]
    assert services["https"]["environment"]["MADOGUCHI_UPSTREAM"] == "madoguchi:8000"
    assert {"80:80", "443:443"} == set(services["https"]["ports"])


def test_compose_v1_accepts_it(tmp_path: Path) -> None:
    if shutil.which("docker-compose") is None:
        pytest.skip(f"docker-compose (Compose v1) not installed: {INSTALL}, or apt-get install docker-compose")
    shutil.copy(ROOT / "compose.yaml", tmp_path)
    for name in ("Dockerfile", "deploy", "knowledge"):
        (tmp_path / name).symlink_to(ROOT / name)
    (tmp_path / "madoguchi.env").write_text("LINE_CHANNEL_SECRET=x\n")
    run = subprocess.run(["docker-compose", "--profile", "shared", "config"], cwd=tmp_path, capture_output=True,
                         text=True, timeout=60, env={**os.environ, "MADOGUCHI_DOMAIN": "bot.example.jp"})
    assert run.returncode == 0, run.stderr
    resolved = yaml.safe_load(run.stdout)
    assert set(resolved["services"]) == {"madoguchi", "https", "redis", "postgres"}
    assert resolved["services"]["https"]["environment"]["MADOGUCHI_DOMAIN"] == "bot.example.jp"


def test_image_is_multi_stage_pinned_and_runs_as_a_user() -> None:
    stages = _stages(ROOT / "Dockerfile")
    assert [s["name"] for s in stages] == ["base", "build", "runtime", None]
    assert re.match(r"python:3\.11\.\d+-slim-bookworm@sha256:[0-9a-f]{64}$", stages[0]["from"])
    final = stages[-1]
    assert final["from"] == "scratch"  # the trimmed runtime and the venv only: no pip, apt or build tools
    assert [s.split()[0] for s in _steps(final, "COPY")] == ["--from=runtime", "--from=build", "knowledge/"]
    assert _steps(final, "USER") == ["madoguchi"]
    assert _steps(final, "EXPOSE") == ["8000"]
    [health] = _steps(final, "HEALTHCHECK")
    assert "http://127.0.0.1:8000/healthz" in health
    assert "--port\", \"8000\"" in _steps(final, "CMD")[0] and "0.0.0.0" in _steps(final, "CMD")[0]
    build = next(s for s in stages if s["name"] == "build")
    assert any("requirements.lock*" in c for c in _steps(build, "COPY"))
    assert any("--require-hashes" in r for r in _steps(build, "RUN"))
    runtime = next(s for s in stages if s["name"] == "runtime")
    assert any("useradd --system --uid 10001" in r for r in _steps(runtime, "RUN"))


def test_service_images_come_from_pinned_debian_and_run_as_users() -> None:
    stages = {s["name"]: s for s in _stages(ROOT / "deploy" / "services.Dockerfile")}
    assert DIGEST.search(stages["debian"]["from"]) and stages["debian"]["from"].startswith("debian:bookworm-slim@")
    for name, user in (("caddy", "caddy"), ("redis", "redis"), ("postgres", "postgres")):
        assert stages[name]["from"] == "debian", name
        assert _steps(stages[name], "USER") == [user], name


def test_systemd_unit_verifies(tmp_path: Path) -> None:
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze not installed (Debian package systemd)")
    unit = (ROOT / "deploy" / "madoguchi.service").read_text(encoding="utf-8")
    assert "ExecStart=/opt/madoguchi/.venv/bin/python -m bot serve --host 127.0.0.1 --port 8000" in unit
    # verify wants the program to exist: point it at this interpreter, check everything else as shipped
    (tmp_path / "madoguchi.service").write_text(unit.replace("/opt/madoguchi/.venv/bin/python", sys.executable))
    run = subprocess.run(["systemd-analyze", "verify", str(tmp_path / "madoguchi.service")], capture_output=True,
                         text=True, timeout=60)
    ours = [line for line in (run.stdout + run.stderr).splitlines() if "madoguchi.service" in line]
    assert run.returncode == 0 and not ours, run.stdout + run.stderr


def test_caddy_serves_the_webhook_over_https(tmp_path: Path) -> None:
    """The shipped Caddyfile in front of a real server: LINE's Verify request and a message, over TLS."""
    if shutil.which("caddy") is None:
        pytest.skip(f"caddy not installed: {INSTALL}, or apt-get install caddy")
    secret, token = "https-test-line-secret", "https-test-line-token"
    fake = FakeLine()
    app_port, http_port, https_port = free_port(), free_port(), free_port()
    # Test-only global options: high ports, and never touch this machine's trust store.
    caddyfile = tmp_path / "Caddyfile"
    caddyfile.write_text(f"{{\n\thttp_port {http_port}\n\thttps_port {https_port}\n\tskip_install_trust\n"
                         f"\tadmin off\n}}\n" + (ROOT / "deploy" / "Caddyfile").read_text(encoding="utf-8"))
    base_env = {k: v for k, v in os.environ.items()
                if not k.startswith(("SLACK_", "LINE_", "MADOGUCHI_", "REDIS_", "DATABASE_"))}
    with serve_app(fake.app()) as fake_url:
        app = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve", "--knowledge", str(FIXTURE), "--port", str(app_port)], cwd=ROOT,
            # MADOGUCHI_ENCODER=none: the proxy is under test, not retrieval (the fixture has no vector cache)
            env={**base_env, "MADOGUCHI_ENCODER": "none", "MADOGUCHI_DATA_DIR": str(tmp_path / "data"),
                 "LINE_CHANNEL_SECRET__MINATO": secret,
                 "LINE_CHANNEL_ACCESS_TOKEN__MINATO": token, "LINE_API_ENDPOINT": fake_url},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        proxy = subprocess.Popen(
            ["caddy", "run", "--config", str(caddyfile), "--adapter", "caddyfile"], cwd=tmp_path,
            env={**base_env, "HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path / "caddy-data"),
                 "XDG_CONFIG_HOME": str(tmp_path / "caddy-config"), "MADOGUCHI_DOMAIN": "localhost",
                 "MADOGUCHI_UPSTREAM": f"127.0.0.1:{app_port}"},
            stdout=subprocess.DEVNULL, stderr=open(tmp_path / "caddy.log", "w"))
        try:
            root = tmp_path / "caddy-data" / "caddy" / "pki" / "authorities" / "local" / "root.crt"
            assert wait_for(root.exists, timeout=30), (tmp_path / "caddy.log").read_text()[-2000:]
            base = f"https://localhost:{https_port}"
            with httpx.Client(verify=ssl.create_default_context(cafile=str(root)), timeout=5) as client:
                def up() -> bool:
                    try:
                        return client.get(f"{base}/healthz").status_code == 200
                    except httpx.HTTPError:
                        return False

                assert wait_for(up, timeout=60), (tmp_path / "caddy.log").read_text()[-2000:]
                verify = b'{"destination":"U0123456789abcdef0123456789abcdef","events":[]}'  # what Verify sends
                r = client.post(f"{base}/line/minato", content=verify,
                                headers={"content-type": "application/json", "x-line-signature": sign(secret, verify)})
                assert r.status_code == 200
                body = webhook(text_event("車いすを借りたい"))
                r = client.post(f"{base}/line/minato", content=body,
                                headers={"content-type": "application/json", "x-line-signature": sign(secret, body)})
                assert r.status_code == 200
                assert wait_for(lambda: len(fake.replies()) == 1, timeout=15)
                forged = client.post(f"{base}/line/minato", content=body,
                                     headers={"content-type": "application/json", "x-line-signature": "AAAA"})
                assert forged.status_code in (400, 401, 403)
                assert client.get(f"{base}/metrics").status_code == 404  # stays inside
                assert httpx.get(f"http://localhost:{http_port}/healthz").status_code in (301, 308)  # to https
        finally:
            for proc in (proxy, app):
                proc.send_signal(signal.SIGINT)
            for proc in (proxy, app):
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    proc.kill()
    assert "車椅子" in str(fake.replies()[0]) or "車いす" in str(fake.replies()[0])


def test_postgres_start_creates_the_cluster_once_and_keeps_it() -> None:
    postgres = _pg_bin("postgres")
    if postgres is None or _pg_bin("initdb") is None:
        pytest.skip(f"PostgreSQL server binaries not installed: {INSTALL}, or apt-get install postgresql")
    psycopg = pytest.importorskip("psycopg")
    tmp = Path(tempfile.mkdtemp(prefix="pg-start-"))  # not under pytest's root-only tmp_path
    run_as: dict = {}
    if os.geteuid() == 0:  # postgres refuses to run as root
        import pwd

        pw = pwd.getpwnam("postgres")
        run_as = {"user": pw.pw_uid, "group": pw.pw_gid}
        os.chown(tmp, pw.pw_uid, pw.pw_gid)
    port = free_port()
    env = {"PATH": os.environ["PATH"], "PGDATA": str(tmp / "data"), "PGPORT": str(port),
           "PG_BIN": str(Path(postgres).resolve().parent), "POSTGRES_PASSWORD": "compose-pg-password", "TMPDIR": str(tmp)}
    url = f"postgresql://madoguchi:compose-pg-password@127.0.0.1:{port}/madoguchi"

    @contextmanager
    def running() -> Iterator[list[str]]:
        output: list[str] = []
        proc = subprocess.Popen([str(ROOT / "deploy" / "postgres-start")], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, **run_as)
        try:
            def ready() -> bool:
                try:
                    psycopg.connect(url, connect_timeout=2).close()
                    return True
                except psycopg.OperationalError:
                    return proc.poll() is not None

            wait_for(ready, timeout=60, interval=0.2)
            assert proc.poll() is None, proc.communicate()[0]
            yield output
        finally:
            proc.terminate()
            output.append(proc.communicate(timeout=30)[0])

    try:
        _two_starts(running, psycopg, url)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _two_starts(running, psycopg, url: str) -> None:
    with running() as first:
        with psycopg.connect(url, connect_timeout=5) as db:
            assert db.execute("select current_database(), current_user").fetchone() == ("madoguchi", "madoguchi")
            db.execute("create table kept (x int)")
        with pytest.raises(psycopg.OperationalError, match="password"):  # over the network, the password counts
            psycopg.connect(url.replace("compose-pg-password", "wrong"), connect_timeout=5)
    assert "creating the cluster" in first[0]
    with running() as second:
        with psycopg.connect(url, connect_timeout=5) as db:
            assert db.execute("select count(*) from kept").fetchone() == (0,)  # the same cluster, not a new one
    assert "creating the cluster" not in second[0]
