"""One engine per data directory: two engines appending to one journal would corrupt the state.

The lock is an OS file lock (`flock`), so it is released when the process dies, kill -9 included:
a crashed engine never leaves a stale lock behind.
"""

import os
from pathlib import Path
from types import TracebackType
from typing import Self

from tradewire.domain.errors import TradewireError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows has no flock; the journal's own checks remain
    fcntl = None  # type: ignore[assignment]


class DataDirectoryLocked(TradewireError):
    pass


class DataDirectoryLock:
    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / "engine.lock"
        self._descriptor: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        if fcntl is not None:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.read(descriptor, 64).decode(errors="replace").strip() or "unknown"
                os.close(descriptor)
                raise DataDirectoryLocked(
                    f"another engine (pid {holder}) is running on {self.path.parent}; "
                    "stop it or use another --data-dir"
                ) from None
        os.ftruncate(descriptor, 0)
        os.write(descriptor, str(os.getpid()).encode())
        self._descriptor = descriptor

    def release(self) -> None:
        if self._descriptor is not None:
            os.close(self._descriptor)
            self._descriptor = None

    def __enter__(self) -> Self:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()
