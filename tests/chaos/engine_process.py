"""Start and stop a real engine process for tests that need one (crash tests, CLI tests)."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

TOKEN = "crash-test-token"
STARTUP_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class EngineProcess:
    """`python -m tradewire run` on loopback with its own data directory."""

    def __init__(self, data_dir: Path, port: int, env: dict[str, str] | None = None) -> None:
        self.data_dir = data_dir
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = data_dir.parent / f"engine-{port}.log"
        full_env = {**os.environ, "TRADEWIRE_API_TOKEN": TOKEN, **(env or {})}
        data_dir.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tradewire", "run", "--data-dir", str(data_dir), "--port", str(port)],
                env=full_env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def wait_ready(self) -> bool:
        """True once /healthz answers; False if the process died first (a crash probe can fire
        during start-up reconciliation)."""
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if not self.alive:
                return False
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1.0).status_code in (200, 503):
                    return True
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        self.kill()
        raise TimeoutError(
            f"engine did not start in {STARTUP_TIMEOUT}s; log: {self.log_path.read_text()[-3000:]}"
        )

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5.0)

    def kill(self) -> None:
        """SIGKILL, like a crash: no shutdown code runs."""
        if self.alive:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> int:
        """SIGTERM and wait for a clean shutdown."""
        if self.alive:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=30)
