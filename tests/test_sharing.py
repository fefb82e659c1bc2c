"""Read-only share links: made by admins, opened by anyone holding them, never a way to
change anything; they expire, can be revoked, and every opening is logged."""

import hashlib
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.utils import timezone

from dashboard.models import ProjectGrant, ShareLink, ShareLinkUse
from dashboard.services.sharing import share_link_create, share_link_revoke
from tests.conftest import ACME, PASSWORD


def make_link(people, scope="queue", **kwargs):
    return share_link_create(actor=people["admin"], project_id=ACME, scope=scope, **kwargs)


def test_an_admin_makes_a_link_on_the_share_page_and_sees_it_once(sandbox, people, client):
    assert client.login(username="admin", password=PASSWORD)
    response = client.post(
        f"/projects/{ACME}/share/", {"scope": "queue", "days": "7", "label": "For Dana at CS"}
    )
    body = response.content.decode()
    assert response.status_code == 200
    url = body.split('id="new-link-url" class="mono" readonly value="')[1].split('"')[0]
    token = url.rsplit("/s/", 1)[1]
    assert len(token) >= 43  # 32 random bytes
    link = ShareLink.objects.get()
    assert link.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(ShareLink.objects.values().get())  # only the hash is kept
    assert timedelta(days=6, hours=23) < link.expires_at - timezone.now() <= timedelta(days=7)
    assert link.label == "For Dana at CS" and link.created_by == people["admin"]
    assert token not in client.get(f"/projects/{ACME}/share/").content.decode()


def test_a_link_lasts_fourteen_days_unless_told_otherwise(db, people):
    link, _ = make_link(people)
    assert timedelta(days=13, hours=23) < link.expires_at - timezone.now() <= timedelta(days=14)


def test_only_admins_make_or_revoke_links(db, people):
    for person in ("viewer", "approver", "outsider"):
        with pytest.raises(PermissionDenied):
            share_link_create(actor=people[person], project_id=ACME, scope="queue")
    link, _ = make_link(people)
    with pytest.raises(PermissionDenied):
        share_link_revoke(actor=people["approver"], project_id=ACME, link_id=link.id)


def test_a_campaign_link_needs_a_campaign_and_links_have_bounded_lives(db, people):
    with pytest.raises(ValueError, match="campaign"):
        make_link(people, scope="campaign")
    with pytest.raises(ValueError, match="between 1 and"):
        make_link(people, days=365)
    with pytest.raises(ValueError):
        make_link(people, scope="everything")


def test_a_queue_link_shows_the_queue_read_only_without_signing_in(sandbox, people):
    _, token = make_link(people)
    stranger = Client()
    response = stranger.get(f"/s/{token}")
    body = response.content.decode()
    assert response.status_code == 200
    assert body.count('class="action card') >= 1
    assert "read-only view" in body
    for secret in (
        'method="post"',
        "idempotency_key",
        "csrfmiddlewaretoken",
        "X-CSRFToken",
        "Approve</button>",
        "Platform details",
        "/decide",
    ):
        assert secret not in body, secret
    assert f"/projects/{ACME}/queue/" not in body  # no way into the signed-in pages
    assert "sessionid" not in response.cookies  # a share link starts no session
    assert response["Referrer-Policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]


def test_filters_on_a_shared_queue_stay_in_the_links_address(sandbox, people):
    _, token = make_link(people)
    body = Client().get(f"/s/{token}", {"status": "approved", "platform": "meta"}).content.decode()
    assert f'action="/s/{token}"' in body
    assert '<option value="approved" selected' in body


def test_every_write_through_a_share_link_is_refused(sandbox, people):
    _, token = make_link(people)
    stranger = Client(enforce_csrf_checks=True)
    for method in ("post", "put", "patch", "delete"):
        response = getattr(stranger, method)(f"/s/{token}", {"decision": "approve"})
        assert response.status_code == 403, method
        assert "read-only link" in response.content.decode()
    # and the link grants nothing anywhere else: the decide URL still wants a signed-in approver
    response = stranger.post(f"/projects/{ACME}/queue/meta/pa_x/decide", {"decision": "approve"})
    assert response.status_code in (302, 403)
    assert response.status_code == 403 or "/login/" in response["Location"]


def test_an_expired_link_shows_a_clear_gone_page(sandbox, people):
    link, token = make_link(people)
    ShareLink.objects.filter(id=link.id).update(expires_at=timezone.now() - timedelta(minutes=1))
    response = Client().get(f"/s/{token}")
    assert response.status_code == 410
    assert "This link has expired" in response.content.decode()
    assert ShareLinkUse.objects.get(link=link).allowed is False


def test_a_revoked_link_shows_a_clear_gone_page(sandbox, people, client):
    link, token = make_link(people)
    assert Client().get(f"/s/{token}").status_code == 200
    assert client.login(username="admin", password=PASSWORD)
    response = client.post(f"/projects/{ACME}/share/{link.id}/revoke")
    assert response.status_code == 302
    link.refresh_from_db()
    assert link.revoked_at is not None and link.revoked_by == people["admin"]
    gone = Client().get(f"/s/{token}")
    assert gone.status_code == 410
    assert "turned off" in gone.content.decode()


def test_a_link_stops_working_when_its_maker_is_no_longer_an_admin(sandbox, people):
    _, token = make_link(people)
    ProjectGrant.objects.filter(user=people["admin"], project_id=ACME).update(role="viewer")
    response = Client().get(f"/s/{token}")
    assert response.status_code == 410
    assert "no longer manages" in response.content.decode()


def test_an_unknown_token_is_not_found(db):
    response = Client().get("/s/" + "x" * 43)
    assert response.status_code == 404
    assert "no share link at this address" in response.content.decode()


def test_every_opening_is_logged_without_keeping_the_address(sandbox, people, client):
    link, token = make_link(people)
    Client(HTTP_USER_AGENT="CS-Browser/1.0", REMOTE_ADDR="203.0.113.9").get(f"/s/{token}")
    Client().get(f"/s/{token}", {"platform": "meta"})
    uses = list(ShareLinkUse.objects.filter(link=link).order_by("at"))
    assert len(uses) == 2 and all(u.allowed for u in uses)
    assert uses[0].user_agent == "CS-Browser/1.0"
    assert uses[0].ip_hash and "203.0.113.9" not in uses[0].ip_hash
    assert client.login(username="admin", password=PASSWORD)
    row = (
        client.get(f"/projects/{ACME}/share/")
        .content.decode()
        .split(f'id="share-link-{link.id}"')[1]
    )
    assert "2 times" in row.split("</tr>")[0]


def test_a_campaign_link_shows_only_that_campaigns_actions(sandbox, people):
    from dashboard.services.sharing import share_campaign_choices

    campaigns = share_campaign_choices(actor=people["admin"], project_id=ACME)
    assert campaigns
    campaign_id, name = campaigns[0]
    _, token = make_link(people, scope="campaign", target=campaign_id)
    other = campaigns[-1][0]
    body = Client().get(f"/s/{token}", {"campaign": other, "status": "pending"}).content.decode()
    assert f"Actions for {name}" in body
    assert 'name="campaign"' not in body  # the viewer cannot widen it


def test_an_audit_link_shows_the_projects_audit_rows(sandbox, people):
    _, token = make_link(people, scope="audit")
    response = Client().get(f"/s/{token}")
    body = response.content.decode()
    assert response.status_code == 200
    assert "Audit log" in body
    assert 'id="audit-events"' in body or 'id="audit-empty"' in body
    assert 'method="post"' not in body
