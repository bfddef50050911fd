"""Webhook subscriptions through `/api/webhooks` (admin token) and `pressbox webhooks`: what is
created, validated, shown, refused and removed, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from pressbox.bus.memory import MemoryBus
from pressbox.cli import app as cli
from pressbox.clock import ScaledClock
from pressbox.store import Store
from pressbox.store.webhooks import Attempt, Webhooks
from pressbox.web.app import create_app
from stores import add_game, migrated_store, play

T0 = datetime(2025, 8, 23, 16, 0, tzinfo=UTC)
TOKEN = "s3cret-operator-token-0123456789"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}


def client(store: Store, token: str = TOKEN) -> httpx.AsyncClient:
    app = create_app(store, MemoryBus(), ScaledClock(T0), heartbeat=60.0, admin_token=token)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://pb.test")


async def test_create_show_list_and_delete_behind_the_admin_token(db_url: str) -> None:
    async with migrated_store(db_url) as store:
        await add_game(store, "g1", T0, league="nba", sport="basketball")
        await store.append("g1", [play(1, T0), play(2, T0)])
        async with client(store) as http:
            body = {"url": "https://hooks.example/pb", "events": ["play_added"], "league": "nba"}
            created = await http.post("/api/webhooks", json=body, headers=ADMIN)
            assert created.status_code == 201, created.text
            webhook, secret = created.json()["webhook"], created.json()["secret"]
            assert secret.startswith("whsec_") and len(secret) > 40
            assert webhook["events"] == ["play_added"] and webhook["league"] == "nba"
            assert webhook["status"] == "active" and webhook["delivered"] == 0
            assert "secret" not in webhook
            hook_id = webhook["id"]
            # What the dispatcher would have logged, shown by the API:
            hooks = Webhooks(store)
            [_] = await hooks.claim("runner-x", T0, 30.0, 10)
            attempt = Attempt(T0, "g1", 1, 2, 2, 503, "HTTP 503", 12)
            await hooks.failed(hook_id, "runner-x", attempt, failing_after=timedelta(minutes=10))
            shown = await http.get(f"/api/webhooks/{hook_id}", headers=ADMIN)
            assert shown.status_code == 200
            detail = shown.json()
            assert detail["cursors"] == {"g1": 2}  # starts at the end of the log as it was
            assert detail["webhook"]["owner"] == "runner-x"
            assert detail["webhook"]["last_error"] == "HTTP 503"
            [logged] = detail["deliveries"]
            assert logged["status_code"] == 503 and not logged["ok"] and logged["events"] == 2
            listed = (await http.get("/api/webhooks", headers=ADMIN)).json()["webhooks"]
            assert [w["id"] for w in listed] == [hook_id]
            assert (await http.delete(f"/api/webhooks/{hook_id}", headers=ADMIN)).status_code == 204
            assert (await http.delete(f"/api/webhooks/{hook_id}", headers=ADMIN)).status_code == 404
            assert (await http.get(f"/api/webhooks/{hook_id}", headers=ADMIN)).status_code == 404
            assert (await http.get("/api/webhooks", headers=ADMIN)).json() == {"webhooks": []}


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"url": "ftp://x/y"}, "not an absolute http(s) URL"),
        ({"url": "/relative"}, "not an absolute http(s) URL"),
        ({"url": "http://x/", "events": ["goal"]}, "unknown event type(s) goal"),
        ({"url": "http://x/", "league": "mlb"}, "unsupported league 'mlb'"),
        ({"url": "http://x/", "secret": "short"}, "16 to 200 characters"),
    ],
)
async def test_a_bad_subscription_is_refused_with_what_is_wrong(
    tmp_path: Path, body: dict[str, object], says: str
) -> None:
    async with (
        migrated_store(f"sqlite+aiosqlite:///{tmp_path}/p.db") as store,
        client(store) as http,
    ):
        refused = await http.post("/api/webhooks", json=body, headers=ADMIN)
        assert refused.status_code == 422
        assert says in refused.json()["detail"]
        assert (await http.get("/api/webhooks", headers=ADMIN)).json() == {"webhooks": []}
        malformed = await http.post("/api/webhooks", content=b"{", headers=ADMIN)
        assert malformed.status_code == 422


async def test_every_webhook_call_needs_the_token(tmp_path: Path) -> None:
    async with migrated_store(f"sqlite+aiosqlite:///{tmp_path}/p.db") as store:
        calls = [("GET", "/api/webhooks"), ("POST", "/api/webhooks"), ("GET", "/api/webhooks/1")]
        calls.append(("DELETE", "/api/webhooks/1"))
        async with client(store) as http:
            for method, path in calls:
                wrong = {"Authorization": "Bearer nope"}
                assert (await http.request(method, path, headers=wrong)).status_code == 401
                assert (await http.request(method, path)).status_code == 401
        async with client(store, token="") as http:
            for method, path in calls:
                assert (await http.request(method, path, headers=ADMIN)).status_code == 403


def test_the_cli_adds_lists_shows_and_removes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PRESSBOX_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/cli.db")
    runner = CliRunner()
    added = runner.invoke(
        cli, ["webhooks", "add", "http://127.0.0.1:9/h", "--events", "score", "--league", "nfl"]
    )
    assert added.exit_code == 0, added.output
    assert "signing secret (shown only now): whsec_" in added.output
    listed = runner.invoke(cli, ["webhooks", "list", "--json"])
    [webhook] = json.loads(listed.stdout)["webhooks"]
    assert webhook["url"] == "http://127.0.0.1:9/h" and webhook["events"] == ["score"]
    shown = runner.invoke(cli, ["webhooks", "show", str(webhook["id"]), "--json"])
    assert json.loads(shown.stdout)["deliveries"] == []
    bad = runner.invoke(cli, ["webhooks", "add", "http://x/", "--events", "play_added,goal"])
    assert bad.exit_code == 2 and "unknown event type(s) goal" in bad.output
    assert runner.invoke(cli, ["webhooks", "remove", str(webhook["id"])]).exit_code == 0
    missing = runner.invoke(cli, ["webhooks", "remove", str(webhook["id"])])
    assert missing.exit_code == 1 and f"no webhook {webhook['id']}" in missing.output
    assert json.loads(runner.invoke(cli, ["webhooks", "list", "--json"]).stdout) == {"webhooks": []}
