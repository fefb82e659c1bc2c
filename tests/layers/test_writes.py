"""Writes: the gate's three outcomes, the approval queue, policy changes and the errors
each maps to."""

import pytest

from dashboard.layers import (
    AuthorityDenied,
    Conflict,
    ForbiddenScope,
    IdempotencyConflict,
    ReturnUrlNotAllowed,
    ValidationFailed,
    WriteResult,
)

from .support import (
    ACME,
    BRIGHTSIDE,
    NORDLICHT,
    READONLY_KEY,
    REVIEWER_KEY,
    campaign_on_defaults,
    make_client,
    new_key,
)


def test_a_budget_change_on_a_draft_axis_is_queued_for_approval(client):
    campaign = campaign_on_defaults(client)  # Acme meta tactical is draft
    result = client.campaign_budget_update(
        project_id=ACME,
        platform="meta",
        campaign_id=campaign.campaign_id,
        daily_budget_cents=6100,
        idempotency_key=new_key(),
    )
    assert isinstance(result, WriteResult)
    assert result.status == "pending" and result.queued
    assert result.pending_id.startswith("pa_") and result.verdict_id.startswith("ver_")
    verdict = client.verdict_get(project_id=ACME, verdict_id=result.verdict_id)
    assert verdict.decision == "queue" and verdict.axis == "tactical" and verdict.platform == "meta"
    assert verdict.pending_id == result.pending_id and verdict.entity_id == campaign.campaign_id
    assert verdict.request["body"] == {"dailyBudgetCents": 6100}
    queued = client.pending_list(project_id=ACME, platform="meta", action_type="update_budget")
    row = next(p for p in queued.items if p.pending_id == result.pending_id)
    assert row.verdict_id == result.verdict_id and row.source == "partner"
    assert row.new_value == {"dailyBudgetCents": 6100} and row.entity_id == campaign.campaign_id


def test_a_budget_change_on_an_auto_axis_is_dispatched(client, sandbox):
    sandbox.control("defaults", projectId=ACME, platform="meta", defaults={"tactical": "auto"})
    campaign = campaign_on_defaults(client)
    result = client.campaign_budget_update(
        project_id=ACME,
        platform="meta",
        campaign_id=campaign.campaign_id,
        daily_budget_cents=7300,
        idempotency_key=new_key(),
    )
    assert result.status == "dispatched" and result.job_id.startswith("job_")
    assert client.verdict_get(project_id=ACME, verdict_id=result.verdict_id).decision == "allow"


def test_pause_resume_and_delete_go_through_the_structural_axis(client, sandbox):
    sandbox.control("defaults", projectId=ACME, platform="meta", defaults={"structural": "auto"})
    campaign = campaign_on_defaults(client)
    ids = {"project_id": ACME, "platform": "meta", "campaign_id": campaign.campaign_id}
    assert client.campaign_pause(**ids, idempotency_key=new_key()).status == "dispatched"
    assert client.campaign_resume(**ids, idempotency_key=new_key()).status == "dispatched"
    deleted = client.campaign_delete(**ids, idempotency_key=new_key())
    assert deleted.status == "dispatched" and deleted.verdict_id


def test_a_campaign_is_created_with_the_simplified_surface(client, sandbox):
    sandbox.control("defaults", projectId=ACME, platform="meta", defaults={"structural": "auto"})
    account = client.ad_accounts_list(project_id=ACME, platforms=["meta"])[0]
    result = client.campaign_create(
        project_id=ACME,
        platform="meta",
        ad_account_id=account.ad_account_id,
        name="Spring Test",
        outcome="traffic",
        campaign_management_mode="draft",
        creative_mode="autopilot",
        daily_budget_cents=2500,
        idempotency_key=new_key(),
    )
    assert result.status == "dispatched" and result.campaign_id.startswith("cmp_")


def test_a_write_to_an_axis_that_is_off_is_denied_with_a_sentence(client):
    campaign = campaign_on_defaults(client)
    ids = {"project_id": ACME, "platform": "meta", "campaign_id": campaign.campaign_id}
    client.authority_update(**ids, authority={"tactical": "off"}, idempotency_key=new_key())
    with pytest.raises(AuthorityDenied) as caught:
        client.campaign_budget_update(**ids, daily_budget_cents=9000, idempotency_key=new_key())
    error = caught.value
    assert error.status == 403 and error.reason == "authority_axis_off" and error.axis == "tactical"
    assert error.verdict_id.startswith("ver_") and "tactical" in error.message
    verdict = client.verdict_get(project_id=ACME, verdict_id=error.verdict_id)
    assert verdict.decision == "deny" and verdict.reason == "authority_axis_off"


def test_a_layer_kill_switch_denies_every_write(client):
    campaign = client.campaigns_list(project_id=NORDLICHT, platforms=["meta"]).items[0]
    with pytest.raises(AuthorityDenied) as caught:
        client.campaign_pause(
            project_id=NORDLICHT,
            platform="meta",
            campaign_id=campaign.campaign_id,
            idempotency_key=new_key(),
        )
    assert caught.value.reason == "kill_switch_active" and "kill switch" in caught.value.message
    assert client.defaults_get(project_id=NORDLICHT, platform="meta").kill_switch_active is True


def test_missing_customer_consent_denies_partner_writes(client):
    campaign = client.campaigns_list(project_id=BRIGHTSIDE, platforms=["meta"]).items[0]
    with pytest.raises(AuthorityDenied) as caught:
        client.campaign_budget_update(
            project_id=BRIGHTSIDE,
            platform="meta",
            campaign_id=campaign.campaign_id,
            daily_budget_cents=5000,
            idempotency_key=new_key(),
        )
    assert caught.value.reason == "partner_consent_missing"
    assert "not yet allowed" in caught.value.message


def test_authority_can_be_lowered_but_not_raised_past_the_customer(client):
    campaign = campaign_on_defaults(client)
    ids = {"project_id": ACME, "platform": "meta", "campaign_id": campaign.campaign_id}
    lowered = client.authority_update(
        **ids, authority={"creative": "draft"}, idempotency_key=new_key()
    )
    assert lowered.authority.creative == "draft" and lowered.source == "per_campaign"
    assert lowered.verdict_id.startswith("ver_")
    with pytest.raises(AuthorityDenied) as caught:
        client.authority_update(**ids, authority={"structural": "auto"}, idempotency_key=new_key())
    assert caught.value.reason == "partner_escalation_forbidden"


def test_layer_defaults_can_be_lowered(client):
    updated = client.defaults_update(
        project_id=ACME, platform="meta", defaults={"creative": "draft"}, idempotency_key=new_key()
    )
    assert updated.defaults.creative == "draft" and updated.platform == "meta"
    assert client.defaults_get(project_id=ACME, platform="meta").defaults.creative == "draft"


def test_approving_and_rejecting_pending_actions(client):
    first, second = client.pending_list(project_id=ACME, platform="meta", limit=2).items
    approved = client.pending_approve(
        project_id=ACME,
        platform="meta",
        pending_id=first.pending_id,
        comment="Looks right",
        idempotency_key=new_key(),
    )
    assert approved.pending_id == first.pending_id and approved.status == "approved"
    assert approved.verdict_id.startswith("ver_")
    rejected = client.pending_reject(
        project_id=ACME,
        platform="meta",
        pending_id=second.pending_id,
        reason="Not this week",
        idempotency_key=new_key(),
    )
    assert rejected.status == "rejected" and rejected.dispatched is False


def test_deciding_an_already_decided_action_is_a_conflict_with_who_and_when(client):
    row = client.pending_list(project_id=ACME, platform="meta", limit=1).items[0]
    ids = {"project_id": ACME, "platform": "meta", "pending_id": row.pending_id}
    client.pending_approve(**ids, idempotency_key=new_key())
    with pytest.raises(Conflict) as caught:
        client.pending_reject(**ids, reason="too late", idempotency_key=new_key())
    error = caught.value
    assert error.status == 409 and error.current_status == "approved"
    assert error.decided_at is not None and error.decided_by["actorType"] == "partner"
    assert "already approved" in error.message


def test_rejecting_without_a_reason_fails_validation_with_fields(client):
    row = client.pending_list(project_id=ACME, platform="meta", limit=1).items[0]
    with pytest.raises(ValidationFailed) as caught:
        client.pending_reject(
            project_id=ACME,
            platform="meta",
            pending_id=row.pending_id,
            reason=" ",
            idempotency_key=new_key(),
        )
    assert "reason" in caught.value.fields and caught.value.status == 422


def test_sending_both_budgets_fails_validation(client):
    campaign = campaign_on_defaults(client)
    with pytest.raises(ValidationFailed) as caught:
        client.campaign_budget_update(
            project_id=ACME,
            platform="meta",
            campaign_id=campaign.campaign_id,
            daily_budget_cents=5000,
            lifetime_budget_cents=90000,
            idempotency_key=new_key(),
        )
    assert caught.value.fields


def test_reusing_an_idempotency_key_with_a_different_body_is_a_conflict(client, sandbox):
    row = client.pending_list(project_id=ACME, platform="meta", limit=1).items[0]
    ids = {"project_id": ACME, "platform": "meta", "pending_id": row.pending_id}
    key = new_key()
    client.pending_approve(**ids, comment="one", idempotency_key=key)
    with pytest.raises(IdempotencyConflict) as caught:
        client.pending_approve(**ids, comment="two", idempotency_key=key)
    assert caught.value.code == "IDEMPOTENCY_CONFLICT" and caught.value.status == 409
    assert sandbox.control("stats")["calls"]["POST"] == 2  # a first-attempt conflict is not retried


def test_a_key_without_the_scope_is_forbidden_and_names_the_scope(sandbox):
    readonly = make_client(sandbox, key=READONLY_KEY)
    row = readonly.pending_list(project_id=ACME, platform="meta", limit=1).items[0]
    with pytest.raises(ForbiddenScope) as caught:
        readonly.pending_approve(
            project_id=ACME, platform="meta", pending_id=row.pending_id, idempotency_key=new_key()
        )
    assert caught.value.required_scope == "ads:write:pending"
    assert "ads:write:pending" in caught.value.message
    reviewer = make_client(sandbox, key=REVIEWER_KEY)
    assert reviewer.whoami().has_scope("ads:write:pending")
    assert (
        reviewer.pending_approve(
            project_id=ACME, platform="meta", pending_id=row.pending_id, idempotency_key=new_key()
        ).status
        == "approved"
    )


def test_an_oauth_url_is_made_for_an_allowed_return_address(client):
    link = client.ad_account_oauth_url(
        project_id=ACME,
        platform="tiktok",
        return_url="http://127.0.0.1:8000/accounts/connected",
        state="abc",
        idempotency_key=new_key(),
    )
    assert link.url.startswith("http") and link.expires_at.tzinfo is not None


def test_an_oauth_return_address_off_the_allowlist_is_refused(client):
    with pytest.raises(ReturnUrlNotAllowed) as caught:
        client.ad_account_oauth_url(
            project_id=ACME,
            platform="meta",
            return_url="https://evil.example/x",
            idempotency_key=new_key(),
        )
    assert caught.value.code == "RETURN_URL_NOT_ALLOWED" and caught.value.status == 403


def test_a_webhook_endpoint_is_created_when_the_sandbox_has_the_route(client):
    endpoint = client.webhook_endpoint_create(
        url="http://localhost:9/hooks", events=["job.completed"], idempotency_key=new_key()
    )
    assert endpoint.id and endpoint.events == ("job.completed",)
    assert endpoint.status == "active" and endpoint.url == "http://localhost:9/hooks"
    assert endpoint.signing_secret and endpoint.signing_secret.startswith("whsec_")


def test_writes_refuse_to_run_without_an_idempotency_key(client):
    with pytest.raises(TypeError):
        client.campaign_pause(project_id=ACME, platform="meta", campaign_id="cmp_x")
    with pytest.raises(ValueError):
        client.campaign_pause(
            project_id=ACME, platform="meta", campaign_id="cmp_x", idempotency_key=""
        )
