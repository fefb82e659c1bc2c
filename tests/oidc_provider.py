"""A small OpenID Connect provider for the tests: discovery, authorize (it signs in whoever
`claims` names, no questions asked), token (authorization code with PKCE), user info and
JWKS, served by a thread on 127.0.0.1, signing ID tokens with RS256.

`tamper` makes its next tokens wrong in one way: "foreign-key" (signed by a key that is not
in its JWKS), "edited" (claims changed after signing), "audience", "issuer", "expired",
"nonce"."""

import base64
import hashlib
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class StandInProvider:
    def __init__(self, client_id="layers-dashboard", client_secret="provider-test-secret"):
        self.client_id, self.client_secret = client_id, client_secret
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = "test-key-1"
        self.claims = {"sub": "00u-ana", "preferred_username": "ana.lima", "email": "ana@p.example"}
        self.tamper = ""
        self.codes: dict[str, dict] = {}
        self.tokens_issued = 0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.issuer = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def id_token(self, nonce: str) -> str:
        now = int(time.time())
        payload = {
            **self.claims,
            "iss": self.issuer,
            "aud": self.client_id,
            "iat": now,
            "exp": now + 300,
            "nonce": nonce,
        }
        key = self.key
        if self.tamper == "audience":
            payload["aud"] = "some-other-app"
        elif self.tamper == "issuer":
            payload["iss"] = "https://evil.example"
        elif self.tamper == "expired":
            payload["iat"], payload["exp"] = now - 7200, now - 3600
        elif self.tamper == "nonce":
            payload["nonce"] = "not-the-one-sent"
        elif self.tamper == "foreign-key":
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        token = jwt.encode(payload, key, algorithm="RS256", headers={"kid": self.kid})
        if self.tamper == "edited":
            head, _body, signature = token.split(".")
            edited = _b64(json.dumps({**payload, "preferred_username": "root"}).encode())
            token = f"{head}.{edited}.{signature}"
        return token

    def _handler(self):
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _json(self, body, status=200):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                url = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                if url.path == "/.well-known/openid-configuration":
                    base = provider.issuer
                    return self._json(
                        {
                            "issuer": base,
                            "authorization_endpoint": f"{base}/authorize",
                            "token_endpoint": f"{base}/token",
                            "userinfo_endpoint": f"{base}/userinfo",
                            "jwks_uri": f"{base}/jwks",
                        }
                    )
                if url.path == "/jwks":
                    jwk = RSAAlgorithm.to_jwk(provider.key.public_key(), as_dict=True)
                    return self._json({"keys": [{**jwk, "kid": provider.kid, "alg": "RS256"}]})
                if url.path == "/authorize":
                    if query.get("client_id") != provider.client_id:
                        return self._json({"error": "unauthorized_client"}, 400)
                    code = secrets.token_urlsafe(16)
                    provider.codes[code] = query
                    target = (
                        query["redirect_uri"]
                        + "?"
                        + urlencode({"code": code, "state": query["state"]})
                    )
                    self.send_response(302)
                    self.send_header("Location", target)
                    self.end_headers()
                    return None
                if url.path == "/userinfo":
                    if self.headers.get("Authorization") != "Bearer access-for-" + provider.kid:
                        return self._json({"error": "invalid_token"}, 401)
                    return self._json(provider.claims)
                return self._json({"error": "not_found"}, 404)

            def do_POST(self):
                if urlsplit(self.path).path != "/token":
                    return self._json({"error": "not_found"}, 404)
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                asked = provider.codes.pop(form.get("code", ""), None)
                if (
                    asked is None
                    or form.get("client_id") != provider.client_id
                    or form.get("client_secret") != provider.client_secret
                    or form.get("redirect_uri") != asked["redirect_uri"]
                ):
                    return self._json({"error": "invalid_grant"}, 400)
                verifier = form.get("code_verifier", "")
                challenge = _b64(hashlib.sha256(verifier.encode()).digest())
                if challenge != asked.get("code_challenge"):
                    return self._json({"error": "invalid_grant", "error_description": "PKCE"}, 400)
                provider.tokens_issued += 1
                return self._json(
                    {
                        "access_token": "access-for-" + provider.kid,
                        "token_type": "Bearer",
                        "expires_in": 300,
                        "id_token": provider.id_token(asked.get("nonce", "")),
                    }
                )

        return Handler
