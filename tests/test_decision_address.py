"""A decision's address opened instead of posted: a reload or a shared link after a
decision without JavaScript failed leaves the address bar on …/decide."""

from django.urls import reverse

from tests.conftest import ACME, login


def test_opening_a_queue_decisions_address_leads_to_the_queue_instead_of_an_error(people, client):
    login(client, "approver")
    response = client.get(reverse("queue-decide", args=[ACME, "meta", "pa_any"]))
    assert response.status_code == 302
    assert response.url == reverse("queue", args=[ACME])


def test_opening_an_inbox_decisions_address_leads_to_the_actions_detail(people, client):
    login(client, "viewer")
    response = client.get(reverse("inbox-decide", args=[ACME, "meta", "pa_any"]))
    assert response.status_code == 302
    assert response.url == reverse("inbox-detail", args=[ACME, "meta", "pa_any"])


def test_someone_without_the_project_gets_no_address_from_a_decisions_url(people, client):
    login(client, "outsider")
    assert client.get(reverse("queue-decide", args=[ACME, "meta", "pa_any"])).status_code == 403
    assert client.get(reverse("inbox-decide", args=[ACME, "meta", "pa_any"])).status_code == 403
