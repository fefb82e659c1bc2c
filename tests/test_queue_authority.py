"""The authority matrix on every queue row: the campaign's mode on all three axes, the axis
that gates the action marked, and a link to change it."""

import re

from django.urls import reverse

from dashboard.layers.records import ACTION_AXIS
from tests.conftest import ACME, login


def pending_items(sandbox, platform="meta"):
    return sandbox.api("GET", f"/v1/projects/{ACME}/ads/{platform}/pending").json()["items"]


def row_html(html, pending_id):
    start = html.index(f'id="pa-{pending_id}"')
    return html[start : html.index("</article>", start)]


def matrix_of(row):
    found = re.search(r'<ul class="authority-matrix".*?</ul>', row, re.S)
    return found.group(0) if found else ""


def test_every_queue_row_on_a_campaign_shows_its_three_axes_the_gating_one_and_a_change_link(
    sandbox, people, client
):
    login(client, "approver")
    html = client.get(reverse("queue", args=[ACME]) + "?platform=meta").content.decode()
    items = [i for i in pending_items(sandbox) if i["entityType"] == "campaign"]
    assert items
    for item in items:
        campaign_id = item["entityId"]
        authority = sandbox.api(
            "GET", f"/v1/projects/{ACME}/ads/meta/campaigns/{campaign_id}/authority"
        ).json()["authority"]
        matrix = matrix_of(row_html(html, item["pendingId"]))
        assert matrix, item["pendingId"]
        for axis in ("creative", "tactical", "structural"):
            assert re.search(
                rf'{axis.capitalize()} <span class="pill axis-{authority[axis]}">'
                rf"{authority[axis]}</span>",
                matrix,
            ), (axis, matrix)
        gating = ACTION_AXIS[item["actionType"]]
        [marked] = re.findall(r'title="This action needs the (\w+) axis"', matrix)
        assert marked == gating
        assert "(gates this action)" in matrix
        change = reverse("campaign", args=[ACME, "meta", campaign_id])
        assert f'href="{change}#authority-{campaign_id}">Change' in matrix


def test_the_matrix_follows_a_change_of_the_campaigns_authority(sandbox, people, client):
    login(client, "approver")
    item = next(i for i in pending_items(sandbox) if i["entityType"] == "campaign")
    path = f"/v1/projects/{ACME}/ads/meta/campaigns/{item['entityId']}/authority"
    answer = sandbox.api(
        "PATCH",
        path,
        json={"authority": {"creative": "off", "tactical": "draft", "structural": "off"}},
        headers={"Idempotency-Key": "matrix-follows-1"},
    )
    assert answer.status_code == 200, answer.text
    from django.core.cache import cache

    cache.clear()
    html = client.get(reverse("queue", args=[ACME]) + "?platform=meta").content.decode()
    matrix = matrix_of(row_html(html, item["pendingId"]))
    assert 'Creative <span class="pill axis-off">off</span>' in matrix
    assert 'Structural <span class="pill axis-off">off</span>' in matrix


def test_a_viewer_sees_the_matrix_with_a_link_to_see_it_not_change_it(sandbox, people, client):
    login(client, "viewer")
    html = client.get(reverse("queue", args=[ACME]) + "?platform=meta").content.decode()
    item = next(i for i in pending_items(sandbox) if i["entityType"] == "campaign")
    matrix = matrix_of(row_html(html, item["pendingId"]))
    assert ">See<span" in matrix and ">Change<" not in matrix
