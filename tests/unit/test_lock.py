"""The environment the tests run in is exactly `uv.lock`: every locked package this platform needs
is installed at its locked version, and nothing else is (the proof that `make` installs the lock,
not whatever the registry holds today)."""

import importlib.metadata
import tomllib
from pathlib import Path
from typing import Any

from packaging.markers import Marker
from packaging.utils import canonicalize_name

LOCK = Path(__file__).resolve().parents[2] / "uv.lock"
PROJECT = "pressbox"


def locked_closure(lock: dict[str, Any], extras: set[str]) -> dict[str, str]:
    """The packages the lock installs here for the project with `extras`: name -> version.

    Walks the lock's dependency graph from the project, following only the edges whose markers
    hold on this interpreter and platform, and the optional dependencies of requested extras.
    """
    packages: dict[str, list[dict[str, Any]]] = {}
    for package in lock["package"]:
        packages.setdefault(canonicalize_name(package["name"]), []).append(package)

    def pick(edge: dict[str, Any]) -> dict[str, Any]:
        candidates = packages[canonicalize_name(edge["name"])]
        if "version" in edge:
            candidates = [c for c in candidates if c["version"] == edge["version"]]
        assert len(candidates) == 1, f"ambiguous lock edge {edge}"
        return candidates[0]

    installed: dict[str, str] = {}
    pending: list[tuple[dict[str, Any], frozenset[str]]] = [
        (pick({"name": PROJECT}), frozenset(extras))
    ]
    seen: set[tuple[str, frozenset[str]]] = set()
    while pending:
        package, wanted = pending.pop()
        name = canonicalize_name(package["name"])
        if (name, wanted) in seen:
            continue
        seen.add((name, wanted))
        installed[name] = package["version"]
        edges = list(package.get("dependencies", []))
        for extra in wanted:
            edges += package.get("optional-dependencies", {}).get(extra, [])
        for edge in edges:
            if "marker" in edge and not Marker(edge["marker"]).evaluate({"extra": ""}):
                continue
            pending.append((pick(edge), frozenset(edge.get("extra", []))))
    return installed


def installed_distributions() -> dict[str, str]:
    return {
        canonicalize_name(dist.metadata["Name"]): dist.version
        for dist in importlib.metadata.distributions()
    }


def test_installed_packages_are_exactly_the_lock() -> None:
    lock = tomllib.loads(LOCK.read_text())
    expected = locked_closure(lock, {"dev"})
    installed = installed_distributions()

    assert installed == expected, {
        "missing": sorted(set(expected) - set(installed)),
        "not in the lock": sorted(set(installed) - set(expected)),
        "other version": {
            name: (installed[name], expected[name])
            for name in set(installed) & set(expected)
            if installed[name] != expected[name]
        },
    }


def test_every_locked_registry_package_carries_hashes() -> None:
    lock = tomllib.loads(LOCK.read_text())
    for package in lock["package"]:
        if "registry" not in package["source"]:
            continue
        artifacts = package.get("wheels", []) + ([package["sdist"]] if "sdist" in package else [])
        assert artifacts, package["name"]
        assert all(a["hash"].startswith("sha256:") for a in artifacts), package["name"]


def test_closure_follows_markers_and_extras() -> None:
    lock = {
        "package": [
            {
                "name": PROJECT,
                "version": "0.1.0",
                "dependencies": [
                    {"name": "a", "extra": ["fast"]},
                    {"name": "win-only", "marker": "sys_platform == 'nonexistent'"},
                ],
                "optional-dependencies": {"dev": [{"name": "tool"}]},
            },
            {
                "name": "a",
                "version": "1.0",
                "optional-dependencies": {"fast": [{"name": "speedup"}]},
            },
            {"name": "speedup", "version": "2.0"},
            {"name": "win-only", "version": "3.0"},
            {"name": "tool", "version": "4.0"},
        ]
    }
    assert locked_closure(lock, set()) == {PROJECT: "0.1.0", "a": "1.0", "speedup": "2.0"}
    assert locked_closure(lock, {"dev"})["tool"] == "4.0"
