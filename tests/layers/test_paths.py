"""Ids in path segments (issue 14, finding 10): `.`, `..` and an empty id would change which
path is asked for (the HTTP library resolves dot segments), so the client refuses them
before anything is sent."""

import pytest

from dashboard.layers import NotFound

from .support import ACME, new_key


def test_dot_dot_dot_and_empty_ids_are_refused_before_any_request_is_sent(client):
    sent = []
    client.session.hooks["response"].append(lambda response, *a, **k: sent.append(response.url))
    calls = [
        lambda: client.project_get(project_id=".."),
        lambda: client.campaign_get(project_id=ACME, platform="meta", campaign_id=".."),
        lambda: client.campaign_pause(
            project_id=ACME, platform="meta", campaign_id=".", idempotency_key=new_key()
        ),
        lambda: client.pending_approve(
            project_id=ACME, platform="meta", pending_id="..", idempotency_key=new_key()
        ),
        lambda: client.job_get(job_id="."),
        lambda: client.verdict_get(project_id=ACME, verdict_id=""),
    ]
    for call in calls:
        with pytest.raises(NotFound, match="is not an id"):
            call()
    assert sent == []


def test_ids_that_merely_contain_dots_are_still_sent_quoted(client):
    with pytest.raises(NotFound) as missing:
        client.campaign_get(project_id=ACME, platform="meta", campaign_id="../x")
    assert missing.value.status == 404  # Layers answered: "../x" went as one quoted segment
