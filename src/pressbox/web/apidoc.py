"""The REST reference, generated from the app's OpenAPI document: `pressbox api-docs` writes
docs/rest.md, and a test keeps the committed file equal to what the code generates."""

from __future__ import annotations

from typing import Any

from pressbox.bus import MemoryBus
from pressbox.store import Store

HEADER = """# Pressbox REST reference

Generated from the OpenAPI document (`GET /openapi.json`) by `pressbox api-docs`; do not edit by
hand. The shapes of the JSON bodies (game summary, snapshot, event, stream row) and the live
WebSocket are in [protocol.md](protocol.md).
"""


def openapi_spec() -> dict[str, Any]:
    """The OpenAPI document of the web app (built without a database: routes only)."""
    from pressbox.web.app import create_app

    # An engine connects on first use only: nothing is opened here.
    app = create_app(Store.connect("sqlite+aiosqlite:///:memory:"), MemoryBus())
    return app.openapi()


def render(spec: dict[str, Any]) -> str:
    """Markdown: one section per tag, one entry per operation."""
    sections: dict[str, list[str]] = {}
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            tag = (op.get("tags") or ["other"])[0]
            sections.setdefault(tag, []).append(_operation(method.upper(), path, op))
    lines = [HEADER]
    for tag, entries in sections.items():
        lines.append(f"## {tag.capitalize()}\n")
        lines.extend(entries)
    return "\n".join(lines).rstrip() + "\n"


def _operation(method: str, path: str, op: dict[str, Any]) -> str:
    lines = [f"### `{method} {path}`\n", f"{op.get('summary', '')}.\n"]
    if description := op.get("description"):
        lines.append(f"{' '.join(description.split())}\n")
    if parameters := op.get("parameters"):
        lines.append("| parameter | in | type | required | default | meaning |")
        lines.append("|---|---|---|---|---|---|")
        for p in parameters:
            schema = p.get("schema", {})
            limits = [f"{k} {schema[k]}" for k in ("minimum", "maximum") if k in schema]
            kind = schema.get("type", "") + (f" ({', '.join(limits)})" if limits else "")
            default = f"`{schema['default']}`" if "default" in schema else ""
            required = "yes" if p.get("required") else "no"
            cells = (f"`{p['name']}`", p["in"], kind, required, default, p.get("description", ""))
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    if security := _admin(op):
        lines.append(security)
    lines.append("| status | meaning |")
    lines.append("|---|---|")
    for code, response in op.get("responses", {}).items():
        meaning = response.get("description", "")
        if code == "422":
            meaning = "a parameter is malformed (FastAPI's validation error body)"
        lines.append(f"| {code} | {meaning} |")
    return "\n".join(lines) + "\n"


def _admin(op: dict[str, Any]) -> str:
    if "401" in op.get("responses", {}):
        return "Needs `Authorization: Bearer <PRESSBOX_ADMIN_TOKEN>`.\n"
    return ""
