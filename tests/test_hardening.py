"""Hardening (issue 14, finding 10): where forms may lead, spreadsheet formulas, caches
keeping private pages, idle sessions, housekeeping and the share-link opening log."""

import time
from datetime import timedelta

from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.core.management import call_command
from django.tasks import TaskResultStatus
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from dashboard.models import ShareLinkUse, SpentNonce
from dashboard.security import RENEWED_KEY
from dashboard.services.audit_export import csv_cell
from dashboard.services.sharing import share_link_create, share_link_open
from dashboard.tasks import housekeeping
from tests.conftest import ACME, PASSWORD
from tests.test_bulk import run_worker


def directive(response, name: str) -> list[str]:
    for part in response["Content-Security-Policy"].split(";"):
        words = part.split()
        if words and words[0] == name:
            return words[1:]
    raise AssertionError(f"no {name} in the policy")


def test_forms_may_lead_only_to_this_site_the_api_and_the_consent_pages(db, client, settings):
    sources = directive(client.get(reverse("login")), "form-action")
    assert "'self'" in sources
    assert "https://www.facebook.com" in sources
    assert "http:" not in sources and "https:" not in sources  # no longer any http(s) target
    api = settings.LAYERS_API_BASE_URL.split("/sandbox")[0]
    assert api in sources  # the sandbox's consent page, in the demo


def test_a_csv_cell_starting_with_nul_cannot_become_a_formula():
    assert csv_cell('\0=HYPERLINK("https://evil.example")').startswith("'")
    assert csv_cell("=1+1") == "'=1+1" and csv_cell("plain") == "plain"


def test_signed_in_and_share_link_pages_are_never_stored_by_a_cache(sandbox, people):
    signed_in = Client()
    assert signed_in.login(username="admin", password=PASSWORD)
    for response in (
        signed_in.get(reverse("notices")),
        signed_in.get(reverse("queue", args=[ACME])),
    ):
        assert response.status_code == 200
        assert {"private", "no-store"} <= {
            word.strip() for word in response["Cache-Control"].split(",")
        }
    _, token = share_link_create(actor=people["admin"], project_id=ACME, scope="queue")
    shared = Client().get(f"/s/{token}")
    assert shared.status_code == 200
    assert "no-store" in shared["Cache-Control"] and "private" in shared["Cache-Control"]


def test_a_used_session_is_renewed_at_most_every_five_minutes_and_an_idle_one_ends(
    db, client, people, settings
):
    assert client.login(username="viewer", password=PASSWORD)
    key = client.session.session_key

    def pretend(*, renewed_seconds_ago: int, ends_in: timedelta):
        session = client.session
        session[RENEWED_KEY] = int(time.time()) - renewed_seconds_ago
        session.save()
        Session.objects.filter(pk=key).update(expire_date=timezone.now() + ends_in)

    pretend(renewed_seconds_ago=60, ends_in=timedelta(hours=1))
    client.get(reverse("notices-count"))
    left = Session.objects.get(pk=key).expire_date - timezone.now()
    assert left < timedelta(hours=1)  # renewed a minute ago: not written again

    pretend(renewed_seconds_ago=settings.SESSION_RENEW_SECONDS + 1, ends_in=timedelta(hours=1))
    client.get(reverse("notices-count"))
    left = Session.objects.get(pk=key).expire_date - timezone.now()
    assert timedelta(hours=7, minutes=59) < left <= timedelta(hours=8)

    Session.objects.filter(pk=key).update(expire_date=timezone.now() - timedelta(seconds=1))
    cache.clear()  # the cached copy of the session lives exactly as long
    assert client.get(reverse("notices")).status_code == 302  # idle too long: sign in again


def test_migrate_leaves_a_housekeeping_run_waiting_in_the_task_queue(db):
    DBTaskResult.objects.all().delete()
    call_command("migrate", verbosity=0)  # already migrated: it sends post_migrate all the same
    waiting = DBTaskResult.objects.filter(
        task_path=housekeeping.module_path, status=TaskResultStatus.READY
    )
    assert waiting.count() == 1
    assert waiting.get().run_after > timezone.now()


def test_housekeeping_clears_what_expired_and_queues_its_next_run(
    transactional_db, people, settings
):
    settings.SHARE_LINK_LOG_MAX = 3
    now = timezone.now()
    Session.objects.create(session_key="x" * 32, session_data="{}", expire_date=now)
    Session.objects.create(session_key="y" * 32, session_data="{}", expire_date=now + timedelta(1))
    SpentNonce.objects.create(kind="embed_jti", digest="a" * 64, expires_at=now)
    SpentNonce.objects.create(kind="embed_jti", digest="b" * 64, expires_at=now + timedelta(1))
    link, _ = share_link_create(actor=people["admin"], project_id=ACME, scope="queue")
    ShareLinkUse.objects.bulk_create(ShareLinkUse(link=link) for _ in range(7))
    DBTaskResult.objects.filter(task_path=housekeeping.module_path).delete()

    housekeeping.enqueue()
    run_worker()

    assert list(Session.objects.values_list("session_key", flat=True)) == ["y" * 32]
    assert list(SpentNonce.objects.values_list("digest", flat=True)) == ["b" * 64]
    assert ShareLinkUse.objects.filter(link=link).count() == 3
    waiting = DBTaskResult.objects.filter(
        task_path=housekeeping.module_path, status=TaskResultStatus.READY
    )
    assert waiting.count() == 1
    assert waiting.get().run_after > now + timedelta(minutes=59)


def test_a_share_link_opened_again_and_again_keeps_only_its_newest_openings(db, people, settings):
    settings.SHARE_LINK_LOG_MAX = 5
    link, token = share_link_create(actor=people["admin"], project_id=ACME, scope="queue")
    for n in range(12):
        share_link_open(token=token, ip="203.0.113.9", user_agent=f"opening {n}")
    kept = ShareLinkUse.objects.filter(link=link).order_by("id")
    assert [use.user_agent for use in kept] == [f"opening {n}" for n in range(7, 12)]
