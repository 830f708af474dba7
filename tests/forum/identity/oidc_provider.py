"""A small but real OpenID Connect provider on 127.0.0.1 for the single sign-on tests.

It serves discovery, a JWKS, an authorization endpoint (which signs in whoever ``claims`` names, no questions
asked), a token endpoint (client secret, single-use codes, the redirect URI and the PKCE verifier checked) and an
end-session endpoint, and issues RS256 ID tokens signed with joserfc (Authlib's JOSE library). Knobs make it
misbehave the ways a client must notice: another issuer or audience, an expired token, a stale nonce, a key the
JWKS does not publish.
"""
from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

from joserfc import jwt
from joserfc.jwk import RSAKey


class Provider:
    def __init__(self, client_id: str = "groundwork", client_secret: str = "s3cret-of-the-client") -> None:
        self.client_id, self.client_secret = client_id, client_secret
        self.key = RSAKey.generate_key(2048, parameters={"kid": "key-1", "use": "sig", "alg": "RS256"})
        self.other_key = RSAKey.generate_key(2048, parameters={"kid": "key-1", "use": "sig", "alg": "RS256"})
        self.claims: dict = {}
        self.knobs: dict = {}
        self.codes: dict[str, dict] = {}
        self.logouts: list[dict] = []
        self.last_nonce = ""
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.issuer = f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> Provider:
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def sign_in_as(self, **claims) -> None:
        """Who the next visit to the authorization endpoint signs in (sub, email, name, amr...)."""
        self.claims = {"email_verified": True, **claims}

    def discovery(self) -> dict:
        return {"issuer": self.knobs.get("discovery_issuer", self.issuer),
                "authorization_endpoint": self.issuer + "/authorize", "token_endpoint": self.issuer + "/token",
                "jwks_uri": self.issuer + "/jwks", "end_session_endpoint": self.issuer + "/logout",
                "response_types_supported": ["code"], "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"], "code_challenge_methods_supported": ["S256"]}

    def id_token(self, grant: dict) -> str:
        now = int(time.time())
        lifetime = self.knobs.get("lifetime", 300)
        claims = {"iss": self.knobs.get("token_issuer", self.issuer), "aud": self.knobs.get("audience", self.client_id),
                  "iat": now if lifetime > 0 else now + lifetime - 60, "exp": now + lifetime,
                  "nonce": self.knobs.get("nonce", grant["nonce"]), **grant["claims"]}
        key = self.other_key if self.knobs.get("wrong_key") else self.key
        return jwt.encode({"alg": "RS256", "kid": "key-1"}, claims, key)

    def _handler(self):
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def _json(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                url = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                if url.path == "/.well-known/openid-configuration":
                    return self._json(200, provider.discovery())
                if url.path == "/jwks":
                    return self._json(200, {"keys": [provider.key.as_dict(private=False)]})
                if url.path == "/logout":
                    provider.logouts.append(query)
                    return self._json(200, {"signed_out": True})
                if url.path == "/authorize":
                    if (query.get("client_id") != provider.client_id or query.get("response_type") != "code"
                            or query.get("code_challenge_method") != "S256" or not query.get("code_challenge")
                            or "openid" not in query.get("scope", "").split()):
                        return self._json(400, {"error": "invalid_request"})
                    code = secrets.token_urlsafe(24)
                    provider.last_nonce = query.get("nonce", "")
                    provider.codes[code] = {"redirect_uri": query["redirect_uri"], "nonce": query.get("nonce"),
                                            "challenge": query["code_challenge"], "claims": dict(provider.claims)}
                    location = query["redirect_uri"] + "?" + urlencode({"code": code, "state": query.get("state", "")})
                    self.send_response(302)
                    self.send_header("Location", location)
                    self.end_headers()
                    return None
                return self._json(404, {"error": "not_found"})

            def do_POST(self) -> None:  # noqa: N802
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(int(self.headers.get("Content-Length", 0)))
                                                     .decode()).items()}
                if urlsplit(self.path).path != "/token":
                    return self._json(404, {"error": "not_found"})
                expected = base64.b64encode(f"{provider.client_id}:{provider.client_secret}".encode()).decode()
                if self.headers.get("Authorization") != f"Basic {expected}":
                    return self._json(401, {"error": "invalid_client"})
                grant = provider.codes.pop(form.get("code", ""), None)  # codes work once
                verifier = form.get("code_verifier", "")
                challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
                if (grant is None or form.get("grant_type") != "authorization_code"
                        or form.get("redirect_uri") != grant["redirect_uri"] or challenge != grant["challenge"]):
                    return self._json(400, {"error": "invalid_grant"})
                return self._json(200, {"access_token": secrets.token_urlsafe(16), "token_type": "Bearer",
                                        "expires_in": 300, "id_token": provider.id_token(grant)})

            def log_message(self, *args) -> None:
                return

        return Handler
