"""The calls on the key, projects, verdicts, the audit log and webhook endpoints. Mixed into
LayersClient (client.py), whose one request path (`_call`) sends them."""

from __future__ import annotations

from .records import AuditEvent, Page, Project, Verdict, WebhookEndpoint, WhoAmI
from .sending import _compact, _iso, _seg


class ProjectCalls:
    # --- key and projects -------------------------------------------------------------------

    def whoami(self) -> WhoAmI:
        return self._call("GET", "/v1/whoami", WhoAmI.from_wire)

    def projects_list(self, *, cursor=None, limit=None, status=None, search=None) -> Page[Project]:
        params = {"cursor": cursor, "limit": limit, "status": status, "search": search}
        return self._call(
            "GET",
            "/v1/projects",
            lambda d: Page.from_wire(d, Project, "project list"),
            params=params,
        )

    def project_get(self, *, project_id) -> Project:
        return self._call("GET", f"/v1/projects/{_seg(project_id)}", Project.from_wire)

    # --- verdicts, audit, webhooks ----------------------------------------------------------

    def verdict_get(self, *, project_id, verdict_id) -> Verdict:
        # [I] sandbox extension, not in the Layers docs: GET …/ads/verdicts/:verdictId.
        return self._call(
            "GET", f"{self._ads(project_id)}/verdicts/{_seg(verdict_id)}", Verdict.from_wire
        )

    def audit_log_list(
        self, *, project_id=None, event_type=None, since=None, until=None, cursor=None, limit=None
    ) -> Page[AuditEvent]:
        params = {
            "projectId": project_id,
            "eventType": event_type,
            "since": _iso(since),
            "until": _iso(until),
            "cursor": cursor,
            "limit": limit,
        }
        return self._call(
            "GET",
            "/v1/audit-log",
            lambda d: Page.from_wire(d, AuditEvent, "audit log"),
            params=params,
        )

    def webhook_endpoint_create(
        self, *, url, events, project_id=None, description=None, idempotency_key
    ) -> WebhookEndpoint:
        body = _compact(
            {
                "url": url,
                "events": list(events),
                "projectId": project_id,
                "description": description,
            }
        )
        return self._call(
            "POST",
            "/v1/webhook-endpoints",
            WebhookEndpoint.from_wire,
            json=body,
            idempotency_key=idempotency_key,
        )
