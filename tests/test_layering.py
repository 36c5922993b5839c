"""The pure core never imports the shell: domain, risk, execution and portfolio do no I/O, and the
order manager reaches the outside world only through the ports (venue and journal protocols)."""

import ast
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[1] / "src" / "tradewire"
SHELL = ("api", "runtime", "cli", "client", "services", "journal.sqlite", "venues.paper")
CORE_RULES = {
    "domain": ("risk", "oms", "execution", "portfolio", *SHELL, "journal", "venues"),
    "risk": ("oms", "execution", *SHELL, "journal", "venues"),
    "execution": ("oms", *SHELL, "journal", "venues"),
    "portfolio": ("oms", "execution", *SHELL, "journal", "venues"),
    "oms": SHELL,
    "sessions": ("risk", "oms", "execution", "portfolio", *SHELL, "journal", "venues"),
}
IO_MODULES = ("sqlite3", "socket", "httpx", "fastapi", "uvicorn", "asyncio.subprocess", "os", "subprocess")


def imports_of(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", sorted(CORE_RULES))
def test_the_core_package_imports_nothing_from_the_shell(package: str) -> None:
    offenders = []
    for path in sorted((SOURCE / package).rglob("*.py")):
        for name in imports_of(path):
            inside = name.removeprefix("tradewire.")
            if name.startswith("tradewire.") and inside.startswith(CORE_RULES[package]):
                offenders.append(f"{path.relative_to(SOURCE)} imports {name}")
            if package != "oms" and name.split(".")[0] in IO_MODULES:
                offenders.append(f"{path.relative_to(SOURCE)} imports {name} (I/O)")
    assert offenders == []


def test_shared_code_has_no_venue_branches() -> None:
    """No `if paper` or venue-name checks outside the adapters."""
    offenders = []
    for path in sorted(SOURCE.rglob("*.py")):
        if "venues" in path.parts or path.name == "venues.py":
            continue
        text = path.read_text()
        for needle in ('== "paper"', "== 'paper'", "is_paper", "dry_run", 'venue == "'):
            if needle in text:
                offenders.append(f"{path.relative_to(SOURCE)}: {needle}")
    assert offenders == []
