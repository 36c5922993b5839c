"""A real engine process (`python -m tradewire run`) on a free loopback port, for the CLI tests."""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

TOKEN = "cli-test-token-4f2a9c"
STARTUP_SECONDS = 30.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class RunningEngine:
    def __init__(
        self, process: subprocess.Popen[bytes], data_dir: Path, port: int, log: Path, token: str | None
    ) -> None:
        self.process = process
        self.given_token = token
        self.data_dir = data_dir
        self.url = f"http://127.0.0.1:{port}"
        self.log = log

    @property
    def token(self) -> str:
        """The one it was given, or the one it generated into its data directory."""
        if self.given_token is not None:
            return self.given_token
        return (self.data_dir / "api-token").read_text().strip()

    def get(self, path: str) -> httpx.Response:
        return httpx.get(self.url + path, headers={"Authorization": f"Bearer {self.token}"}, timeout=5.0)

    def stop(self) -> int:
        """SIGTERM, then wait for the clean shutdown; SIGKILL if it does not come."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
            raise


@contextmanager
def engine_process(data_dir: Path, token: str | None = TOKEN) -> Iterator[RunningEngine]:
    """Start an engine; `token=None` lets it generate one into <data_dir>/api-token."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADEWIRE_")}
    if token is not None:
        env["TRADEWIRE_API_TOKEN"] = token
    port = free_port()
    log = data_dir.parent / f"{data_dir.name}-engine.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "tradewire", "run", "--data-dir", str(data_dir), "--port", str(port)],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    engine = RunningEngine(process, data_dir, port, log, token)
    try:
        _wait_ready(engine)
        yield engine
    finally:
        engine.stop()


def _wait_ready(engine: RunningEngine) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if engine.process.poll() is not None:
            raise RuntimeError(f"the engine exited at start:\n{engine.log.read_text()}")
        try:
            if httpx.get(engine.url + "/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise TimeoutError(f"the engine did not answer in {STARTUP_SECONDS}s:\n{engine.log.read_text()}")
