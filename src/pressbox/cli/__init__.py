"""The `pressbox` command: thin wrappers that parse, call the library and print.

The commands live by kind in `serving` (serve, replay, record, runner, replay-server),
`operations` (schedule, streams), `webhooks` (add, list, show, remove) and `admin` (migrate,
api-docs); they are registered here, in the order `pressbox --help` lists them.
"""

from __future__ import annotations

import typer

from pressbox.cli.admin import api_docs, migrate
from pressbox.cli.operations import schedule, schedule_tables, streams_command, streams_table
from pressbox.cli.serving import record, replay_command, replay_server, runner_command, serve
from pressbox.cli.webhooks import app as webhooks_app

__all__ = ["app", "schedule_tables", "streams_table"]

app = typer.Typer(
    help="Pressbox: follow live sports games and push every change to browsers.\n\n"
    "Settings come from PRESSBOX_* environment variables (see the README).",
    no_args_is_help=True,
    add_completion=False,
)

app.command()(migrate)
app.command()(schedule)
app.command()(serve)
app.command("replay")(replay_command)
app.command()(record)
app.command("runner")(runner_command)
app.command("replay-server")(replay_server)
app.command("api-docs")(api_docs)
app.command("streams")(streams_command)
app.add_typer(webhooks_app, name="webhooks")
