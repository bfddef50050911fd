"""The webhook dispatcher: delivers each game's events to every subscription, in seq order.

It runs in every runner process. Each claim round it takes the leases of subscriptions no
dispatcher holds; for each it holds, one task delivers the games with events past the
subscription's cursor, one batch at a time: POST, then (on a 2xx) move the cursor. A failed POST
is retried, the same batch from the same cursor, after a jittered backoff that grows to
`PRESSBOX_WEBHOOK_RETRY_CAP_SECONDS`, so nothing is ever skipped or reordered. A dispatcher that
dies leaves its leases to run out; the next holder starts from the cursors, so a batch POSTed
but not yet recorded is sent again (at least once: receivers dedupe by game and seq).

    async with WebhookDispatcher(store, clock, settings, owner_id) as dispatcher:
        await dispatcher.run_forever()
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import timedelta
from types import TracebackType

import httpx

from pressbox.clock import Clock
from pressbox.config import Settings
from pressbox.domain.webhooks import SIGNATURE_HEADER, VERSION, Delivery, batch, sign
from pressbox.errors import LeaseLost, StoreError
from pressbox.metrics import metrics
from pressbox.sources.retry import Backoff
from pressbox.store import Store
from pressbox.store.webhooks import Attempt, Webhook, Webhooks

log = logging.getLogger(__name__)

#: Subscriptions one dispatcher holds at once.
MAX_HELD = 100
USER_AGENT = f"pressbox-webhooks/{VERSION}"


class WebhookDispatcher:
    """Holds webhook subscriptions by lease and delivers their events while it holds them.

    Waits and delivery-log times follow the runtime clock (a replay runs them faster); the
    signature's timestamp is wall-clock time (`wall`), which is what receivers check it against.
    Leaving `async with` stops every delivery task and releases its lease.
    """

    def __init__(
        self,
        store: Store,
        clock: Clock,
        settings: Settings,
        owner_id: str,
        *,
        client: httpx.AsyncClient | None = None,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.clock = clock
        self.store = store
        self.owner_id = owner_id
        self.webhooks = Webhooks(store)
        self.lease_ttl = settings.lease_ttl_seconds
        self.claim_interval = settings.runner_poll_seconds
        self.poll = settings.webhook_poll_seconds
        self.batch_events = settings.webhook_batch_events
        self.retry_cap = settings.webhook_retry_cap_seconds
        self.failing_after = timedelta(seconds=settings.webhook_failing_after_seconds)
        self.wall = wall
        self._owns_client = client is None
        self.client = client or httpx.AsyncClient(
            timeout=settings.webhook_timeout_seconds, follow_redirects=False
        )
        self._held: dict[int, asyncio.Task[None]] = {}
        self._stopping = False

    @property
    def held(self) -> frozenset[int]:
        """The ids of the subscriptions this dispatcher delivers now."""
        return frozenset(self._held)

    async def __aenter__(self) -> WebhookDispatcher:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def run_forever(self) -> None:
        """Claim free subscriptions every claim interval until cancelled."""
        while True:
            await self.claim()
            await self.clock.sleep(self.claim_interval)

    async def claim(self) -> list[Webhook]:
        """One claim round: take the free subscriptions (up to the free capacity) and start
        delivering them. A database error is logged; the next round tries again."""
        free = 0 if self._stopping else MAX_HELD - len(self._held)
        if free <= 0:
            return []
        try:
            taken = await self.webhooks.claim(self.owner_id, self.clock.now(), self.lease_ttl, free)
        except StoreError as exc:
            log.warning("dispatcher %s: claiming webhooks failed: %s", self.owner_id, exc)
            return []
        if self._stopping:  # stopped while claiming: hold nothing after `stop` returned
            for webhook in taken:
                await self.webhooks.release(webhook.id, self.owner_id)
            return []
        for webhook in taken:
            if webhook.id not in self._held:
                task = asyncio.create_task(self._hold(webhook), name=f"webhook:{webhook.id}")
                self._held[webhook.id] = task
        return taken

    async def stop(self) -> None:
        """Stop every delivery, release every lease, close the HTTP client (if its own)."""
        self._stopping = True
        tasks = list(self._held.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._owns_client:
            await self.client.aclose()

    async def _hold(self, webhook: Webhook) -> None:
        follower = _Follower(self, webhook)
        try:
            await follower.run()
        except LeaseLost as exc:
            log.warning("webhook %d: %s; stopping its deliveries", webhook.id, exc)
        except Exception:  # a holder never raises: the lease runs out and another takes over
            log.exception("webhook %d: delivering failed", webhook.id)
        finally:
            try:
                await self.webhooks.release(webhook.id, self.owner_id)
            except StoreError as exc:  # the lease then runs out by itself
                log.warning("releasing webhook %d failed: %s", webhook.id, exc)
            self._held.pop(webhook.id, None)


def _count(attempt: Attempt) -> None:
    recorded = metrics()
    recorded.webhook_duration.record(attempt.duration_ms / 1000)
    outcome = "ok" if attempt.error is None else "failed"
    recorded.webhook_deliveries.add(1, {"outcome": outcome})
    if attempt.error is None:
        recorded.webhook_events.add(attempt.events)


class _Follower:
    """The delivery loop of one held subscription."""

    def __init__(self, dispatcher: WebhookDispatcher, webhook: Webhook) -> None:
        self.d = dispatcher
        self.webhook = webhook
        self.backoff = Backoff(1.0, dispatcher.retry_cap)
        self.failures = 0
        self.renew_at = dispatcher.clock.now() + self._renew_every

    @property
    def _renew_every(self) -> timedelta:
        return timedelta(seconds=self.d.lease_ttl / 3)

    async def run(self) -> None:
        """Deliver what is pending, wait (the poll, or a backoff after a failure), again; until
        cancelled or the lease is lost (LeaseLost)."""
        while True:
            try:
                delay = await self._deliver_pending()
            except StoreError as exc:
                if isinstance(exc, LeaseLost):
                    raise
                log.warning("webhook %d: database error (%s); retrying", self.webhook.id, exc)
                delay = self.d.poll
            await self._wait(delay)

    async def _deliver_pending(self) -> float:
        """Deliver every pending game up to its end; the wait before the next round."""
        for game in await self.d.webhooks.pending(self.webhook, self.d.owner_id):
            after = game.cursor
            while after < game.last_seq:
                await self._keep_lease()
                events = await self.d.store.events_since(game.game_id, after, self.d.batch_events)
                if not events:
                    break
                delivery = batch(
                    self.webhook.id, game.game_id, game.league, after, events, self.webhook.events
                )
                if not await self._send(delivery):
                    return self.backoff.next_delay()
                after = delivery.through
        return self.d.poll

    async def _send(self, delivery: Delivery) -> bool:
        """POST the delivery (none when the filter left no event) and record the outcome;
        True when the cursor moved past it."""
        owner, webhook_id = self.d.owner_id, self.webhook.id
        attempt = await self._post(delivery) if delivery.events else None
        if attempt is not None:
            _count(attempt)
        if attempt is not None and attempt.error is not None:
            await self.d.webhooks.failed(webhook_id, owner, attempt, self.d.failing_after)
            if self.failures == 0:
                log.warning(
                    "webhook %d (%s) failing: %s", webhook_id, self.webhook.url, attempt.error
                )
            self.failures += 1
            return False
        await self.d.webhooks.advance(
            webhook_id, owner, delivery.game_id, delivery.through, attempt
        )
        if attempt is not None:
            if self.failures:
                log.warning(
                    "webhook %d delivers again after %d failed attempt(s)",
                    webhook_id,
                    self.failures,
                )
            self.failures = 0
            self.backoff.reset()
        return True

    async def _post(self, delivery: Delivery) -> Attempt:
        body = delivery.body()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "Pressbox-Webhook-Id": str(self.webhook.id),
            SIGNATURE_HEADER: sign(self.webhook.secret, int(self.d.wall()), body),
        }
        started = time.perf_counter()
        status: int | None = None
        try:
            response = await self.d.client.post(self.webhook.url, content=body, headers=headers)
        except httpx.HTTPError as exc:  # the boundary: the receiver's failure becomes a log entry
            error: str | None = f"{type(exc).__name__}: {exc}".rstrip(": ")
        else:
            status = response.status_code
            error = None if 200 <= status < 300 else f"HTTP {status}"
        return Attempt(
            self.d.clock.now(),
            delivery.game_id,
            delivery.events[0].seq,
            delivery.events[-1].seq,
            len(delivery.events),
            status,
            error,
            round((time.perf_counter() - started) * 1000),
        )

    async def _keep_lease(self) -> None:
        """Renew the lease when a third of its TTL has passed; LeaseLost if it is gone."""
        now = self.d.clock.now()
        if now < self.renew_at:
            return
        if not await self.d.webhooks.renew(self.webhook.id, self.d.owner_id, now, self.d.lease_ttl):
            raise LeaseLost(f"webhook {self.webhook.id} taken over or removed")
        self.renew_at = now + self._renew_every

    async def _wait(self, seconds: float) -> None:
        """Wait `seconds` of the clock in slices short enough to keep the lease."""
        end = self.d.clock.now() + timedelta(seconds=seconds)
        while (left := (end - self.d.clock.now()).total_seconds()) > 0:
            await self.d.clock.sleep(min(left, self._renew_every.total_seconds()))
            await self._keep_lease()
