"""The dashboard inside a partner portal, in Chromium, across two real origins: the demo
portal on http://localhost:PORT embeds the dashboard from http://127.0.0.1:PORT (one live
server, two host names, two sites as far as the browser is concerned)."""

import time
from urllib.parse import quote, urlsplit

import pytest
from playwright.sync_api import expect

from tests.conftest import ACME, SCREENSHOTS, screenshot

pytestmark = pytest.mark.browser


@pytest.fixture
def origins(live_server, settings):
    port = urlsplit(live_server.url).port
    portal, dashboard = f"http://localhost:{port}", f"http://127.0.0.1:{port}"
    settings.EMBED_DEMO_PORTAL_ORIGIN = portal
    settings.EMBED_DEMO_DASHBOARD_ORIGIN = dashboard
    settings.EMBED_ALLOWED_ORIGINS = [portal]
    settings.EMBED_SECRET = "browser-test-embed-secret-0123456789abcdef"
    return portal, dashboard


def open_portal(page, portal, role="approver", variant="good"):
    page.goto(f"{portal}/demo-portal/?person=ana&role={role}&project={ACME}&variant={variant}")
    return page.frame_locator("#dashboard-frame")


def child_frame(page, timeout=15):
    """The iframe's Frame once it has finished loading something."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        frames = [f for f in page.frames if f != page.main_frame]
        if frames and frames[0].url not in ("", "about:blank"):
            return frames[0]
        page.wait_for_timeout(100)
    raise AssertionError("the iframe never loaded")


def screenshot_whole(page, name):
    """A full-page screenshot that shows the whole frame: Chromium paints a cross-origin
    (out-of-process) iframe only inside the viewport, so grow the viewport to the page first."""
    if not SCREENSHOTS:
        return ""
    width = page.viewport_size["width"]
    height = page.evaluate("document.documentElement.scrollHeight")
    page.set_viewport_size({"width": width, "height": min(height, 9000)})
    page.wait_for_timeout(400)
    return screenshot(page, name)


def test_a_person_approves_an_action_inside_the_portals_frame_and_the_portal_hears_its_height(
    sandbox, origins, page
):
    portal, dashboard = origins
    frame = open_portal(page, portal)
    first = frame.locator("article.action.status-pending").first
    first.wait_for()
    assert page.url.startswith(portal)
    assert child_frame(page).url.startswith(f"{dashboard}/projects/{ACME}/queue/")

    # Embed mode: the compact header, no outer navigation.
    assert frame.locator("body.embed").count() == 1
    assert frame.locator("nav[aria-label=Main]").count() == 0

    # The session cookie the frame got: SameSite=None, Secure, and partitioned by the portal's site.
    cookies = [c for c in page.context.cookies(dashboard) if c["name"] == "sessionid"]
    assert cookies, "the embed session cookie was not stored (Secure over http on 127.0.0.1?)"
    assert cookies[0]["sameSite"] == "None" and cookies[0]["secure"] is True
    # Partitioned works over plain http here: Chromium counts localhost/127.0.0.1 as secure.
    assert cookies[0].get("partitionKey") == "http://localhost"  # the portal's site

    # The height message reached the parent, from the right origin, and sized the frame.
    expect(page.locator("#last-message")).to_contain_text("layers:resize")
    height = int(page.locator("#dashboard-frame").get_attribute("data-height"))
    assert height > 300

    # Approve inside the frame: the htmx POST passes CSRF and the row turns approved.
    row_id = first.get_attribute("id")
    first.get_by_placeholder("Comment (optional)").fill("Fine by the portal")
    first.get_by_role("button", name="Approve", exact=True).click()
    frame.locator(f"#{row_id} .status-pill", has_text="approved").wait_for()
    assert frame.locator(f"#{row_id} form").count() == 0

    screenshot_whole(page, "embed-desktop")


def end_every_session():
    from django.contrib.sessions.models import Session
    from django.core.cache import cache

    Session.objects.all().delete()
    cache.clear()  # cached_db sessions live in the cache too


def test_when_the_embed_session_ends_the_frame_says_so_and_the_portal_reopens_where_the_person_was(
    sandbox, origins, page
):
    portal, dashboard = origins
    where = f"/projects/{ACME}/queue/?platform=tiktok"
    page.goto(f"{portal}/demo-portal/?person=ana&role=approver&project={ACME}&next={quote(where)}")
    frame = page.frame_locator("#dashboard-frame")
    frame.locator("article.action").first.wait_for()
    # As if the portal had just renewed: it waits a minute before renewing again, so this
    # first time the frame keeps the page for us to see.
    page.evaluate("window.sessionStorage.setItem('layers-renewed', String(Date.now()))")
    end_every_session()
    frame.locator("select[name=status]").select_option(
        "approved"
    )  # an htmx request, now signed out
    frame.locator("#embed-ended").wait_for()
    assert "session here has ended" in frame.locator("#embed-ended").inner_text()
    expect(page.locator("#last-message")).to_contain_text("layers:session-ended")
    assert where in page.locator("#last-message").inner_text()
    screenshot_whole(page, "embed-session-ended")

    # Once the portal may renew again, the next notice brings a fresh session on the same page.
    page.evaluate("window.sessionStorage.removeItem('layers-renewed')")
    child_frame(page).evaluate("location.reload()")
    page.wait_for_url(lambda url: "next=" in url, timeout=15000)
    frame.locator("article.action").first.wait_for()
    assert child_frame(page).url == f"{dashboard}{where}"
    assert frame.locator("#embed-ended").count() == 0


def test_the_embedded_queue_fits_a_360_pixel_frame(sandbox, origins, page):
    portal, _ = origins
    page.set_viewport_size(
        {"width": 394, "height": 900}
    )  # the portal's padding leaves a 360 px frame
    frame = open_portal(page, portal)
    frame.locator("article.action").first.wait_for()
    width = page.locator("#dashboard-frame").bounding_box()["width"]
    assert 355 <= width <= 362
    expect(page.locator("#last-message")).to_contain_text("layers:resize")
    overflow = child_frame(page).evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    screenshot_whole(page, "embed-360")
    assert overflow <= 0


def test_a_portal_whose_origin_is_not_allowed_gets_no_dashboard_in_its_frame(
    sandbox, origins, page, settings
):
    portal, dashboard = origins
    settings.EMBED_ALLOWED_ORIGINS = ["https://portal.partner.example"]
    console = []
    page.on("console", lambda message: console.append(message.text))
    open_portal(page, portal)
    page.locator("#portal-not-allowed").wait_for()
    frame = child_frame(page)
    page.wait_for_timeout(500)
    assert not frame.url.startswith(dashboard)  # Chromium replaced it with its error page
    assert any("frame-ancestors" in text for text in console), console


def test_a_good_token_meant_for_another_portal_does_not_let_this_page_frame_the_dashboard(
    sandbox, origins, page, settings
):
    portal, dashboard = origins
    settings.EMBED_ALLOWED_ORIGINS = [portal, "https://portal.partner.example"]
    console = []
    page.on("console", lambda message: console.append(message.text))
    open_portal(page, portal, variant="elsewhere")  # token accepted, parent = the other portal
    frame = child_frame(page)
    page.wait_for_timeout(800)
    assert not frame.url.startswith(dashboard)
    assert frame.locator("article.action").count() == 0
    assert any("frame-ancestors https://portal.partner.example" in text for text in console), (
        console
    )


@pytest.mark.parametrize(
    ("variant", "sentence"),
    [
        ("expired", "has expired"),
        ("tampered", "signature does not match"),
        ("audience", "different application"),
        ("too_long", "more than 10 minutes"),
    ],
)
def test_a_bad_token_shows_a_clear_refusal_inside_the_frame(
    sandbox, origins, page, variant, sentence
):
    portal, _ = origins
    frame = open_portal(page, portal, variant=variant)
    refusal = frame.locator("#embed-refused")
    refusal.wait_for()
    assert sentence in refusal.inner_text()
    assert frame.locator("article.action").count() == 0


def test_a_token_opened_a_second_time_is_refused_inside_the_frame(sandbox, origins, page):
    portal, _ = origins
    frame = open_portal(page, portal)
    frame.locator("article.action").first.wait_for()
    src = page.locator("#dashboard-frame").get_attribute("src")
    child_frame(page).goto(src)
    refusal = frame.locator("#embed-refused")
    refusal.wait_for()
    assert "already used" in refusal.inner_text()


def test_an_admin_shares_the_queue_and_a_stranger_reads_it_without_any_controls(
    sandbox, people, live_server, page, browser
):
    from tests.conftest import browser_login

    browser_login(page, live_server, "admin")
    page.goto(f"{live_server.url}/projects/{ACME}/share/")
    page.get_by_label("Note (who it is for)").fill("Dana, customer success")
    page.get_by_role("button", name="Make link").click()
    url = page.get_by_label("Share link").input_value()
    assert "/s/" in url
    screenshot(page, "share-manage")

    stranger = browser.new_context(viewport={"width": 360, "height": 800})
    try:
        shared = stranger.new_page()
        shared.goto(url)
        shared.locator("#share-banner").wait_for()
        assert shared.locator("article.action").count() >= 1
        assert shared.locator("form[method=post]").count() == 0
        assert shared.locator("button", has_text="Approve").count() == 0
        assert (
            shared.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            <= 0
        )
        assert not [c for c in stranger.cookies() if c["name"] == "sessionid"]
        screenshot(shared, "share-queue-360")
    finally:
        stranger.close()

    page.goto(f"{live_server.url}/projects/{ACME}/share/")
    assert page.locator("#share-links tbody tr").count() == 1
    assert "1 time" in page.locator("#share-links tbody tr").inner_text()
    page.get_by_role("button", name="Revoke").click()
    page.locator(".pill-bad", has_text="Revoked").first.wait_for()
    gone = browser.new_context().new_page()
    response = gone.goto(url)
    assert response.status == 410
    assert "turned off" in gone.locator("#share-refused").inner_text()
    gone.context.close()
