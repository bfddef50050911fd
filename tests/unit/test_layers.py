"""The shape of the code (docs/architecture.md): the pure core imports no I/O, and the replay
server is an independent fake upstream that knows nothing of streams."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import pressbox

PACKAGE = Path(pressbox.__file__).parent


def imports(module: Path) -> set[str]:
    """Every module `module` imports (absolute names; relative imports are not used)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(module.read_text(), str(module))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{module}: relative import"
            found.add(node.module or "")
    return found


def within(names: set[str], prefixes: tuple[str, ...]) -> set[str]:
    return {n for n in names if any(n == p or n.startswith(p + ".") for p in prefixes)}


@pytest.mark.parametrize("module", sorted((PACKAGE / "domain").glob("*.py")), ids=lambda p: p.name)
def test_the_domain_imports_no_io(module: Path) -> None:
    names = imports(module)
    io = ("asyncio", "httpx", "sqlalchemy", "redis", "socket", "starlette", "fastapi", "uvicorn")
    assert not within(names, io), module
    ours = {n for n in names if n.startswith("pressbox")}
    assert ours <= within(ours, ("pressbox.domain", "pressbox.errors", "pressbox.clock")), ours


@pytest.mark.parametrize("module", sorted((PACKAGE / "replay").glob("*.py")), ids=lambda p: p.name)
def test_the_replay_server_knows_nothing_of_streams(module: Path) -> None:
    composition = (
        "pressbox.streaming",
        "pressbox.store",
        "pressbox.runtime",
        "pressbox.serving",
        "pressbox.replaying",
        "pressbox.web",
        "pressbox.bus",
        "pressbox.cli",
    )
    assert not within(imports(module), composition), module
