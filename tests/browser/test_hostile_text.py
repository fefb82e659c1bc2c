"""In a real browser, hostile upstream text never runs: every corpus script sets
`window.__pwned`, which stays unset on every page; no `javascript:` or `data:` link exists;
and at 1280 px the page does not scroll sideways (only table wrappers may)."""

import pytest
from django.urls import reverse

from tests.conftest import ACME, browser_login, screenshot
from tests.test_hostile_text import pages, plant

pytestmark = pytest.mark.browser


def test_no_injected_script_runs_no_bad_link_exists_and_the_layout_holds(
    sandbox, people, client, live_server, page
):
    assert client.login(username="admin", password="correct-horse-battery")
    ids = plant(sandbox, client)
    items = sandbox.api("GET", f"/v1/projects/{ACME}/ads/campaigns", params={"limit": 200}).json()[
        "items"
    ]
    first = next(c for c in items if c["platform"] == "meta_ads")
    urls = {
        **pages(ids),
        "campaign page": reverse("campaign", args=[ACME, "meta", first["campaignId"]]),
    }
    browser_login(page, live_server, "admin")
    for name, url in urls.items():
        page.goto(f"{live_server.url}{url}")
        page.wait_for_load_state("load")
        page.mouse.move(300, 300)  # hover handlers get their chance too
        assert page.evaluate("window.__pwned") is None, name
        bad = page.evaluate(
            "[...document.querySelectorAll('a[href], area[href], iframe[src], form[action]')]"
            ".map(e => e.getAttribute('href') || e.getAttribute('src') || e.getAttribute('action'))"
            ".filter(h => /^\\s*(javascript|data|vbscript):/i.test(h))"
        )
        assert bad == [], name
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name}: the page scrolls sideways by {overflow}px"
        screenshot(page, f"hostile-{name.replace(' ', '-')}")
