"""A real OpenID Connect provider on 127.0.0.1 for the single sign-on tests, built on Authlib's server side.

A small Flask app of its own (not the forum's), served by werkzeug on a free port in a thread. Authlib's
``AuthorizationServer`` runs the authorization code grant with the OpenID Connect extension (``OpenIDCode``: RS256
ID tokens signed by joserfc, nonces required and never accepted twice) and PKCE (``CodeChallenge``, S256 only);
the client authenticates at the token endpoint with HTTP Basic; codes are bound to the client, the redirect URI
and the challenge, and work once. Discovery is Authlib's ``OpenIDProviderMetadata`` (validated), the end-session
endpoint Authlib's RP-initiated logout (``EndSessionEndpoint``, which checks the ``id_token_hint`` against the
JWKS). The authorization endpoint signs in whoever ``sign_in_as`` names, no questions asked.

Knobs make it misbehave the ways a client must notice, each through the grant's own claim and key hooks, so the
forged tokens are still minted by Authlib: another issuer (``token_issuer``) or audience (``audience``), an
expired token (``lifetime`` < 0), a stale nonce (``nonce``), a key the JWKS does not publish (``wrong_key``), and a
discovery document naming another issuer (``discovery_issuer``).
"""
from __future__ import annotations

import threading
import time

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import ClientMixin, InvalidRequestError, grants
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import AuthorizationCodeMixin, UserInfo
from authlib.oidc.core.grants import OpenIDCode
from authlib.oidc.discovery import OpenIDProviderMetadata
from authlib.oidc.rpinitiated import EndSessionEndpoint
from authlib.oidc.rpinitiated import OpenIDProviderMetadata as EndSessionMetadata
from flask import Flask, jsonify, request
from joserfc.jwk import KeySet, RSAKey
from werkzeug.serving import WSGIRequestHandler, make_server

CODE_LIFETIME = 300


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args) -> None:  # noqa: ANN002 - werkzeug's signature
        return


class _Client(ClientMixin):
    """The forum, registered as a confidential client (HTTP Basic at the token endpoint, code flow only)."""

    def __init__(self, client_id: str, client_secret: str) -> None:
        self.client_id, self.client_secret = client_id, client_secret
        self.client_metadata: dict = {}  # no post_logout_redirect_uris: the end-session page stays at the provider

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> None:
        return None  # the forum always sends its callback

    def get_allowed_scope(self, scope: str) -> str:
        return " ".join(s for s in (scope or "").split() if s in ("openid", "email", "profile"))

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        # The forum under test runs on varying hosts and ports (the test client, gunicorn): any http(s) callback.
        return redirect_uri.startswith(("http://", "https://")) and redirect_uri.endswith("/login/sso/callback")

    def check_client_secret(self, client_secret: str) -> bool:
        return client_secret == self.client_secret

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return endpoint != "token" or method == "client_secret_basic"

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


class _User:
    def __init__(self, claims: dict) -> None:
        self.claims = dict(claims)

    def get_user_id(self) -> str:
        return self.claims["sub"]


class _Code(AuthorizationCodeMixin):
    def __init__(self, code: str, client_id: str, redirect_uri: str, scope: str, nonce: str | None,
                 challenge: str | None, method: str | None, user: _User) -> None:
        self.code, self.client_id, self.redirect_uri, self.scope = code, client_id, redirect_uri, scope
        self.nonce, self.code_challenge, self.code_challenge_method, self.user = nonce, challenge, method, user
        self.auth_time = int(time.time())

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time

    def get_acr(self) -> str | None:
        return None

    def get_amr(self) -> list[str] | None:
        return self.user.claims.get("amr")  # how the provider says it signed the member in (RFC 8176)

    def is_expired(self) -> bool:
        return time.time() - self.auth_time > CODE_LIFETIME


class _S256Only(CodeChallenge):
    """PKCE required on every authorization request, and only the S256 method."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant, redirect_uri):
        data = grant.request.payload.data
        if not data.get("code_challenge") or data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("PKCE with code_challenge_method=S256 is required.")
        return super().validate_code_challenge(grant, redirect_uri)


class Provider:
    def __init__(self, client_id: str = "groundwork", client_secret: str = "s3cret-of-the-client") -> None:
        self.client_id, self.client_secret = client_id, client_secret
        self.key = RSAKey.generate_key(2048, parameters={"kid": "key-1", "use": "sig", "alg": "RS256"})
        # Same kid, another key: the forum must not trust a signature because the kid looks familiar.
        self.other_key = RSAKey.generate_key(2048, parameters={"kid": "key-1", "use": "sig", "alg": "RS256"})
        self.client = _Client(client_id, client_secret)
        self.claims: dict = {}
        self.knobs: dict = {}
        self.codes: dict[str, _Code] = {}
        self.tokens: list[dict] = []
        self.nonces_seen: set[str] = set()
        self.logouts: list[dict] = []  # the end-session requests' query parameters
        self.ended_sessions: list[dict] = []  # the claims of their verified id_token_hint (None without one)
        self.last_nonce = ""
        self.app = self._build_app()
        self._server = make_server("127.0.0.1", 0, self.app, threaded=True, request_handler=_Quiet)
        self.issuer = f"http://127.0.0.1:{self._server.server_port}"
        self.metadata().validate(metadata_classes=[EndSessionMetadata])

    def start(self) -> Provider:
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def sign_in_as(self, **claims) -> None:
        """Who the next visit to the authorization endpoint signs in (sub, email, name, amr...)."""
        self.claims = {"email_verified": True, **claims}

    def metadata(self) -> OpenIDProviderMetadata:
        return OpenIDProviderMetadata(
            issuer=self.issuer, authorization_endpoint=self.issuer + "/authorize",
            token_endpoint=self.issuer + "/token", jwks_uri=self.issuer + "/jwks",
            end_session_endpoint=self.issuer + "/logout", response_types_supported=["code"],
            grant_types_supported=["authorization_code"], subject_types_supported=["public"],
            id_token_signing_alg_values_supported=["RS256"], code_challenge_methods_supported=["S256"],
            token_endpoint_auth_methods_supported=["client_secret_basic"],
            scopes_supported=["openid", "email", "profile"])

    def discovery(self) -> dict:
        return {**self.metadata(), "issuer": self.knobs.get("discovery_issuer", self.issuer)}

    def jwks(self) -> KeySet:
        return KeySet([self.key])

    # --- the Flask app and Authlib's server -------------------------------------------------------------------

    def _build_app(self) -> Flask:
        provider = self
        app = Flask("oidc_provider")
        app.config.update(OAUTH2_TOKEN_EXPIRES_IN={"authorization_code": 300})
        server = AuthorizationServer(app, query_client=lambda cid: self.client if cid == self.client_id else None,
                                     save_token=lambda token, req: self.tokens.append(dict(token)))

        class CodeGrant(grants.AuthorizationCodeGrant):
            TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic"]

            def save_authorization_code(self, code, req):
                data = req.payload.data
                provider.codes[code] = _Code(code, req.client.get_client_id(), req.payload.redirect_uri,
                                             req.scope, data.get("nonce"), data.get("code_challenge"),
                                             data.get("code_challenge_method"), req.user)

            def query_authorization_code(self, code, client):
                item = provider.codes.pop(code, None)  # presented once, used up, whatever happens next
                if item is not None and item.client_id == client.get_client_id() and not item.is_expired():
                    return item
                return None

            def delete_authorization_code(self, authorization_code):
                provider.codes.pop(authorization_code.code, None)

            def authenticate_user(self, authorization_code):
                return authorization_code.user

        class IdTokens(OpenIDCode):
            def exists_nonce(self, nonce, req):
                return nonce in provider.nonces_seen

            def resolve_client_private_key(self, client):
                return provider.other_key if provider.knobs.get("wrong_key") else provider.key

            def get_client_algorithm(self, client):
                return "RS256"

            def get_encode_header(self, client):
                return {"alg": "RS256", "kid": "key-1"}

            def get_client_claims(self, client):
                now, lifetime = int(time.time()), provider.knobs.get("lifetime", 300)
                return {"iss": provider.knobs.get("token_issuer", provider.issuer),
                        "aud": provider.knobs.get("audience", client.get_client_id()),
                        "iat": now if lifetime > 0 else now + lifetime - 60, "exp": now + lifetime}

            def get_authorization_code_claims(self, authorization_code):
                claims = super().get_authorization_code_claims(authorization_code)
                if "nonce" in provider.knobs:
                    claims["nonce"] = provider.knobs["nonce"]
                return claims

            def generate_user_info(self, user, scope):
                claims = {k: v for k, v in user.claims.items() if k != "amr"}
                return UserInfo(claims).filter(scope)

        class EndSession(EndSessionEndpoint):
            def get_server_jwks(self):
                return provider.jwks()

            def end_session(self, end_session_request):
                provider.logouts.append(request.values.to_dict())
                provider.ended_sessions.append(end_session_request.id_token_claims)

        server.register_grant(CodeGrant, [IdTokens(require_nonce=True), _S256Only(required=True)])
        server.register_endpoint(EndSession)

        @app.get("/.well-known/openid-configuration")
        def discovery():
            return jsonify(provider.discovery())

        @app.get("/jwks")
        def jwks():
            return jsonify(provider.jwks().as_dict(private=False))

        @app.get("/authorize")
        def authorize():
            if "openid" not in request.args.get("scope", "").split():
                return jsonify(error="invalid_scope", error_description="openid is required"), 400
            user = _User(provider.claims)
            try:
                grant = server.get_consent_grant(end_user=user)
            except OAuth2Error as error:
                return server.handle_error_response(None, error)
            nonce = request.args.get("nonce", "")
            response = server.create_authorization_response(grant_user=user, grant=grant)
            if response.status_code == 302 and nonce:
                provider.nonces_seen.add(nonce)
                provider.last_nonce = nonce
            return response

        @app.post("/token")
        def token():
            return server.create_token_response()

        @app.route("/logout", methods=["GET", "POST"])
        def logout():
            try:
                end = server.validate_endpoint_request("end_session")
            except OAuth2Error as error:
                return server.handle_error_response(None, error)
            return server.create_endpoint_response("end_session", end) or jsonify(signed_out=True)

        return app
