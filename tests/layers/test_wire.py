"""What the client puts on the wire, and the one behaviour the sandbox cannot provoke on
demand (a retry that meets its own first attempt still in flight). These use a tiny scripted
HTTP server: it answers queued responses and records what arrived."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from dashboard.layers import IdempotencyConflict, LayersClient

from .support import SleepRecorder

KEY = "lp_test_WIRETEST00000009_wire-test-secret-not-a-real-key-00000000000"


class Scripted:
    def __init__(self, answers):
        self.answers = list(answers)
        self.seen = []
        script = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                script.seen.append(
                    {
                        "method": self.command,
                        "path": self.path,
                        "headers": dict(self.headers),
                        "body": self.rfile.read(length),
                    }
                )
                status, body, headers = script.answers.pop(0)
                raw = json.dumps(body).encode()
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            do_GET = do_POST = do_PATCH = do_DELETE = _answer

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.client = LayersClient(
            base_url=f"http://127.0.0.1:{self.server.server_address[1]}/api/", api_key=KEY
        )
        self.client.sleep = SleepRecorder()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def scripted():
    made = []

    def make(*answers):
        made.append(Scripted(answers))
        return made[-1]

    yield make
    for one in made:
        one.close()


def envelope(code, status_message="x"):
    return {"error": {"code": code, "message": status_message, "requestId": "req_1", "details": {}}}


DECISION = {
    "pendingId": "pa_1",
    "status": "approved",
    "dispatched": False,
    "dispatchedAt": None,
    "verdictId": "ver_1",
}


def test_a_retry_that_meets_its_own_first_attempt_in_flight_waits_and_asks_once_more(scripted):
    server = scripted(
        (503, envelope("INTERNAL"), {}),
        (409, envelope("IDEMPOTENCY_CONFLICT"), {}),
        (200, DECISION, {}),
    )
    decision = server.client.pending_approve(
        project_id="prj_1", platform="meta", pending_id="pa_1", comment="go", idempotency_key="k-1"
    )
    assert decision.status == "approved" and len(server.seen) == 3
    assert {s["headers"]["Idempotency-Key"] for s in server.seen} == {"k-1"}
    assert len({s["body"] for s in server.seen}) == 1  # byte-for-byte the same body each time


def test_the_in_flight_wait_happens_only_once(scripted):
    server = scripted(
        (503, envelope("INTERNAL"), {}),
        (409, envelope("IDEMPOTENCY_CONFLICT"), {}),
        (409, envelope("IDEMPOTENCY_CONFLICT"), {}),
    )
    with pytest.raises(IdempotencyConflict):
        server.client.pending_approve(
            project_id="prj_1", platform="meta", pending_id="pa_1", idempotency_key="k-2"
        )
    assert len(server.seen) == 3


def test_requests_carry_bearer_auth_json_headers_and_the_wire_vocabulary(scripted):
    server = scripted(
        (200, {"items": [], "nextCursor": None}, {}),
        (202, {"runId": "run_1", "jobId": "job_1", "status": "running"}, {}),
    )
    server.client.campaigns_list(
        project_id="prj_1", platforms=["meta", "apple"], statuses=["active"]
    )
    server.client.optimizer_run(
        project_id="prj_1", layer_id="lyr_1", platform="tiktok", idempotency_key="k-3"
    )
    get, post = server.seen
    assert get["path"] == (
        "/api/v1/projects/prj_1/ads/campaigns?platforms=meta_ads&platforms=apple_ads&status=active"
    )
    assert get["headers"]["Authorization"] == f"Bearer {KEY}" and "X-Api-Key" not in get["headers"]
    assert get["headers"]["Accept"] == "application/json"
    assert get["headers"]["User-Agent"] == "layers-partner-dashboard/0.1"
    assert "Idempotency-Key" not in get["headers"]
    assert post["path"] == "/api/v1/projects/prj_1/ads/optimizer/run"
    assert json.loads(post["body"]) == {
        "layerId": "lyr_1",
        "platform": "tiktok_ads",
        "dryRun": False,
    }
    assert post["headers"]["Content-Type"] == "application/json"


def test_path_segments_use_the_short_platform_and_quote_ids(scripted):
    server = scripted((200, {"count": 4}, {}))
    assert server.client.pending_count(project_id="prj 1/x", platform="apple_ads") == 4
    assert server.seen[0]["path"] == "/api/v1/projects/prj%201%2Fx/ads/apple/pending/count"


def test_unknown_platforms_from_the_wire_are_kept_and_unknown_ones_are_not_sent(scripted):
    row = {"adAccountId": "01H", "platform": "snap_ads", "name": "S"}
    server = scripted((200, {"items": [row]}, {}))
    assert server.client.ad_accounts_list(project_id="prj_1")[0].platform == "snap_ads"
    with pytest.raises(ValueError):
        server.client.defaults_get(project_id="prj_1", platform="apple_search_ads")


def test_a_non_object_item_is_a_bad_response(scripted):
    from dashboard.layers import LayersBadResponse

    server = scripted((200, {"items": ["cmp_1"], "nextCursor": None}, {}))
    with pytest.raises(LayersBadResponse):
        server.client.campaigns_list(project_id="prj_1")


def test_a_delete_answer_without_a_status_is_read_as_dispatched(scripted):
    server = scripted((202, {"jobId": "job_1", "verdictId": "ver_1"}, {}))
    result = server.client.campaign_delete(
        project_id="prj_1", platform="meta", campaign_id="cmp_1", idempotency_key="k-4"
    )
    assert result.status == "dispatched" and result.job_id == "job_1"
    assert server.seen[0]["method"] == "DELETE" and server.seen[0]["body"] == b""
