"""/metrics: Prometheus' text, only for a caller with the token or from an allowed address;
upstream calls counted by route template (never a project id), state read at scrape time."""

import pytest
from prometheus_client.parser import text_string_to_metric_families

from dashboard.services.upstream import layers
from dashboard.services.worker import worker_beat
from tests.conftest import ACME
from tests.layers.support import fault

TOKEN = "metrics-token-for-tests-0123456789"
PENDING_COUNT = "/v1/projects/{project}/ads/meta/pending/count"


@pytest.fixture
def scraper(settings, client):
    settings.METRICS_TOKEN = TOKEN

    def scrape() -> str:
        response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/plain")
        return response.content.decode()

    return scrape


def value(text: str, name: str, **labels) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    return 0.0


def test_metrics_count_an_upstream_call_by_its_route_template_and_status(sandbox, scraper):
    before = value(scraper(), "dashboard_layers_requests_total", route=PENDING_COUNT)
    layers().pending_count(project_id=ACME, platform="meta")
    text = scraper()
    after = value(
        text, "dashboard_layers_requests_total", method="GET", route=PENDING_COUNT, status="200"
    )
    assert after == before + 1
    assert ACME not in text and "Acme" not in text  # no customer in any label


def test_metrics_count_retries_and_429s(sandbox, scraper):
    route = "/v1/projects"
    before = scraper()
    fault(sandbox, "status", status=429, method="GET")
    layers().projects_list()  # the 429 is retried once it has waited its Retry-After
    after = scraper()
    for name in ("dashboard_layers_rate_limited_total", "dashboard_layers_retries_total"):
        assert value(after, name, route=route) == value(before, name, route=route) + 1


def test_metrics_show_the_budget_left_and_the_workers_heartbeat(sandbox, scraper):
    worker_beat()
    layers().whoami()
    text = scraper()
    assert value(text, "dashboard_layers_budget_limit", endpoint_class="read-light") > 0
    assert "dashboard_layers_budget_remaining" in text
    assert 0 <= value(text, "dashboard_worker_heartbeat_age_seconds") < 60
    assert "dashboard_tasks_waiting" in text and "dashboard_bulk_items_waiting" in text


def test_metrics_count_decisions_by_outcome_from_the_decision_records(db, scraper, people):
    from dashboard.models import DecisionRecord

    for n, outcome in enumerate(["approved", "approved", "conflict"]):
        DecisionRecord.objects.create(
            user=people["approver"],
            project_id=ACME,
            platform="meta",
            action="approve",
            entity_id=f"pa_{n}",
            idempotency_key=f"key-{n}",
            outcome=outcome,
        )
    text = scraper()
    assert value(text, "dashboard_decisions_total", outcome="approved") == 2
    assert value(text, "dashboard_decisions_total", outcome="conflict") == 1


def test_metrics_count_webhook_deliveries_by_result(db, scraper, client):
    def refused(text):
        return sum(
            value(text, "dashboard_webhook_deliveries_total", result=result)
            for result in ("bad_signature", "malformed")
        )

    before = refused(scraper())
    client.post("/webhooks/layers", data=b"{}", content_type="application/json")  # unsigned
    assert refused(scraper()) == before + 1


def test_metrics_refuse_an_unknown_caller(db, client, settings):
    settings.METRICS_TOKEN = TOKEN
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong-token").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Basic {TOKEN}").status_code == 403
    settings.METRICS_ALLOWED_IPS = ["10.0.0.0/8"]  # the test client comes from 127.0.0.1
    assert client.get("/metrics").status_code == 403


def test_metrics_are_refused_to_everyone_when_neither_setting_is_set(db, client, settings):
    settings.METRICS_TOKEN, settings.METRICS_ALLOWED_IPS = "", []
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 403


def test_metrics_answer_a_caller_from_an_allowed_network(db, client, settings):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_IPS = ["127.0.0.0/8", "::1"]
    assert client.get("/metrics").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="192.0.2.7").status_code == 403


def test_metrics_still_answer_with_the_counters_when_the_state_cannot_be_read(
    db, scraper, settings
):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",  # the discard port: nothing answers there
        }
    }
    text = scraper()
    assert value(text, "dashboard_state_readable") == 0
    assert "dashboard_requests_total" in text
