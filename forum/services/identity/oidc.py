"""Single sign-on with OpenID Connect (authorization code flow with PKCE), one identity provider per organisation.

``start`` gives the provider's authorization URL and the state to keep in the session (state, nonce, PKCE
verifier); ``finish`` exchanges the code at the token endpoint, verifies the ID token (signature against the
provider's JWKS, issuer, audience, expiry, nonce) and returns the member it names: linked by the provider's
``sub``, or created just in time in the provider's organisation. Discovery documents and key sets are fetched
from the issuer and kept for ``SSO_CACHE_SECONDS``; a token signed by a key not in the cached set fetches it again.
"""
from __future__ import annotations

import hmac
import json
import re
import threading
import time
import urllib.error
import urllib.request
from base64 import b64encode
from urllib.parse import urlencode, urlsplit

from authlib.common.security import generate_token
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from flask import current_app
from flask_babel import gettext
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from sqlalchemy import func, select

from ...extensions import db
from ...models import Organisation, SsoIdentity, SsoProvider, User, utcnow
from ..moderation import audit
from ..orgs.accounts import USERNAME_RE, find_user_by_email, normalise_email
from ..orgs.catalog import ValidationFailed
from .secretbox import SecretUnreadable, seal, unseal

ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384"]
# amr values (RFC 8176) saying the provider asked for more than a password.
MFA_METHODS = {"mfa", "otp", "hwk", "swk", "sc", "fpt", "face", "iris", "retina", "vbm"}
_DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_cache: dict[str, tuple[float, object]] = {}
_cache_lock = threading.Lock()
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class SsoRefused(Exception):
    """The sign-in cannot go on; the message is safe to show."""


# --- configuration ---------------------------------------------------------------------------------------------

def provider_of(organisation: Organisation) -> SsoProvider | None:
    return db.session.execute(select(SsoProvider).where(SsoProvider.organisation_id == organisation.id)).scalar_one_or_none()


def provider(provider_id: int) -> SsoProvider | None:
    row = db.session.get(SsoProvider, provider_id)
    return row if row is not None and row.enabled else None


def _domain(email: str) -> str:
    return normalise_email(email).rpartition("@")[2]


def provider_for_email(email: str) -> SsoProvider | None:
    """The enabled provider whose email domains include this address's domain."""
    domain = _domain(email)
    if not domain:
        return None
    for row in db.session.execute(select(SsoProvider).where(SsoProvider.enabled.is_(True))).scalars():
        if domain in (row.email_domains or []):
            return row
    return None


def password_refused_by(email: str) -> SsoProvider | None:
    """The SSO-only provider that makes this address sign in with single sign-on (by domain or membership)."""
    row = provider_for_email(email)
    if row is not None and row.sso_only:
        return row
    user = find_user_by_email(email)
    if user is not None:
        own = db.session.execute(select(SsoProvider).where(
            SsoProvider.organisation_id == user.organisation_id, SsoProvider.enabled.is_(True),
            SsoProvider.sso_only.is_(True))).scalar_one_or_none()
        return own
    return None


def _check_issuer(issuer: str) -> str:
    issuer = (issuer or "").strip()
    parts = urlsplit(issuer)
    allowed = ("https", "http") if current_app.config.get("SSO_ALLOW_HTTP") else ("https",)
    if parts.scheme not in allowed or not parts.hostname or parts.query or parts.fragment or len(issuer) > 500:
        raise ValidationFailed(gettext("Enter the issuer's https:// address, as the provider publishes it."), "issuer")
    return issuer


def save_provider(organisation: Organisation, actor: User, *, label: str, issuer: str, client_id: str,
                  client_secret: str, email_domains: str, sso_only: bool, enabled: bool) -> SsoProvider:
    """Create or change the organisation's provider; an empty secret keeps the stored one. Audited."""
    domains = sorted({d.strip().lower().lstrip("@") for d in re.split(r"[\s,]+", email_domains or "") if d.strip()})
    bad = [d for d in domains if not _DOMAIN_RE.match(d)]
    if not domains or bad:
        raise ValidationFailed(gettext("List the email domains its members use, such as aldercrest.example."), "email_domains")
    issuer = _check_issuer(issuer)
    client_id = (client_id or "").strip()
    if not client_id or len(client_id) > 200:
        raise ValidationFailed(gettext("Enter the client ID the provider gave Groundwork."), "client_id")
    row = provider_of(organisation)
    taken = [d for other in db.session.execute(select(SsoProvider).where(SsoProvider.organisation_id != organisation.id))
             .scalars() for d in (other.email_domains or []) if d in domains]
    if taken:
        raise ValidationFailed(gettext("%(value)s already signs in through another organisation's provider.", value=taken[0]),
                               "email_domains")
    if row is None and not client_secret:
        raise ValidationFailed(gettext("Enter the client secret."), "client_secret")
    if row is None:
        row = SsoProvider(organisation_id=organisation.id)
        db.session.add(row)
    row.label = ((label or "").strip() or f"{organisation.name} SSO")[:80]
    row.issuer, row.client_id, row.email_domains = issuer, client_id, domains
    row.sso_only, row.enabled = bool(sso_only), bool(enabled)
    if client_secret:
        row.client_secret_encrypted = seal(client_secret)
    db.session.flush()
    audit.record("sso.configure", row, actor=actor, before=None, after=audit.snapshot(row),
                 says=("sso.configure", {"organisation": organisation.name}))
    db.session.commit()
    return row


# --- talking to the provider -----------------------------------------------------------------------------------

def _fetch_json(url: str, data: dict | None = None, headers: dict | None = None) -> dict:
    request = urllib.request.Request(url, data=urlencode(data).encode() if data is not None else None,
                                     headers={"Accept": "application/json", **(headers or {})})
    timeout = float(current_app.config.get("SSO_TIMEOUT_SECONDS", 10))
    try:
        with _opener.open(request, timeout=timeout) as response:
            return json.loads(response.read(1_000_000))
    except urllib.error.HTTPError as exc:
        raise SsoRefused(gettext('The identity provider refused the sign-in (HTTP %(code)s).', code=exc.code)) from exc
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise SsoRefused(gettext("The identity provider cannot be reached; try again in a moment.")) from exc


def _cached(key: str, load, fresh: bool = False):
    ttl = float(current_app.config.get("SSO_CACHE_SECONDS", 3600))
    with _cache_lock:
        hit = _cache.get(key)
    if hit is not None and not fresh and time.monotonic() - hit[0] < ttl:
        return hit[1]
    value = load()
    with _cache_lock:
        _cache[key] = (time.monotonic(), value)
    return value


def discovery(row: SsoProvider) -> dict:
    """The provider's discovery document; its issuer must be exactly the configured one."""
    issuer = _check_issuer(row.issuer)
    doc = _cached("discovery:" + issuer,
                  lambda: _fetch_json(issuer.rstrip("/") + "/.well-known/openid-configuration"))
    if doc.get("issuer") != issuer:
        raise SsoRefused(gettext("The identity provider names another issuer than the one configured."))
    for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        if not isinstance(doc.get(key), str):
            raise SsoRefused(gettext("The identity provider's discovery document is incomplete."))
    return doc


def start(row: SsoProvider, redirect_uri: str) -> tuple[str, dict]:
    """The authorization URL to send the browser to, and what the session keeps until the callback."""
    doc = discovery(row)
    state, nonce, verifier = generate_token(32), generate_token(32), generate_token(64)
    query = urlencode({"response_type": "code", "client_id": row.client_id, "redirect_uri": redirect_uri,
                       "scope": "openid email profile", "state": state, "nonce": nonce,
                       "code_challenge": create_s256_code_challenge(verifier), "code_challenge_method": "S256"})
    separator = "&" if "?" in doc["authorization_endpoint"] else "?"
    return doc["authorization_endpoint"] + separator + query, {
        "provider": row.id, "state": state, "nonce": nonce, "verifier": verifier, "at": time.time()}


def _keys(doc: dict, fresh: bool = False) -> KeySet:
    return _cached("jwks:" + doc["jwks_uri"], lambda: KeySet.import_key_set(_fetch_json(doc["jwks_uri"])), fresh)


def _verified_claims(row: SsoProvider, doc: dict, id_token: str, nonce: str) -> dict:
    try:
        try:
            token = jwt.decode(id_token, _keys(doc), algorithms=ALGORITHMS)
        except (JoseError, ValueError):
            token = jwt.decode(id_token, _keys(doc, fresh=True), algorithms=ALGORITHMS)  # keys rotated?
        claims = dict(token.claims)
        jwt.JWTClaimsRegistry(
            leeway=int(current_app.config.get("SSO_LEEWAY_SECONDS", 60)),
            iss={"essential": True, "value": row.issuer}, sub={"essential": True},
            exp={"essential": True}, iat={"essential": True}, nonce={"essential": True, "value": nonce},
        ).validate(claims)
    except (JoseError, ValueError, TypeError) as exc:
        raise SsoRefused(gettext("The identity provider's answer could not be verified.")) from exc
    audience = claims.get("aud")
    audiences = [audience] if isinstance(audience, str) else list(audience or [])
    if row.client_id not in audiences or (len(audiences) > 1 and claims.get("azp") != row.client_id):
        raise SsoRefused(gettext("The identity provider's answer was meant for another application."))
    return claims


def finish(pending: dict, state: str, code: str, redirect_uri: str) -> tuple[User, dict]:
    """Complete the sign-in the session started: the member and the ID token's claims (with the raw token)."""
    if not pending or not state or not isinstance(pending.get("state"), str) or \
            not secrets_equal(pending["state"], state):
        raise SsoRefused(gettext("This sign-in link is not valid any more; start again."))
    if time.time() - float(pending.get("at", 0)) > float(current_app.config.get("SSO_PENDING_SECONDS", 600)):
        raise SsoRefused(gettext("The sign-in took too long; start again."))
    row = provider(int(pending.get("provider", 0)))
    if row is None or not code:
        raise SsoRefused(gettext("Single sign-on is not available for this organisation any more."))
    doc = discovery(row)
    try:
        secret = unseal(row.client_secret_encrypted)
    except SecretUnreadable as exc:
        raise SsoRefused(gettext("Single sign-on is misconfigured; ask an administrator.")) from exc
    basic = b64encode(f"{row.client_id}:{secret}".encode()).decode()
    answer = _fetch_json(doc["token_endpoint"], {
        "grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
        "code_verifier": pending.get("verifier", "")}, {"Authorization": f"Basic {basic}"})
    id_token = answer.get("id_token")
    if not isinstance(id_token, str):
        raise SsoRefused(gettext("The identity provider sent no ID token."))
    claims = _verified_claims(row, doc, id_token, pending.get("nonce", ""))
    return account_for(row, claims), {**claims, "_id_token": id_token, "_end_session": doc.get("end_session_endpoint")}


def secrets_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def mfa_asserted(claims: dict) -> bool:
    """Did the provider say it asked for more than a password (``amr``)?"""
    amr = claims.get("amr") or []
    return isinstance(amr, list) and bool(MFA_METHODS & {str(v).lower() for v in amr})


# --- accounts --------------------------------------------------------------------------------------------------

def _free_username(email: str) -> str:
    base = re.sub(r"[^A-Za-z0-9_.-]", "", normalise_email(email).partition("@")[0])[:32] or "member"
    if not base[0].isalnum():
        base = "m" + base
    base = base if len(base) >= 3 else (base + "000")[:3]
    candidate, n = base, 1
    while db.session.execute(select(User.id).where(func.lower(User.username) == candidate.lower())).first():
        n += 1
        candidate = f"{base[:36]}{n}"
    assert USERNAME_RE.match(candidate)
    return candidate


def account_for(row: SsoProvider, claims: dict) -> User:
    """The member these verified claims name: by the provider's ``sub``; else the organisation's account with
    that email (linked now); else a new account in the provider's organisation."""
    subject = str(claims["sub"])[:255]
    identity = db.session.execute(select(SsoIdentity).where(
        SsoIdentity.provider_id == row.id, SsoIdentity.subject == subject)).scalar_one_or_none()
    now = utcnow()
    if identity is not None:
        user = identity.user
    else:
        email = normalise_email(str(claims.get("email") or ""))
        if not email or claims.get("email_verified") is False:
            raise SsoRefused(gettext("The identity provider did not give a verified email address."))
        if _domain(email) not in (row.email_domains or []):
            raise SsoRefused(gettext("That email address is not one of this organisation's domains."))
        user = find_user_by_email(email)
        if user is not None and user.organisation_id != row.organisation_id:
            raise SsoRefused(gettext("An account with this email address belongs to another organisation."))
        if user is None:
            name = " ".join(str(claims.get("name") or email.partition("@")[0]).split())[:80]
            user = User(email=email, username=_free_username(email), display_name=name or email[:80],
                        password_hash="", organisation_id=row.organisation_id, session_version=1,
                        created_at=now)
            db.session.add(user)
            db.session.flush()
            audit.record("sso.account_created", user, actor=user.id, before=None, after=audit.snapshot(user),
                         says=("sso.account_created", {"email": email, "provider": row.label}))
        db.session.add(SsoIdentity(provider_id=row.id, user_id=user.id, subject=subject, created_at=now))
        identity = None
    if not user.active or user.is_placeholder:
        db.session.rollback()
        raise SsoRefused(gettext("This account is deactivated."))
    user.last_seen_at = now
    if identity is not None:
        identity.last_login_at = now
    db.session.commit()
    return user
