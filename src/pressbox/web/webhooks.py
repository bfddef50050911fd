"""Webhook subscriptions over REST (docs/webhooks.md), every call behind the admin token: list,
create, show (with cursors and delivery attempts) and delete."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import BaseModel, Field

from pressbox.domain.webhooks import Subscription
from pressbox.store import Store
from pressbox.store.webhooks import Webhooks
from pressbox.web.operations import Admin

router = APIRouter(prefix="/api/webhooks", tags=["webhooks"])

REFUSALS: dict[int | str, dict[str, Any]] = {
    401: {"description": "missing or wrong admin token"},
    403: {"description": "no admin token configured: nobody may operate"},
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    **REFUSALS,
    404: {"description": "no such webhook"},
}


class NewWebhook(BaseModel):
    """The body of `POST /api/webhooks`."""

    url: str = Field(description="Where to POST deliveries (http or https).")
    events: list[str] = Field(
        default_factory=list, description="Event types to deliver; empty: every type."
    )
    league: str | None = Field(None, description="Only this league's games; null: every league.")
    secret: str | None = Field(
        None, description="Signing secret (16–200 characters); null: a random one, returned."
    )
    from_start: bool = Field(
        False, description="Deliver every game's log from its first event, not from now."
    )


def _hooks(request: Request) -> Webhooks:
    store: Store = request.app.state.store
    return Webhooks(store)


@router.get("", summary="Every webhook subscription (admin token)", responses=REFUSALS)
async def list_webhooks(request: Request, _admin: Admin) -> dict[str, Any]:
    """`{"webhooks": [<webhook>, ...]}`, oldest first, without their secrets."""
    return {"webhooks": [webhook.to_json() for webhook in await _hooks(request).all()]}


@router.post(
    "",
    status_code=201,
    summary="Subscribe a URL to new events (admin token)",
    responses={**REFUSALS, 422: {"description": "a bad URL, event type, league or secret"}},
)
async def create_webhook(request: Request, body: NewWebhook, _admin: Admin) -> dict[str, Any]:
    """`{"webhook": <webhook>, "secret": "..."}`: the secret is shown only in this answer."""
    try:
        wanted = Subscription.parse(body.url, body.events, body.league, body.secret)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc
    now = request.app.state.clock.now()
    created = await _hooks(request).add(
        wanted.url, wanted.events, wanted.league, wanted.secret, now, from_start=body.from_start
    )
    return {"webhook": created.to_json(), "secret": wanted.secret}


@router.get(
    "/{webhook_id}",
    summary="A webhook, its cursors and its last delivery attempts (admin token)",
    responses=NOT_FOUND,
)
async def show_webhook(request: Request, webhook_id: int, _admin: Admin) -> dict[str, Any]:
    """`{"webhook": <webhook>, "cursors": {game_id: seq}, "deliveries": [<attempt>, ...]}`,
    the newest 50 attempts first."""
    detail = await _hooks(request).detail(webhook_id)
    if detail is None:
        raise HTTPException(404, f"no webhook {webhook_id}")
    return detail


@router.delete(
    "/{webhook_id}",
    status_code=204,
    summary="Delete a webhook; its deliveries stop (admin token)",
    responses=NOT_FOUND,
)
async def delete_webhook(request: Request, webhook_id: int, _admin: Admin) -> Response:
    """No content; the dispatcher delivering it lets it go at its next round."""
    if not await _hooks(request).remove(webhook_id):
        raise HTTPException(404, f"no webhook {webhook_id}")
    return Response(status_code=204)
