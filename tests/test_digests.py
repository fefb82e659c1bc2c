"""E-mail digests and expiry alerts for the customers a person owns or covers: built from
the synced copy only, sent once per person and period, unsubscribable without signing in."""

import threading
import time
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from dashboard.models import (
    DecisionRecord,
    MailPreference,
    MailSent,
    MirrorAction,
    MirrorProject,
    ProjectGrant,
    ProjectOwnership,
)
from dashboard.services.digests import digest_build, mail_due_run
from tests.conftest import ACME, NORDLICHT, PASSWORD

NOW = timezone.now()


def customer(project_id, name):
    return MirrorProject.objects.get_or_create(project_id=project_id, defaults={"name": name})[0]


def action(project_id, n, *, hours_old=1, expires_in_hours=72, **extra):
    return MirrorAction.objects.create(
        pending_id=f"pa_{project_id[-4:]}_{n}",
        project_id=project_id,
        platform="meta",
        action_type="update_budget",
        entity_name=f"Campaign {n}",
        campaign_id=f"cmp_{n}",
        status="pending",
        created_at=NOW - timedelta(hours=hours_old),
        expires_at=NOW + timedelta(hours=expires_in_hours),
        record={},
        synced_at=NOW,
        **extra,
    )


@pytest.fixture
def owner(people, settings):
    """The approver owns Acme Coffee, with an address and digests at midnight UTC."""
    settings.LAYERS_API_BASE_URL = "http://127.0.0.1:9/nowhere"  # a Layers read would fail
    settings.DASHBOARD_BASE_URL = "https://dash.example"
    approver = people["approver"]
    approver.email = "approver@partner.example"
    approver.save()
    MailPreference.objects.create(user=approver, hour=0, time_zone="UTC")
    ProjectOwnership.objects.create(project_id=ACME, owner=approver)
    customer(ACME, "Acme Coffee")
    return approver


def test_a_digest_lists_new_and_expiring_actions_with_links_to_their_rows_and_counts_only_in_the_subject(  # noqa: E501 - the name is the test's sentence
    owner,
):
    action(ACME, 1, hours_old=2)  # new
    action(ACME, 2, hours_old=48, expires_in_hours=5)  # expiring
    action(ACME, 3, hours_old=48)  # neither: counted as pending only
    sent = mail_due_run(now=NOW)
    assert sent["digests"] == 1
    digest = next(m for m in mail.outbox if m.subject.startswith("Layers digest"))
    assert digest.subject == "Layers digest: 1 new, 1 expiring within 24 h, across 1 customer"
    assert "Acme" not in digest.subject and "$" not in digest.subject
    assert digest.to == ["approver@partner.example"]
    assert "Acme Coffee: 3 pending, 1 new, 1 expiring" in digest.body
    for n in (1, 2):
        pending_id = f"pa_{ACME[-4:]}_{n}"
        link = f"https://dash.example/inbox/{ACME}/meta/{pending_id}/#pa-{pending_id}"
        assert link in digest.body
    html = digest.alternatives[0][0]
    assert 'href="https://dash.example/inbox/' in html
    token = MailPreference.objects.get(user=owner).unsubscribe_token
    assert f"https://dash.example/mail/unsubscribe/{token}" in digest.body
    assert digest.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_a_digest_goes_once_a_day_even_with_two_workers_checking_at_once(owner, transactional_db):
    action(ACME, 1)
    start, results = threading.Barrier(2), []

    def worker():
        start.wait()
        results.append(mail_due_run(now=NOW)["digests"])

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(results) == [0, 1]
    assert mail_due_run(now=NOW + timedelta(hours=3))["digests"] == 0  # later the same day
    assert len([m for m in mail.outbox if m.subject.startswith("Layers digest")]) == 1
    action(ACME, 2, hours_old=-23)  # proposed the next day
    assert mail_due_run(now=NOW + timedelta(days=1))["digests"] == 1


def test_the_digest_waits_for_the_hour_chosen_in_the_persons_time_zone(owner):
    action(ACME, 1)
    pref = MailPreference.objects.get(user=owner)
    pref.time_zone, pref.hour = "Asia/Tokyo", 9
    pref.save()
    at_8_in_tokyo = NOW.replace(hour=23, minute=30) - timedelta(days=1)  # 08:30 JST
    assert mail_due_run(now=at_8_in_tokyo)["digests"] == 0
    assert mail_due_run(now=at_8_in_tokyo + timedelta(hours=1))["digests"] == 1


def test_an_alert_names_an_action_expiring_within_a_day_that_nobody_acted_on_once(owner):
    unseen = action(ACME, 1, hours_old=48, expires_in_hours=5)
    handled = action(ACME, 2, hours_old=48, expires_in_hours=6)
    action(ACME, 3, hours_old=48, expires_in_hours=50)  # not within a day
    DecisionRecord.objects.create(
        user=owner,
        project_id=ACME,
        platform="meta",
        action="approve",
        entity_id=handled.pending_id,
        idempotency_key="k-1",
        outcome="undone",
    )
    mail_due_run(now=NOW)
    alerts = [m for m in mail.outbox if m.subject.startswith("Layers alert")]
    assert len(alerts) == 1
    assert alerts[0].subject == "Layers alert: 1 action expire within 24 h with nobody having acted"
    assert unseen.entity_name in alerts[0].body and handled.entity_name not in alerts[0].body
    mail_due_run(now=NOW + timedelta(minutes=5))
    assert len([m for m in mail.outbox if m.subject.startswith("Layers alert")]) == 1


def test_digest_only_sends_no_alerts_and_off_sends_nothing(owner):
    action(ACME, 1, expires_in_hours=5)
    pref = MailPreference.objects.get(user=owner)
    pref.mode = "digest"
    pref.save()
    mail_due_run(now=NOW)
    assert [m.subject.split(":")[0] for m in mail.outbox] == ["Layers digest"]
    pref.mode = "off"
    pref.save()
    mail_due_run(now=NOW + timedelta(days=1))
    assert len(mail.outbox) == 1


def test_a_cover_gets_the_owners_customers_only_on_the_days_they_cover(owner, people):
    ben = people["admin"]
    ben.email = "ben@partner.example"
    ben.save()
    MailPreference.objects.create(user=ben, hour=0, mode="digest")
    ProjectOwnership.objects.filter(project_id=ACME).update(
        cover=ben,
        cover_from=NOW.date() + timedelta(days=1),
        cover_until=NOW.date() + timedelta(days=2),
    )
    action(ACME, 1)
    mail_due_run(now=NOW)
    assert not [m for m in mail.outbox if m.to == ["ben@partner.example"]]
    action(ACME, 2, hours_old=-23)  # proposed the next day
    mail_due_run(now=NOW + timedelta(days=1))
    assert [m for m in mail.outbox if m.to == ["ben@partner.example"]]


def test_an_e_mail_that_could_not_be_sent_is_tried_again_at_the_next_check(owner, settings):
    action(ACME, 1)
    locmem = settings.MAILERS
    settings.MAILERS = {  # an SMTP server that is not there
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": 9, "timeout": 2},
        }
    }
    assert mail_due_run(now=NOW)["failed"] == 1
    assert not MailSent.objects.exists()
    settings.MAILERS = locmem
    assert mail_due_run(now=NOW)["digests"] == 1


def test_the_unsubscribe_link_works_without_signing_in_and_a_link_scanner_does_not_trigger_it(
    owner, client
):
    pref = MailPreference.objects.get(user=owner)
    url = reverse("mail-unsubscribe", args=[pref.unsubscribe_token])
    page = client.get(url)
    assert page.status_code == 200 and b"Unsubscribe</button>" in page.content
    pref.refresh_from_db()
    assert pref.mode == "digest_alerts"  # opening the link changes nothing
    assert client.post(url).status_code == 200  # one-click: no session, no CSRF token
    pref.refresh_from_db()
    assert pref.mode == "off"
    assert client.get(reverse("mail-unsubscribe", args=["not-a-token"])).status_code == 404


def test_a_person_chooses_what_to_get_at_which_hour_in_their_time_zone(people, client):
    assert client.login(username="viewer", password=PASSWORD)
    form = {"mode": "digest", "hour": "7", "time_zone": "Europe/Berlin", "email": "v@p.example"}
    assert client.post(reverse("mail-settings"), form).status_code == 302
    pref = MailPreference.objects.get(user=people["viewer"])
    assert (pref.mode, pref.hour, pref.time_zone) == ("digest", 7, "Europe/Berlin")
    people["viewer"].refresh_from_db()
    assert people["viewer"].email == "v@p.example"
    bad = client.post(reverse("mail-settings"), {**form, "time_zone": "Mars/Olympus"})
    assert bad.status_code == 422 and "Choose a time zone" in bad.content.decode()
    page = client.get(reverse("mail-settings")).content.decode()
    assert '<option value="Europe/Berlin" selected>' in page


def test_a_digest_of_fifty_customers_and_a_thousand_actions_is_built_from_the_synced_copy(
    owner, django_assert_max_num_queries
):
    ProjectOwnership.objects.all().delete()
    projects = [f"prj_scale-{i:04d}" for i in range(50)]
    for i, project_id in enumerate(projects):
        customer(project_id, f"Customer {i}")
        ProjectGrant.objects.create(user=owner, project_id=project_id, role="approver")
        ProjectOwnership.objects.create(project_id=project_id, owner=owner)
    MirrorAction.objects.bulk_create(
        MirrorAction(
            pending_id=f"pa_scale_{n}",
            project_id=projects[n % 50],
            platform="meta",
            action_type="pause_ad",
            entity_name=f"Ad {n}",
            status="pending",
            created_at=NOW - timedelta(hours=n % 48),
            expires_at=NOW + timedelta(hours=1 + n % 100),
            record={},
            synced_at=NOW,
        )
        for n in range(1000)
    )
    started = time.perf_counter()
    with django_assert_max_num_queries(6) as queries:
        digest = digest_build(owner, now=NOW, since=NOW - timedelta(days=1))
    built = time.perf_counter() - started
    print(f"\n{len(queries)} queries")
    assert len(digest.customers) == 50 and digest.new_count + digest.expiring_count > 0
    from django.template.loader import render_to_string

    started = time.perf_counter()
    body = render_to_string("mail/digest.html", {"digest": digest, "person": owner})
    rendered = time.perf_counter() - started
    again = []  # warm: what a worker checking every few minutes pays
    for _ in range(5):
        started = time.perf_counter()
        render_to_string(
            "mail/digest.html",
            {
                "digest": digest_build(owner, now=NOW, since=NOW - timedelta(days=1)),
                "person": owner,
            },
        )
        again.append(time.perf_counter() - started)
    print(f"warm build+render, median of 5: {sorted(again)[2] * 1000:.0f} ms")
    assert body.count("<h2") == 50
    print(
        f"\ndigest of 50 customers / 1000 actions: built {built * 1000:.0f} ms, "
        f"html rendered {rendered * 1000:.0f} ms, {len(body) // 1024} KB"
    )
    assert NORDLICHT not in body
