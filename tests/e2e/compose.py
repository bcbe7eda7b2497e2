"""Run a compose file's services as local processes: what `docker compose up` would start, minus Docker.

Reads the YAML (anchors and `<<` merges included), interpolates `${VAR:-default}`, orders services by
`depends_on`, and gives each service its command and environment (env_file, then `environment`).
The test maps what only a container has: images without a build (PostgreSQL) are the machine's own,
named volumes become directories, container port 8000 becomes a free local port per replica.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.e2e.harness import wait_for
from tests.fakes.server import free_port

CLI = str(Path(sys.executable).with_name("mini-review"))
CONTAINER_PORT = "8000"
_VAR = re.compile(r"\$\{(?P<name>[A-Z0-9_]+)(?::-(?P<default>[^}]*))?\}")


def interpolate(value: Any, variables: dict[str, str]) -> Any:
    """Apply compose's `${VAR}` / `${VAR:-default}` substitution throughout a parsed file."""
    if isinstance(value, str):
        return _VAR.sub(lambda m: variables.get(m["name"]) or (m["default"] or ""), value)
    if isinstance(value, list):
        return [interpolate(v, variables) for v in value]
    if isinstance(value, dict):
        return {k: interpolate(v, variables) for k, v in value.items()}
    return value


def parse_duration(text: str) -> float:
    """Compose durations such as `40s`, `1m30s`."""
    units = {"h": 3600, "m": 60, "s": 1, "ms": 0.001}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|h|m|s)", text)
    assert parts and "".join(n + u for n, u in parts) == text, text
    return sum(float(n) * units[u] for n, u in parts)


@dataclass
class Service:
    name: str
    spec: dict[str, Any]

    @property
    def is_app(self) -> bool:
        """Built from this repository (ours to run); otherwise infrastructure such as PostgreSQL."""
        return "build" in self.spec

    @property
    def replicas(self) -> int:
        return int(self.spec.get("deploy", {}).get("replicas", 1))

    @property
    def one_shot(self) -> bool:
        return self.spec.get("restart") == "no"

    @property
    def stop_grace_s(self) -> float:
        return parse_duration(str(self.spec.get("stop_grace_period", "10s")))

    @property
    def depends_on(self) -> dict[str, str]:
        deps = self.spec.get("depends_on", {})
        if isinstance(deps, list):
            return dict.fromkeys(deps, "service_started")
        return {name: str(cond.get("condition", "service_started")) for name, cond in deps.items()}

    def environment(self, env_file_values: dict[str, str]) -> dict[str, str]:
        """env_file first, `environment` over it (compose's precedence)."""
        env = dict(env_file_values)
        raw = self.spec.get("environment", {})
        if isinstance(raw, list):
            raw = dict(item.split("=", 1) for item in raw)
        env.update({k: str(v) for k, v in raw.items()})
        return env

    def healthcheck(self) -> list[str] | None:
        check = self.spec.get("healthcheck")
        if not check or check.get("disable"):
            return None
        test = check["test"]
        assert isinstance(test, list) and test[0] == "CMD", f"{self.name}: exec-form healthcheck expected"
        return [str(part) for part in test[1:]]


def load(path: Path, variables: dict[str, str] | None = None) -> dict[str, Service]:
    data = interpolate(yaml.safe_load(path.read_text()), variables or {})
    return {name: Service(name, spec) for name, spec in data["services"].items()}


def start_order(services: dict[str, Service]) -> list[Service]:
    """Topological order over depends_on (compose refuses cycles, so do we)."""
    done: list[str] = []

    def visit(name: str, path: tuple[str, ...]) -> None:
        assert name not in path, f"dependency cycle {path + (name,)}"
        if name in done:
            return
        for dep in services[name].depends_on:
            assert dep in services, f"{name} depends on unknown service {dep}"
            visit(dep, path + (name,))
        done.append(name)

    for name in services:
        visit(name, ())
    return [services[name] for name in done]


def localise(argv: list[str], port: str | None) -> list[str]:
    """The container's command on this machine: our venv's programs, the replica's own port."""
    programs = {"mini-review": CLI, "python": sys.executable}
    out = [programs.get(argv[0], argv[0]), *argv[1:]]
    out = ["127.0.0.1" if a == "0.0.0.0" else a for a in out]
    if port is not None:
        out = [a.replace(f":{CONTAINER_PORT}/", f":{port}/") for a in out]
        out = [port if a == CONTAINER_PORT else a for a in out]
    return out


@dataclass
class Replica:
    service: Service
    proc: subprocess.Popen[bytes]
    port: str | None
    log: Path
    env: dict[str, str]
    healthcheck: list[str] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def healthy(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(f"{self.service.name} exited:\n{self.log.read_text()}")
        if self.healthcheck is None:
            return True
        return subprocess.run(self.healthcheck, capture_output=True, timeout=30).returncode == 0


@dataclass
class Project:
    """The running replicas of a compose file's app services."""

    workdir: Path
    env_file_values: dict[str, str]
    overrides: dict[str, str]
    volumes: dict[str, Path]
    replicas: list[Replica] = field(default_factory=list)

    def env_for(self, service: Service) -> dict[str, str]:
        """The replica's environment; a port the process listens on becomes a free local one."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "OPENAI_", "MINI_"))}
        values = service.environment(self.env_file_values)
        for mount in service.spec.get("volumes", []):
            volume, _, target = str(mount).partition(":")
            if volume in self.volumes:
                values = {k: v.replace(target, str(self.volumes[volume])) for k, v in values.items()}
        env.update(values)
        env.update(self.overrides)
        if "MINI_METRICS_PORT" in env:  # each container has its own network; here they share one
            env["MINI_METRICS_PORT"] = str(free_port())
        return env

    def run_once(self, service: Service) -> subprocess.CompletedProcess[bytes]:
        argv = localise(service.spec["command"], None)
        return subprocess.run(
            argv, env=self.env_for(service), cwd=self.workdir, capture_output=True, timeout=120
        )

    def start(self, service: Service) -> list[Replica]:
        started = []
        for n in range(service.replicas):
            publishes = bool(service.spec.get("ports"))
            port = str(free_port()) if publishes else None
            log = self.workdir / f"{service.name}-{n + 1}.log"
            out = log.open("wb")
            env = self.env_for(service)
            proc = subprocess.Popen(
                localise(service.spec["command"], port),
                env=env,
                cwd=self.workdir,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
            out.close()
            check = service.healthcheck()
            replica = Replica(service, proc, port, log, env, localise(check, port) if check else None)
            self.replicas.append(replica)
            started.append(replica)
        for replica in started:
            wait_for(replica.healthy, timeout=60, what=f"{service.name} to be healthy")
        return started

    def stop(self) -> dict[str, int]:
        """SIGTERM everyone, as compose does, and wait each out within its stop_grace_period.

        A replica that had already exited is reported as `exited early` (code + 1000)."""
        early = {id(r) for r in self.replicas if r.proc.poll() is not None}
        for replica in self.replicas:
            if replica.proc.poll() is None:
                replica.proc.terminate()
        codes = {}
        for n, replica in enumerate(self.replicas):
            if id(replica) in early:
                codes[f"{replica.service.name}-{n}"] = 1000 + (replica.proc.returncode or 0)
                continue
            try:
                codes[f"{replica.service.name}-{n}"] = replica.proc.wait(timeout=replica.service.stop_grace_s)
            except subprocess.TimeoutExpired:
                replica.proc.kill()
                replica.proc.wait()
                codes[f"{replica.service.name}-{n}"] = -9
        return codes
