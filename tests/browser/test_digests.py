"""The digest in a real browser: the e-mail (as the console/locmem backend holds it), its
links opening the right rows of the queue, and the e-mail settings page."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from dashboard.models import MailPreference, ProjectOwnership
from dashboard.services.digests import mail_due_run
from dashboard.services.mirror import mirror_projects_refresh, mirror_refresh
from tests.conftest import ACME, browser_login, screenshot

pytestmark = pytest.mark.browser


def test_the_digests_links_open_the_right_rows_and_a_person_sets_their_hour(
    sandbox, people, live_server, page, settings
):
    settings.DASHBOARD_BASE_URL = live_server.url
    mirror_projects_refresh()
    for platform in ("meta", "tiktok", "apple"):
        mirror_refresh(ACME, platform)
    approver = people["approver"]
    approver.email = "approver@partner.example"
    approver.save()
    MailPreference.objects.create(user=approver, hour=0, mode="digest")
    ProjectOwnership.objects.create(project_id=ACME, owner=approver)

    assert mail_due_run()["digests"] == 1
    digest = mail.outbox[-1]
    html = digest.alternatives[0][0]
    page.set_content(html)
    screenshot(page, "digest-mail")

    links = re.findall(r'href="([^"]+#pa-[^"]+)"', html)
    assert links
    browser_login(page, live_server, "approver")
    for link in links[:3]:
        pending_id = link.rsplit("#pa-", 1)[1]
        page.goto(link.replace("&amp;", "&"))
        row = page.locator(f"#pa-{pending_id}")
        row.wait_for()
        expect(row).to_be_visible()
    screenshot(page, "digest-link-row")

    page.goto(f"{live_server.url}/settings/mail/")
    page.get_by_label("The daily digest, and alerts before an action expires").check()
    page.get_by_label("Digest at").select_option(label="07:00")
    page.get_by_label("Time zone").select_option("Europe/Berlin")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("E-mail settings saved.").wait_for()
    screenshot(page, "mail-settings")
    pref = MailPreference.objects.get(user=approver)
    assert (pref.mode, pref.hour, pref.time_zone) == ("digest_alerts", 7, "Europe/Berlin")
