"""`gradergen serve` as a real process on 127.0.0.1, on a port the kernel picks, for tests that call it
with clients of their own.

    with ServeProcess(env={"GRADERGEN_MODEL_BASE_URL": fake.url}) as server:
        server.origin       # http://127.0.0.1:PORT (the API is under /v1)
        server.output()     # what it logged so far
"""

from __future__ import annotations

import http.client
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Self

BIN = Path(sys.executable).parent
RUNNING = re.compile(r"Uvicorn running on http://127\.0\.0\.1:(\d+)")


class ServeProcess:
    def __init__(self, *args: str, env: Mapping[str, str] | None = None, cwd: Path | None = None) -> None:
        """`args` are more `gradergen serve` options; `env` is added to a copy of this process's
        environment without its OPENAI_* and GRADERGEN_* settings (so the caller's never leak in)."""
        self.command = [str(BIN / "gradergen"), "serve", "--host", "127.0.0.1", "--port", "0", *args]
        base = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "GRADERGEN_"))}
        self._env = {**base, **(env or {})}
        self._cwd = cwd
        self._log = tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace")
        self._process: subprocess.Popen[str] | None = None
        self.origin = ""

    def start(self, timeout: float = 120.0) -> Self:
        workdir = self._cwd or Path(tempfile.mkdtemp(prefix="gradergen-serve-"))  # no stray gradergen.toml
        self._process = subprocess.Popen(
            self.command, stdout=self._log, stderr=subprocess.STDOUT, env=self._env, cwd=workdir, text=True
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                status = self._process.returncode
                raise RuntimeError(f"gradergen serve exited with {status}:\n{self.output()}")
            found = RUNNING.search(self.output())
            if found and self._healthy(int(found.group(1))):
                self.origin = f"http://127.0.0.1:{found.group(1)}"
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"gradergen serve did not come up in {timeout:.0f} s:\n{self.output()}")

    @staticmethod
    def _healthy(port: int) -> bool:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/healthz")
            return connection.getresponse().status == 200
        except OSError:
            return False

    def output(self) -> str:
        self._log.flush()
        self._log.seek(0)
        return self._log.read()

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(60)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
