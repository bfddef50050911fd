"""deploy/: the Prometheus config and alerting rules pass promtool (syntax and their unit tests),
and the rules and the Grafana dashboard read only series the process really exports."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from opentelemetry.metrics import Counter, Histogram, UpDownCounter
from prometheus_client.parser import text_string_to_metric_families

from pressbox.domain.lifecycle import StreamStatus
from pressbox.domain.webhooks import WebhookStatus
from pressbox.metrics import Metrics

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
PROMETHEUS = DEPLOY / "prometheus"
DASHBOARD = DEPLOY / "grafana" / "pressbox.json"


def promtool(*args: str | Path) -> None:
    """Run promtool; fail (never skip) when it is missing, and show its output when it fails."""
    tool = shutil.which("promtool")
    if tool is None:
        pytest.fail("promtool not found: install it (Debian: apt-get install prometheus)")
    done = subprocess.run([tool, *map(str, args)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, f"promtool {' '.join(map(str, args))}:\n{done.stdout}{done.stderr}"


def test_the_alerting_rules_are_valid() -> None:
    promtool("check", "rules", PROMETHEUS / "alerts.yml")


def test_the_prometheus_config_is_valid() -> None:
    promtool("check", "config", PROMETHEUS / "prometheus.yml")


def test_each_alert_fires_and_stays_quiet_as_its_unit_tests_say() -> None:
    promtool("test", "rules", PROMETHEUS / "alerts.test.yml")


def dashboard_exprs() -> list[str]:
    panels = json.loads(DASHBOARD.read_text())["panels"]
    return [target["expr"] for panel in panels for target in panel["targets"]]


def test_the_dashboard_queries_are_valid_promql(tmp_path: Path) -> None:
    """Each panel query as a recording rule, so promtool parses it (Grafana's range variable
    replaced by a plain range)."""
    rules = [
        {"record": f"pressbox:dashboard:query_{i}", "expr": expr.replace("$__rate_interval", "5m")}
        for i, expr in enumerate(dashboard_exprs())
    ]
    path = tmp_path / "dashboard-rules.yml"
    path.write_text(json.dumps({"groups": [{"name": "dashboard", "rules": rules}]}))  # JSON is YAML
    promtool("check", "rules", path)


def test_the_dashboard_reads_prometheus_through_its_datasource_variable() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["DS_PROMETHEUS"]["type"] == "datasource"
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"] == "${DS_PROMETHEUS}", panel["title"]


def exported_names() -> set[str]:
    """Every sample name of a process in which each instrument has been recorded once (the
    upstream series and the histograms appear only then), histogram suffixes included."""
    meter = Metrics()
    for instrument in vars(meter).values():
        if isinstance(instrument, Counter | UpDownCounter):
            instrument.add(1)
        elif isinstance(instrument, Histogram):
            instrument.record(0.1)
    text = meter.exposition().decode()
    return {s.name for family in text_string_to_metric_families(text) for s in family.samples}


USERS = {
    "alerts.yml": lambda: (PROMETHEUS / "alerts.yml").read_text(),
    "alerts.test.yml": lambda: (PROMETHEUS / "alerts.test.yml").read_text(),
    "grafana/pressbox.json": lambda: "\n".join(dashboard_exprs()),
}


@pytest.mark.parametrize("user", list(USERS))
def test_only_exported_metric_names_and_stream_statuses_are_used(user: str) -> None:
    text = USERS[user]()
    used = set(re.findall(r"\bpressbox_[a-z_]+", text))
    assert used, user
    assert used <= exported_names(), used - exported_names()
    statuses = {
        status for values in re.findall(r'status=~?"([^"]*)"', text) for status in values.split("|")
    }
    known = {str(s) for s in StreamStatus} | {str(s) for s in WebhookStatus}
    assert statuses <= known, statuses
