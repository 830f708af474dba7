"""Configuration defaults; the environment (FORUM_* or plain names) overrides them."""
from __future__ import annotations

import os
from datetime import timedelta

DEV_SECRET_KEY = "dev-only-insecure-key"


class Config:
    SECRET_KEY = DEV_SECRET_KEY
    # Set to a URL such as postgresql+psycopg://user@host/db; empty means SQLite in the instance folder.
    DATABASE_URL = ""
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    REDIS_URL = ""
    CELERY_BROKER_URL = ""
    CELERY_RESULT_BACKEND = ""
    CELERY_QUEUE = "groundwork"
    # minilm (all-MiniLM-L6-v2, offline) or tfidf (light fallback where torch is absent).
    MINING_EMBEDDER = "minilm"
    # Embedded default: mining work runs in a thread of the server process when no broker is set.
    MINING_IN_BACKGROUND = True
    MINING_ASSIGN_NEW_THREADS = True
    # Without a broker, background work of a process runs on this many threads, jobs waiting in a queue.
    BACKGROUND_THREADS = 2
    # With a broker, jobs the broker did not take (it was down) are sent again by each web process this often.
    OUTBOX_SWEEP_SECONDS = 10
    OUTBOX_RETRY_SECONDS = 10
    # A running run renews its lease every HEARTBEAT seconds; one silent for LEASE seconds died with its process,
    # and a run queued for QUEUE seconds found no worker: the next start marks either interrupted and resumes.
    MINING_RUN_HEARTBEAT_SECONDS = 15
    MINING_RUN_LEASE_SECONDS = 120
    MINING_RUN_QUEUE_SECONDS = 900
    # Threads per embedding chunk a worker claims: one model call each; 512 cost 1.0% over one call on all the texts
    # (best round against best), 256 5.5% (bench/README.md), and 1M threads still make about 2,000 chunks.
    MINING_EMBED_CHUNK = 512
    MINING_CHUNK_STALE_SECONDS = 60  # a claimed chunk whose heartbeat is older is taken again
    MINING_EMBED_THREADS = None  # torch threads per process embedding (None: every core)
    # "process": each web worker embeds drafts and search queries itself (loads torch and the model); "worker":
    # with a broker, a query worker (README) embeds them and web workers stay small; waited for at most TIMEOUT s.
    QUERY_EMBEDDING = "process"
    QUERY_EMBEDDING_QUEUE = "groundwork.queries"
    QUERY_EMBEDDING_TIMEOUT = 2.0
    PUBLIC_READ = False
    PATTERN_MIN_ORGS = 3
    # The patterns page's clock: "" = real time, "latest" = the newest thread (demo data frozen in time),
    # or an ISO date. Emerging = this many new customer organisations within this many days.
    PATTERN_NOW = ""
    PATTERN_EMERGING_DAYS = 14
    PATTERN_EMERGING_ORGS = 3
    # The patterns page serves stored figures at most this old (0 = compute on every view); when the data
    # moves, figures at least PATTERN_FIGURES_MIN_SECONDS old are recomputed off the request path.
    PATTERN_CACHE_SECONDS = 60
    PATTERN_FIGURES_MIN_SECONDS = 15
    # With nothing stored for a set of filters, a view waits this long for the background computation before
    # it lists the patterns without figures (the page then shows them by itself once they are stored).
    PATTERN_FIGURES_WAIT_SECONDS = 0.1

    MAX_CONTENT_LENGTH = 1 * 1024 * 1024
    # Files on posts: stored by content hash outside the static folder ("" = "attachments" in the instance
    # folder); a post's form may then carry up to ATTACHMENT_MAX_FILES files of ATTACHMENT_MAX_BYTES each.
    ATTACHMENT_DIR = ""
    ATTACHMENT_MAX_BYTES = 5 * 1024 * 1024
    ATTACHMENT_MAX_FILES = 5
    TITLE_MAX_LENGTH = 200
    POST_MAX_LENGTH = 50_000
    PAGE_SIZE = 20
    REPLIES_PAGE_SIZE = 50
    # The home and space lists a process has read are served again until a commit changes what they can show
    # (services.board.generation), and for this long at most (writes made outside the app are not counted).
    # 0 reads every list from the database.
    LIST_CACHE_SECONDS = 30

    # Sign-ins last two weeks of inactivity at most; logout and password change end them at once.
    PERMANENT_SESSION_LIFETIME = timedelta(days=14)
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = True

    WTF_CSRF_TIME_LIMIT = None
    RATELIMIT_ENABLED = True
    RATELIMIT_HEADERS_ENABLED = True
    # If Redis goes away, count in memory rather than failing every limited request.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_LOGIN = "10 per minute"
    RATELIMIT_LOGIN_ACCOUNT = "20 per hour"
    RATELIMIT_REGISTER = "5 per minute"
    RATELIMIT_POST = "30 per minute"
    RATELIMIT_SEARCH = "60 per minute"

    # Vendor staff sign in with an authenticator app (TOTP); a device may skip it for this many days.
    TWO_FACTOR_REQUIRED_FOR_STAFF = True
    TWO_FACTOR_REMEMBER_DAYS = 30
    # A password accepted, the second factor must follow within this many seconds.
    TWO_FACTOR_PENDING_SECONDS = 600
    # Fernet key for secrets stored encrypted (TOTP seeds, SSO client secrets); empty = derived from SECRET_KEY.
    ENCRYPTION_KEY = ""
    RATELIMIT_TWO_FACTOR = "10 per minute"

    # Webhooks: the forum's public address for links in payloads; whether private/loopback receivers are allowed
    # (a receiver inside the company network, tests on localhost); per attempt timeout; retries doubling from
    # RETRY up to RETRY_MAX seconds, given up after MAX_ATTEMPTS; a webhook failing DISABLE_AFTER attempts in a
    # row is switched off. (WEBHOOK_SWEEP_SECONDS: how often each serving process retries what is due, 10.)
    EXTERNAL_URL = ""
    WEBHOOK_ALLOW_PRIVATE = False
    WEBHOOK_TIMEOUT_SECONDS = 5
    WEBHOOK_RETRY_SECONDS = 30
    WEBHOOK_RETRY_MAX_SECONDS = 3600
    WEBHOOK_MAX_ATTEMPTS = 10
    WEBHOOK_DISABLE_AFTER = 20

    # Routing a new question to members who solved it: at most PER_QUESTION members each; besides its pattern's
    # solved threads, solved threads whose vectors are at least MIN_SIMILARITY alike (cosine, all-MiniLM-L6-v2:
    # paraphrases of one problem measured 0.6-0.9, other problems of the same product under 0.3).
    ROUTING_PER_QUESTION = 3
    ROUTING_MIN_SIMILARITY = 0.5

    # Single sign-on (OpenID Connect): plain-http issuers only for tests and local providers; timeouts, how long
    # discovery documents and key sets are kept, clock leeway for ID tokens, and how long a sign-in may take.
    SSO_ALLOW_HTTP = False
    SSO_TIMEOUT_SECONDS = 10
    SSO_CACHE_SECONDS = 3600
    SSO_LEEWAY_SECONDS = 60
    SSO_PENDING_SECONDS = 600

    INVITATION_DAYS = 14
    # New members' first hours: at most this many threads, and links per post (admins can change them
    # on /admin/limits; 0 hours switches the limits off). Employees are exempt.
    NEW_USER_HOURS = 24
    NEW_USER_MAX_THREADS = 3
    NEW_USER_MAX_LINKS = 2


def apply_environment(app) -> None:
    """Read overrides from the environment: FORUM_X first, then well-known plain names."""
    app.config.from_prefixed_env("FORUM")
    for name in ("SECRET_KEY", "DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "MAIL_SERVER", "PUBLIC_READ"):
        value = os.environ.get(name)
        if value is not None and f"FORUM_{name}" not in os.environ:
            app.config[name] = _coerce(value)


def _coerce(value: str):
    lowered = value.strip().lower()
    if lowered in ("true", "1", "yes", "on"):
        return True
    if lowered in ("false", "0", "no", "off"):
        return False
    return value
