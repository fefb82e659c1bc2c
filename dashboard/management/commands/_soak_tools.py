"""The soak's tools (soak.py): its settings and the sentences it looks for, what it counts
(Report), the sandbox it steers and reads (Sandbox), a reviewer signed in through the login
form, and what a decision's answer was (classify)."""

import re
from dataclasses import dataclass, field

import requests
from django.core.management.base import CommandError

ACME = "prj_7d1c5e0a-0001-4c3b-9a51-000000000001"
PASSWORD = "soak-password-not-secret"
FAULT_KINDS = (
    {"kind": "timeout", "delay": 2.5},
    {"kind": "drop"},
    {"kind": "status", "status": 500},
    {"kind": "status", "status": 502},
    {"kind": "status", "status": 503},
    {"kind": "rate_limited", "retryAfter": 1},
    {"kind": "malformed_json"},
    {"kind": "revoked_key"},
    {"kind": "kill_switch"},
    {"kind": "slow", "delay": 2.0},  # Layers works on it for 2 s: a twin meets it in flight
)
APPROVED = {"approved", "dispatched", "dispatch_failed"}
IN_FLIGHT = "Layers is still working on the first time this form was sent"
EARLIER = "Your first attempt reached Layers"
DECIDED_STATUSES = ("approved", "rejected", "dispatched", "dispatch_failed")


@dataclass
class Report:
    decisions: int = 0  # answers that said "Approved." / "Rejected."
    conflicts: int = 0  # "someone else decided first" shown to a reviewer
    double_submits: int = 0
    late_forms: int = 0  # a second reviewer's own form on an action already decided
    in_flight: int = 0  # answers saying Layers was still working on the form's first send
    replays: int = 0  # writes Layers answered from its memory of the key (sandbox count)
    aborted: int = 0
    errors: int = 0  # sentences or broken answers, left for a retry with the same key
    retries: int = 0
    faults: int = 0
    seconds: float = 0.0
    problems: list = field(default_factory=list)
    counts: dict = field(default_factory=dict)

    def lines(self) -> list[str]:
        return [
            f"decisions shown: {self.decisions}",
            f"conflicts shown: {self.conflicts}",
            f"double submits:  {self.double_submits}",
            f"late forms:      {self.late_forms} (someone else's form on a decided action)",
            f"in flight:       {self.in_flight} (answers: Layers still working on that key)",
            f"replays:         {self.replays} (Layers answered a key it had seen before)",
            f"aborted:         {self.aborted}",
            f"errors shown:    {self.errors} (each retried with its form's key)",
            f"retries:         {self.retries}",
            f"faults injected: {self.faults}",
            f"final states:    {self.counts}",
            f"time:            {self.seconds:.1f} s",
            f"problems:        {len(self.problems)}"
            + "".join(f"\n  - {p}" for p in self.problems[:20]),
        ]


class Sandbox:
    def __init__(self, url: str, control_token: str, key: str):
        self.url, self.token, self.key = url.rstrip("/"), control_token, key

    def control(self, action, **payload):
        response = requests.post(
            f"{self.url}/_control/{action}",
            json=payload,
            timeout=60,
            headers={"X-Sandbox-Control-Token": self.token},
        )
        response.raise_for_status()
        return response.json()

    def pending_states(self, project_id: str, platform: str) -> dict:
        """pending id -> status, every status, every page (the list endpoints)."""
        states = {}
        for status in ("pending", *DECIDED_STATUSES):
            cursor = None
            for _ in range(200):
                params = {"status": status, "limit": 200, **({"cursor": cursor} if cursor else {})}
                body = requests.get(
                    f"{self.url}/v1/projects/{project_id}/ads/{platform}/pending",
                    params=params,
                    headers={"Authorization": f"Bearer {self.key}"},
                    timeout=60,
                ).json()
                for item in body["items"]:
                    states[item["pendingId"]] = (item["status"], item.get("verdictId") or "")
                cursor = body.get("nextCursor")
                if not cursor:
                    break
        return states


def sign_in(base: str, username: str, timeout: float = 30) -> requests.Session:
    """A reviewer signed in through the login form, holding the page's CSRF token."""
    s = requests.Session()
    html = s.get(f"{base}/login/", timeout=timeout).text
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    r = s.post(
        f"{base}/login/",
        data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token},
        headers={"Referer": f"{base}/login/"},
        timeout=timeout,
        allow_redirects=False,
    )
    if r.status_code != 302:
        raise CommandError(f"{username} could not sign in ({r.status_code})")
    home = s.get(f"{base}/", timeout=timeout).text
    s.headers["X-CSRFToken"] = re.search(
        r'X-CSRFToken(?:&quot;|"): (?:&quot;|")([^&"]+)', home
    ).group(1)
    s.headers["Referer"] = f"{base}/"
    return s


def classify(response) -> str:
    """ok | conflict | error, from the htmx answer of a decision."""
    html = response.text
    if response.status_code != 200 or response.headers.get("HX-Retarget"):
        return "error"
    if "banner-warning conflict" in html:
        return "conflict"
    if "queue-changed" in response.headers.get("HX-Trigger", ""):
        return "ok"
    return "error"
