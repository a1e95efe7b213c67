"""`gradergen serve` as the suites start it: a real process on 127.0.0.1 with a free port, its settings
in a TOML file of the test's, its output kept for the test to read.

    with GradersServer(config={"python": {"timeout": 5}}, api_key="sk-test") as server:
        server.url            # http://127.0.0.1:PORT/v1, the base URL an SDK is given
        server.access_log()   # the JSON access lines so far
        server.stderr()       # uvicorn's and the engine's messages
        server.stop()         # SIGTERM, and wait for the exit status

Session fixtures in conftest.py: `graders_server` (python graders with a small timeout, model graders
answered by a FakeOpenAI, `fake_models`) for the client suites of every language.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Self

import httpx

from harness import BIN

START_TIMEOUT = 60.0
API = "/v1/fine_tuning/alpha/graders"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def toml_text(config: Mapping[str, Mapping[str, Any]]) -> str:
    lines: list[str] = []
    for section, values in config.items():
        lines.append(f"[{section}]")
        tables = {k: v for k, v in values.items() if isinstance(v, Mapping)}
        for key, value in values.items():
            if key not in tables:
                lines.append(f"{key} = {json.dumps(value)}")
        for key, table in tables.items():
            lines.append(f"[{section}.{key}]")
            lines.extend(f"{json.dumps(k)} = {json.dumps(v)}" for k, v in table.items())
    return "\n".join(lines) + "\n"


class GradersServer:
    def __init__(
        self,
        config: Mapping[str, Mapping[str, Any]] | None = None,
        *,
        api_key: str | None = None,
        workers: int = 1,
        args: tuple[str, ...] = (),
        env: Mapping[str, str] | None = None,
    ) -> None:
        self._dir = Path(tempfile.mkdtemp(prefix="gradergen-serve-"))
        settings = {"cache": {"enabled": False}, **(config or {})}
        self.config_file = self._dir / "gradergen.toml"
        self.config_file.write_text(toml_text(settings))
        self.api_key = api_key
        self.workers = workers
        self.args = args
        self.env = dict(env or {})
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self.returncode: int | None = None

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> Self:
        for _ in range(3):  # a port taken between choosing it and binding it: choose again
            self.port = free_port()
            self._launch()
            if self._wait_ready():
                return self
            if "address already in use" not in self.stderr().lower():
                break
        output = self.stderr()[-4000:]
        self.stop()
        raise RuntimeError(f"gradergen serve did not start:\n{output}")

    def _launch(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GRADERGEN_", "OPENAI_"))}
        env.update(self.env)
        command = [str(BIN / "gradergen"), "serve", "--host", "127.0.0.1", "--port", str(self.port),
                   "--config", str(self.config_file), "--workers", str(self.workers), *self.args]  # fmt: skip
        if self.api_key is not None:
            command += ["--api-key", self.api_key]
        self._stdout = open(self._dir / "stdout", "wb")  # kept open while it runs
        self._stderr = open(self._dir / "stderr", "wb")
        self.proc = subprocess.Popen(
            command, stdout=self._stdout, stderr=self._stderr, stdin=subprocess.DEVNULL, env=env
        )

    def _wait_ready(self) -> bool:
        assert self.proc is not None
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                if httpx.get(f"{self.base}/healthz", timeout=2).status_code == 200:
                    return True
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        return False

    def stop(self, timeout: float = 60.0) -> int | None:
        """SIGTERM (uvicorn finishes the requests in flight), then the exit status."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None:
            self.returncode = self.proc.returncode
            self._stdout.close()
            self._stderr.close()
        return self.returncode

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ where and what
    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.base}/v1"

    def endpoint(self, operation: str) -> str:
        return f"{self.base}{API}/{operation}"

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}

    def post(self, operation: str, body: Any, **options: Any) -> httpx.Response:
        return httpx.post(
            self.endpoint(operation), json=body, headers=self.headers(), timeout=options.pop("timeout", 60)
        )

    def health(self) -> dict[str, Any]:
        found: dict[str, Any] = httpx.get(f"{self.base}/healthz", timeout=10).json()
        return found

    def access_log(self) -> list[dict[str, Any]]:
        text = (self._dir / "stdout").read_text(errors="replace")
        return [json.loads(line) for line in text.splitlines() if line.startswith("{")]

    def stderr(self) -> str:
        path = self._dir / "stderr"
        return path.read_text(errors="replace") if path.exists() else ""

    def descendants(self) -> list[int]:
        """The pids of every process under the server (the sandbox's workers among them)."""
        assert self.proc is not None
        children: dict[int, list[int]] = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(entry.name))
        found: list[int] = []
        todo = [self.proc.pid]
        while todo:
            for child in children.get(todo.pop(), []):
                found.append(child)
                todo.append(child)
        return found
