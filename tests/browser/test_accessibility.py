"""axe-core's rules on every page a person uses, in Chromium: no serious or critical
violation (missing labels, names, contrast, landmarks, ARIA misuse). The rules come from
the axe-playwright-python package (it carries axe.min.js); they run through Playwright's
evaluate, which page CSP does not block."""

import pytest
from axe_playwright_python.base import AXE_SCRIPT

from tests.conftest import ACME, browser_login, screenshot

pytestmark = pytest.mark.browser

SEVERE = {"serious", "critical"}
# Of the rules axe runs by default (89), only those that can report a serious or critical
# violation run (63: by their own impact, one of their checks', or none stated); the others
# could never fail these tests, and skipping them spares Chromium their work on every page.
RUN_SEVERE_RULES = """severe => {
    const impacts = r => [r.impact, ...[...r.any, ...r.all, ...r.none].map(
        c => axe._audit.checks[c.id || c]?.metadata?.impact)];
    const rules = axe._audit.rules.filter(r => r.enabled && !r.tags.includes("experimental"))
        .filter(r => !r.impact || impacts(r).some(i => severe.includes(i))).map(r => r.id);
    return axe.run({resultTypes: ["violations"], runOnly: {type: "rule", values: rules}});
}"""


def severe_violations(page) -> list[str]:
    page.evaluate(AXE_SCRIPT)
    violations = page.evaluate(RUN_SEVERE_RULES, sorted(SEVERE))["violations"]
    return [
        f"{page.url.split('//', 1)[-1].split('/', 1)[-1]}: {v['id']} ({v['impact']}) "
        f"{[n['target'] for n in v['nodes']][:3]} — {v['help']}"
        for v in violations
        if v["impact"] in SEVERE
    ]


def campaign_and_verdict(sandbox):
    campaigns = sandbox.api(
        "GET", f"/v1/projects/{ACME}/ads/campaigns", params={"limit": 200}
    ).json()["items"]
    audit = sandbox.api(
        "GET", "/v1/audit-log", params={"projectId": ACME, "eventType": "ads.write.denied"}
    ).json()
    return campaigns[0], audit["items"][0]["data"]["verdictId"]


def test_the_sign_in_page_passes_axe(live_server, page):
    page.goto(f"{live_server.url}/login/")
    assert severe_violations(page) == []


def test_every_page_of_a_project_passes_axe(sandbox, people, live_server, page):
    campaign, verdict = campaign_and_verdict(sandbox)
    browser_login(page, live_server, "admin")
    paths = [
        "/",
        f"/projects/{ACME}/",
        f"/projects/{ACME}/queue/",
        f"/projects/{ACME}/queue/?status=approved",
        f"/projects/{ACME}/campaigns/",
        f"/projects/{ACME}/campaigns/{campaign['platform'].split('_')[0]}/{campaign['campaignId']}/",
        f"/projects/{ACME}/campaigns/new",
        f"/projects/{ACME}/accounts/",
        f"/projects/{ACME}/audit/",
        f"/projects/{ACME}/verdicts/{verdict}/",
        f"/projects/{ACME}/access/",
        f"/projects/{ACME}/share/",
        f"/projects/{ACME}/owner/",
        "/notices/",
        "/settings/mail/",
    ]
    found = []
    for number, path in enumerate(paths):
        page.goto(f"{live_server.url}{path}")  # loaded: no page of these fetches more on load
        violations = severe_violations(page)
        # Each page as axe saw it: the window, or all of it (always) when axe found something.
        screenshot(page, f"axe-{number:02d}", full_page=bool(violations), always=bool(violations))
        found += violations
    assert found == [], "\n".join(found)


def test_the_unsubscribe_page_and_a_held_decision_pass_axe(
    sandbox, people, live_server, page, settings
):
    from tests.test_access import an_unsubscribe_token
    from tests.test_queue import pending_items

    page.goto(f"{live_server.url}/mail/unsubscribe/{an_unsubscribe_token()}")
    found = severe_violations(page)
    settings.DECISION_HOLD_SECONDS = 60
    pending_id = pending_items(sandbox, "meta")[0]["pendingId"]
    browser_login(page, live_server, "approver")
    page.goto(f"{live_server.url}/projects/{ACME}/queue/?platform=meta")
    page.locator(f"#pa-{pending_id}").get_by_role("button", name="Approve", exact=True).click()
    page.locator(f"#pa-{pending_id} .held").wait_for()
    found += severe_violations(page)
    assert found == [], "\n".join(found)


def test_a_read_only_share_link_and_a_narrow_screen_pass_axe(sandbox, people, live_server, page):
    from tests.test_access import share_link_kwargs

    token = share_link_kwargs("share")["token"]
    page.set_viewport_size({"width": 360, "height": 800})
    page.goto(f"{live_server.url}/s/{token}")
    page.locator("#share-banner").wait_for()
    found = severe_violations(page)
    browser_login(page, live_server, "approver")
    page.goto(f"{live_server.url}/projects/{ACME}/queue/")
    found += severe_violations(page)
    assert found == [], "\n".join(found)
