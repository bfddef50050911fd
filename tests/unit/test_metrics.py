"""Every series with labels known up-front is exported at zero from the start (so `rate()` and the
alerts of deploy/prometheus see it before the first viewer), and recordings raise those series."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from pressbox.domain.documents import DocumentKind
from pressbox.domain.events import EventType
from pressbox.domain.lifecycle import StreamStatus
from pressbox.domain.webhooks import WebhookStatus
from pressbox.metrics import REFUSAL_REASONS, Metrics, metrics
from pressbox.web.limits import CloseCode, Refusal
from pressbox.web.live import count_end

#: OpenTelemetry's labels on every sample; they say nothing about the series.
SCOPE = {"otel_scope_name", "otel_scope_schema_url", "otel_scope_version"}


def series(exposition: bytes, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """The samples called `name`, by their labels less the scope ones."""
    found = {}
    for family in text_string_to_metric_families(exposition.decode()):
        for sample in family.samples:
            if sample.name == name:
                labels = tuple(sorted((k, v) for k, v in sample.labels.items() if k not in SCOPE))
                found[labels] = sample.value
    return found


KNOWN = [
    ("pressbox_ws_connections", None, [None]),
    ("pressbox_ws_deliveries_total", None, [None]),
    ("pressbox_ws_slow_client_drops_total", None, [None]),
    ("pressbox_ws_resumes_total", "outcome", ["events", "snapshot"]),
    ("pressbox_ws_refusals_total", "reason", list(REFUSAL_REASONS)),  # checked below
    ("pressbox_events_total", "type", [str(t) for t in EventType]),
    ("pressbox_streams", "status", [str(s) for s in StreamStatus]),
    ("pressbox_worker_starts_total", "document", [str(k) for k in DocumentKind]),
    ("pressbox_worker_stops_total", "document", [str(k) for k in DocumentKind]),
    ("pressbox_webhooks", "status", [str(s) for s in WebhookStatus]),
    ("pressbox_webhook_deliveries_total", "outcome", ["ok", "failed"]),
    ("pressbox_webhook_events_total", None, [None]),
]


@pytest.mark.parametrize(("name", "label", "values"), KNOWN, ids=[k[0] for k in KNOWN])
def test_a_fresh_process_exports_every_known_series_at_zero(
    name: str, label: str | None, values: list[str | None]
) -> None:
    found = series(Metrics().exposition(), name)
    if label is None:
        assert found == {(): 0.0}
        return
    assert found == {((label, value),): 0.0 for value in values}


def test_recordings_raise_the_series_that_started_at_zero() -> None:
    meter = Metrics()
    meter.ws_connections.add(2)
    meter.ws_connections.add(-1)
    meter.ws_deliveries.add(5)
    meter.ws_slow_drops.add(1)
    meter.ws_resumes.add(1, {"outcome": "snapshot"})
    meter.ws_refusals.add(1, {"reason": "origin"})
    meter.events.add(3, {"type": "score"})
    meter.set_streams({"Active": 2, "Failed": 1})  # the other statuses: none, still exported
    text = meter.exposition()
    assert series(text, "pressbox_ws_connections") == {(): 1.0}
    assert series(text, "pressbox_ws_deliveries_total") == {(): 5.0}
    assert series(text, "pressbox_ws_slow_client_drops_total") == {(): 1.0}
    resumes = series(text, "pressbox_ws_resumes_total")
    assert resumes == {(("outcome", "events"),): 0.0, (("outcome", "snapshot"),): 1.0}
    refusals = series(text, "pressbox_ws_refusals_total")
    assert refusals[(("reason", "origin"),)] == 1.0
    assert refusals[(("reason", "try_later"),)] == 0.0
    events = series(text, "pressbox_events_total")
    assert events[(("type", "score"),)] == 3.0 and events[(("type", "play_added"),)] == 0.0
    streams = series(text, "pressbox_streams")
    assert streams[(("status", "Active"),)] == 2 and streams[(("status", "Failed"),)] == 1
    assert streams[(("status", "Scheduled"),)] == 0 and len(streams) == len(StreamStatus)


def test_webhook_counts_and_deliveries_are_exported() -> None:
    meter = Metrics()
    meter.set_webhooks({"failing": 1})
    meter.webhook_deliveries.add(2, {"outcome": "failed"})
    meter.webhook_events.add(40)
    text = meter.exposition()
    assert series(text, "pressbox_webhooks") == {
        (("status", "active"),): 0.0,
        (("status", "failing"),): 1.0,
    }
    deliveries = series(text, "pressbox_webhook_deliveries_total")
    assert deliveries == {(("outcome", "failed"),): 2.0, (("outcome", "ok"),): 0.0}
    assert series(text, "pressbox_webhook_events_total") == {(): 40.0}


def test_the_refusal_reasons_are_those_the_live_socket_counts() -> None:
    """Every close code through web/live.py's counter: each known reason grows by one, and no
    reason appears that did not exist at zero."""
    before = series(metrics().exposition(), "pressbox_ws_refusals_total")
    for code in CloseCode:
        count_end(Refusal(code, ""))
    after = series(metrics().exposition(), "pressbox_ws_refusals_total")
    assert {dict(labels)["reason"] for labels in after} == set(REFUSAL_REASONS)
    assert all(after[labels] == before[labels] + 1 for labels in after)
