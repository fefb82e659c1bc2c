"""Names the sandbox tests share: the seeded story's ids and keys, and small helpers."""

import hashlib
import hmac
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.conftest import ACME, BRIGHTSIDE, NORDLICHT  # noqa: F401 - the seeded story's ids

READONLY_KEY = "lp_test_READONLY00000002_sandbox-readonly-secret-not-a-real-key-0000"
REVIEWER_KEY = "lp_test_REVIEWER00000003_sandbox-reviewer-secret-not-a-real-key-0000"
DEMO_KEY_ID = "key_00000000-0000-4000-8000-000000000001"
READONLY_KEY_ID = "key_00000000-0000-4000-8000-000000000002"
ULID = r"[0-9A-HJKMNP-TV-Z]{26}"


def has_id(value: str, prefix: str) -> bool:
    return re.fullmatch(f"{prefix}_{ULID}", value or "") is not None


def ads(project: str, rest: str) -> str:
    return f"/v1/projects/{project}/ads{rest}"


def campaigns(sandbox, project=ACME, **params) -> list[dict]:
    response = sandbox.api("GET", ads(project, "/campaigns"), params={"limit": 200, **params})
    assert response.status_code == 200, response.text
    return response.json()["items"]


def campaign_named(sandbox, name: str, project=ACME) -> dict:
    return next(c for c in campaigns(sandbox, project) if c["name"] == name)


def pending(sandbox, project=ACME, platform="meta", **params) -> list[dict]:
    response = sandbox.api("GET", ads(project, f"/{platform}/pending"), params=params)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def error_of(response) -> dict:
    body = response.json()
    assert set(body) == {"error"}, body
    assert body["error"]["requestId"] == response.headers["X-Request-Id"]
    return body["error"]


def walk(sandbox, path: str, *, key=None, **params) -> tuple[list[dict], int]:
    """Follows nextCursor to the last page; returns (items, pages)."""
    items, pages, cursor = [], 0, None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        response = sandbox.api("GET", path, params=query, key=key)
        assert response.status_code == 200, response.text
        body = response.json()
        items += body["items"]
        pages += 1
        cursor = body["nextCursor"]
        if cursor is None:
            return items, pages


def verify_signature(header: str, body: bytes, secret: str) -> bool:
    """The receiver's own check (deliberately not the dashboard's or the sandbox's code)."""
    parts = [p.split("=", 1) for p in header.split(",")]
    t = next(v for k, v in parts if k == "t")
    expected = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return any(k == "v1" and hmac.compare_digest(v, expected) for k, v in parts)


class Receiver:
    """A tiny webhook endpoint on 127.0.0.1:<free port>; answers with queued statuses (then 200)."""

    def __init__(self):
        self.requests: list[dict] = []
        self.statuses: list[int] = []
        self.location: str | None = None  # sent as Location (with a 3xx status)
        self.arrived = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                if receiver.location:
                    self.send_header("Location", receiver.location)
                self.send_header("Content-Length", "0")
                self.end_headers()
                with receiver.arrived:
                    receiver.requests.append(
                        {"headers": dict(self.headers), "body": body, "status": status}
                    )
                    receiver.arrived.notify_all()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, count: int, timeout: float = 5.0) -> list[dict]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.requests) >= count, timeout)
        return self.requests

    def events(self, event_type: str) -> list[dict]:
        return [
            json.loads(r["body"])
            for r in self.requests
            if r["headers"]["X-Layers-Event-Type"] == event_type
        ]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def start_of_a_fresh_minute(sandbox):
    """Moves the sandbox clock to the start of a rate-limit window, so a loaded machine
    cannot cross into the next one halfway through a test."""
    left = int(sandbox.api("GET", "/v1/whoami").headers["X-RateLimit-Reset"]) - time.time()
    sandbox.control("clock", advanceSeconds=left + 1)
