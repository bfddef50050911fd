"""Metrics: OpenTelemetry instruments, exported in Prometheus text format at `GET /metrics`.

One `Metrics` per process (`metrics()`), recorded where things happen: the upstream HTTP client,
the streamer, the WebSocket hub. The counts of streams and webhooks by status are read from the
database when `/metrics` is scraped, so a web process reports every runner's streams.

Names (Prometheus form; counters end in `_total`, durations are seconds):

| metric | labels | what |
|---|---|---|
| `pressbox_streams` | status | streams in the database, by lifecycle status |
| `pressbox_worker_starts_total`, `pressbox_worker_stops_total` | document | document workers |
| `pressbox_upstream_requests_total` | host, document | requests sent upstream |
| `pressbox_upstream_request_duration_seconds` | host, document | time to the whole answer |
| `pressbox_upstream_errors_total` | host, document, kind | failed requests, by kind (below) |
| `pressbox_upstream_response_bytes_total` | host, document | body bytes received |
| `pressbox_upstream_budget_wait_seconds` | host | wait for the request budget (and circuit) |
| `pressbox_upstream_queue_wait_seconds` | host, priority | clock seconds queued for the budget |
| `pressbox_upstream_skipped_total` | host, document, reason | fetches not sent (below) |
| `pressbox_document_processing_duration_seconds` | document | track + commit of one document |
| `pressbox_events_total` | type | events committed to the log |
| `pressbox_ws_connections` | | open live WebSocket connections |
| `pressbox_sse_connections` | | open Server-Sent Events streams (`/sse/live/...`) |
| `pressbox_ws_deliveries_total` | | messages handed to live connections |
| `pressbox_ws_slow_client_drops_total` | | connections closed as slow consumers |
| `pressbox_ws_resumes_total` | outcome | resumes (`events`: served the gap; `snapshot`) |
| `pressbox_ws_refusals_total` | reason | connections refused (caps, admission, origin...) |
| `pressbox_webhooks` | status | webhook subscriptions in the database, by status |
| `pressbox_webhook_deliveries_total` | outcome | webhook POSTs (`ok`: a 2xx; `failed`) |
| `pressbox_webhook_events_total` | | events delivered to webhooks (accepted with a 2xx) |
| `pressbox_webhook_delivery_duration_seconds` | | time to a receiver's answer |

Upstream error kinds: `status_NNN` (an HTTP status), `timeout`, `network`, `blocked` (the host's
circuit is open after a 403: nothing was sent). Skip reasons: `fresh` (the last answer is still
within its Cache-Control max-age: it is used again), `shared` (the same URL was being fetched:
its answer is shared, e.g. one league scoreboard for every game's sentinel), `budget` (a
low-priority fetch gave up its place in a saturated budget: the fetch policy tries it later).

Every series whose labels are known up-front exists from process start, at zero: the unlabeled
WebSocket ones, `pressbox_streams` for every `StreamStatus`, `pressbox_events_total` for every
`EventType`, the worker counters for every `DocumentKind`, the resume outcomes and the refusal
reasons. So `rate()` and the alerts of `deploy/prometheus/alerts.yml` see a 0, not a missing
series, before the first viewer or event. The upstream series (by host, document, kind, reason)
and the histograms appear with their first recording: their hosts are known only then, and a
histogram has no honest zero observation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache

from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.metrics import CallbackOptions, Observation
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.view import ExplicitBucketHistogramAggregation, View
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from pressbox.domain.documents import DocumentKind
from pressbox.domain.events import EventType
from pressbox.domain.lifecycle import StreamStatus
from pressbox.domain.webhooks import WebhookStatus

#: Upstream answers take tens of milliseconds to seconds; processing, milliseconds.
SECONDS_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
CONTENT_TYPE = CONTENT_TYPE_LATEST
#: `pressbox_ws_resumes_total{outcome}`, as the hub counts them.
RESUME_OUTCOMES = ("events", "snapshot")
#: `pressbox_ws_refusals_total{reason}`: the lowercased names of the `CloseCode`s (web/limits.py)
#: that web/live.py counts as refusals (not the normal ends, nor slow consumers, counted apart).
#: Spelled out here because importing `pressbox.web` would import the whole app;
#: tests/unit/test_metrics.py checks them against every close code.
REFUSAL_REASONS = (
    "policy",
    "too_big",
    "internal",
    "try_later",
    "origin",
    "unknown_game",
    "too_many_from_ip",
)
#: `pressbox_streams` before the first count from the database: none in any status.
_NO_STREAMS = dict.fromkeys((str(status) for status in StreamStatus), 0)
_NO_WEBHOOKS = dict.fromkeys((str(status) for status in WebhookStatus), 0)
#: `pressbox_webhook_deliveries_total{outcome}`.
DELIVERY_OUTCOMES = ("ok", "failed")


class Metrics:
    """The process's instruments and their Prometheus registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        reader = PrometheusMetricReader(disable_target_info=True, registry=self.registry)
        seconds = View(
            instrument_name="*duration*",
            aggregation=ExplicitBucketHistogramAggregation(SECONDS_BUCKETS),
        )
        waits = View(
            instrument_name="*wait*",
            aggregation=ExplicitBucketHistogramAggregation(SECONDS_BUCKETS),
        )
        self.provider = MeterProvider(metric_readers=[reader], views=[seconds, waits])
        meter = self.provider.get_meter("pressbox")
        self._streams = _NO_STREAMS.copy()
        meter.create_observable_gauge(
            "pressbox_streams", [self._observe_streams], description="Streams by status"
        )
        self.worker_starts = meter.create_counter(
            "pressbox_worker_starts", description="Document workers started"
        )
        self.worker_stops = meter.create_counter(
            "pressbox_worker_stops", description="Document workers stopped"
        )
        self.upstream_requests = meter.create_counter(
            "pressbox_upstream_requests", description="Requests sent upstream"
        )
        self.upstream_duration = meter.create_histogram(
            "pressbox_upstream_request_duration", unit="s", description="Upstream request time"
        )
        self.upstream_errors = meter.create_counter(
            "pressbox_upstream_errors", description="Failed upstream requests, by kind"
        )
        self.upstream_bytes = meter.create_counter(
            "pressbox_upstream_response_bytes", description="Upstream body bytes received"
        )
        self.budget_wait = meter.create_histogram(
            "pressbox_upstream_budget_wait", unit="s", description="Wait for the request budget"
        )
        self.queue_wait = meter.create_histogram(
            "pressbox_upstream_queue_wait",
            unit="s",
            description="Clock seconds queued for the request budget, by priority",
        )
        self.upstream_skipped = meter.create_counter(
            "pressbox_upstream_skipped", description="Upstream fetches not sent, by reason"
        )
        self.processing = meter.create_histogram(
            "pressbox_document_processing_duration",
            unit="s",
            description="Tracking and committing one fetched document",
        )
        self.events = meter.create_counter(
            "pressbox_events", description="Events committed to the log"
        )
        self.ws_connections = meter.create_up_down_counter(
            "pressbox_ws_connections", description="Open live WebSocket connections"
        )
        self.sse_connections = meter.create_up_down_counter(
            "pressbox_sse_connections", description="Open Server-Sent Events streams"
        )
        self.ws_deliveries = meter.create_counter(
            "pressbox_ws_deliveries", description="Messages handed to live connections"
        )
        self.ws_slow_drops = meter.create_counter(
            "pressbox_ws_slow_client_drops", description="Connections closed as slow consumers"
        )
        self.ws_resumes = meter.create_counter(
            "pressbox_ws_resumes", description="Resume requests, by outcome"
        )
        self.ws_refusals = meter.create_counter(
            "pressbox_ws_refusals", description="Live connections refused, by reason"
        )
        self._webhooks = _NO_WEBHOOKS.copy()
        meter.create_observable_gauge(
            "pressbox_webhooks", [self._observe_webhooks], description="Webhooks by status"
        )
        self.webhook_deliveries = meter.create_counter(
            "pressbox_webhook_deliveries", description="Webhook POSTs, by outcome"
        )
        self.webhook_events = meter.create_counter(
            "pressbox_webhook_events", description="Events delivered to webhooks"
        )
        self.webhook_duration = meter.create_histogram(
            "pressbox_webhook_delivery_duration", unit="s", description="Webhook receiver time"
        )
        self._start_at_zero()

    def _start_at_zero(self) -> None:
        """Add 0 to each counter for each label set known up-front, so its series is exported
        (at 0) from the start rather than from its first recording."""
        for counter in (
            self.ws_connections,
            self.sse_connections,
            self.ws_deliveries,
            self.ws_slow_drops,
            self.webhook_events,
        ):
            counter.add(0)
        for outcome in RESUME_OUTCOMES:
            self.ws_resumes.add(0, {"outcome": outcome})
        for reason in REFUSAL_REASONS:
            self.ws_refusals.add(0, {"reason": reason})
        for outcome in DELIVERY_OUTCOMES:
            self.webhook_deliveries.add(0, {"outcome": outcome})
        for event_type in EventType:
            self.events.add(0, {"type": str(event_type)})
        for kind in DocumentKind:
            self.worker_starts.add(0, {"document": str(kind)})
            self.worker_stops.add(0, {"document": str(kind)})

    def set_streams(self, counts: Mapping[str, int]) -> None:
        """The current number of streams per status; a status not in `counts` has none."""
        self._streams = {**_NO_STREAMS, **counts}

    def set_webhooks(self, counts: Mapping[str, int]) -> None:
        """The current number of webhooks per status; a status not in `counts` has none."""
        self._webhooks = {**_NO_WEBHOOKS, **counts}

    def _observe_webhooks(self, _options: CallbackOptions) -> Iterable[Observation]:
        return [Observation(n, {"status": status}) for status, n in self._webhooks.items()]

    def _observe_streams(self, _options: CallbackOptions) -> Iterable[Observation]:
        return [Observation(n, {"status": status}) for status, n in self._streams.items()]

    def exposition(self) -> bytes:
        """Every metric in Prometheus text format."""
        return bytes(generate_latest(self.registry))


@cache
def metrics() -> Metrics:
    """This process's metrics."""
    return Metrics()
