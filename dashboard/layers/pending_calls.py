"""The calls on the optimizer, jobs and pending actions. Mixed into LayersClient
(client.py), whose one request path (`_call`) sends them."""

from __future__ import annotations

from .errors import LayersBadResponse
from .records import Decision, Job, OptimizerRun, OptimizerRunStart, Page, PendingAction
from .sending import _compact, _seg
from .wire import platform_to_path, platform_to_wire


class PendingCalls:
    # --- optimizer and jobs -----------------------------------------------------------------

    def optimizer_run(
        self, *, project_id, layer_id, platform, dry_run=False, idempotency_key
    ) -> OptimizerRunStart:
        body = {
            "layerId": layer_id,
            "platform": platform_to_wire(platform),
            "dryRun": bool(dry_run),
        }
        return self._call(
            "POST",
            f"{self._ads(project_id)}/optimizer/run",
            OptimizerRunStart.from_wire,
            json=body,
            idempotency_key=idempotency_key,
        )

    def optimizer_run_get(self, *, project_id, run_id) -> OptimizerRun:
        # Path documented, body shape [I] (§4.15).
        return self._call(
            "GET", f"{self._ads(project_id)}/optimizer/runs/{_seg(run_id)}", OptimizerRun.from_wire
        )

    def job_get(self, *, job_id, etag=None) -> Job | None:
        """None means 304 Not Modified for the `etag` given (contract §5)."""
        headers = {"If-None-Match": etag} if etag else None
        response = self._request("GET", f"/v1/jobs/{_seg(job_id)}", headers=headers)
        if response.status_code == 304:
            return None
        data = self._json(response)
        return Job.from_wire(data, etag=response.headers.get("ETag"))

    # --- pending actions --------------------------------------------------------------------

    def _pending(self, project_id, platform) -> str:
        return f"{self._ads(project_id)}/{platform_to_path(platform)}/pending"

    def pending_list(
        self, *, project_id, platform, statuses=None, action_type=None, cursor=None, limit=None
    ) -> Page[PendingAction]:
        params = {
            "status": list(statuses) if statuses else None,
            "actionType": action_type,
            "cursor": cursor,
            "limit": limit,
        }
        return self._call(
            "GET",
            self._pending(project_id, platform),
            lambda d: Page.from_wire(d, PendingAction, "pending list"),
            params=params,
        )

    def pending_count(self, *, project_id, platform) -> int:
        # Shape undocumented ("no body"); we chose `{"count": n}` [C #14].
        def read(data):
            if (
                not isinstance(data, dict)
                or isinstance(data.get("count"), bool)
                or not isinstance(data.get("count"), int)
            ):
                raise LayersBadResponse(
                    "The Layers API sent a pending count the dashboard could not read."
                )
            return data["count"]

        return self._call("GET", f"{self._pending(project_id, platform)}/count", read)

    def pending_approve(
        self, *, project_id, platform, pending_id, comment=None, idempotency_key
    ) -> Decision:
        path = f"{self._pending(project_id, platform)}/{_seg(pending_id)}/approve"
        return self._call(
            "POST",
            path,
            Decision.from_wire,
            json=_compact({"comment": comment}),
            idempotency_key=idempotency_key,
        )

    def pending_reject(
        self, *, project_id, platform, pending_id, reason, idempotency_key
    ) -> Decision:
        path = f"{self._pending(project_id, platform)}/{_seg(pending_id)}/reject"
        return self._call(
            "POST",
            path,
            Decision.from_wire,
            json={"reason": reason},
            idempotency_key=idempotency_key,
        )
