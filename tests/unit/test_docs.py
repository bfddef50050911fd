"""The documentation generated from the code is the one committed."""

from __future__ import annotations

from pathlib import Path

from pressbox.web.apidoc import openapi_spec, render

ROOT = Path(__file__).resolve().parents[2]


def test_the_rest_reference_is_generated_from_the_current_openapi_document() -> None:
    committed = (ROOT / "docs" / "rest.md").read_text(encoding="utf-8")
    assert committed == render(openapi_spec()), "docs/rest.md is stale: run `pressbox api-docs`"


def test_every_route_of_the_app_is_in_the_reference() -> None:
    spec = openapi_spec()
    text = render(spec)
    for path, operations in spec["paths"].items():
        for method in operations:
            assert f"### `{method.upper()} {path}`" in text
    assert {"/api/live/games", "/api/streams/{game_id}/cancel", "/readyz", "/metrics"} <= set(
        spec["paths"]
    )
