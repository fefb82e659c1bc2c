"""What both decision forms post (the project queue's rows and the inbox's details), read
in one place, and where a decision's address leads when it is opened rather than posted."""

from dataclasses import dataclass

from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.http import push_url

from dashboard.services import access


@dataclass(frozen=True)
class DecisionForm:
    decision: str  # "approve" | "reject" (anything else is refused by the service)
    text: str  # the approval's comment, or the rejection's reason (a quick one first)
    idempotency_key: str
    seen: str  # the values the person saw when deciding (the stale check)

    @classmethod
    def from_post(cls, post) -> "DecisionForm":
        decision = post.get("decision", "")
        text = (
            post.get("comment")
            if decision == "approve"
            else (post.get("quick_reason") or post.get("reason"))
        )
        return cls(
            decision=decision,
            text=text or "",
            idempotency_key=post.get("idempotency_key", ""),
            seen=post.get("seen", ""),
        )

    def fields(self) -> dict:
        return {
            "decision": self.decision,
            "text": self.text,
            "idempotency_key": self.idempotency_key,
            "seen": self.seen,
        }


def decision_back(request, default: str) -> str:
    """Where a decision made without JavaScript goes back to: the page the form was on
    (its filters included) when it is ours, else `default`."""
    back = request.POST.get("next") or request.headers.get("Referer", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        return default
    return back


def decision_opened(request, project_id: str, to: str):
    """A decision's address opened, not posted (a reload or a link after a failed decision
    left the address bar on it): the action's page instead of a 405, for whoever may see
    the project (anyone else: the same 403 as the page)."""
    access.access_require(user=request.user, project_id=project_id)
    return redirect(to)


def decision_row_render(request, context):
    """A decided card for htmx (the queue's and the inbox's). Its boosted form would push the
    decision's URL even under hx-push-url="false" (htmx 2.0.10 reads "false" as unset), so
    the answer says HX-Push-Url: false: the address stays, and Back and reload still work."""
    return push_url(render(request, "pending/_row.html", context), False)
