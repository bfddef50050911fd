"""Maintenance commands: migrate (the database schema) and api-docs (the REST reference)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Annotated

import typer

from pressbox.cli.common import err, run_or_exit, settings_or_exit
from pressbox.store.migrate import upgrade


def migrate() -> None:
    """Create or upgrade the database schema (PRESSBOX_DATABASE_URL)."""
    settings = settings_or_exit()
    run_or_exit(asyncio.to_thread(upgrade, settings.database_url))
    err.print(f"database at {settings.database_url} is up to date")


def api_docs(
    out: Annotated[
        Path, typer.Option(help="Where to write the Markdown ('-': standard output).")
    ] = Path("docs/rest.md"),
) -> None:
    """Write the REST reference (Markdown) generated from the web app's OpenAPI document."""
    from pressbox.web.apidoc import openapi_spec, render

    text = render(openapi_spec())
    if str(out) == "-":
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")
        err.print(f"wrote {out}")
