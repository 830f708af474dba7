"""Typed SQLAlchemy 2.0 models, one module per domain; importing the package registers every table.

``base`` (clock, enum columns) <- ``orgs`` (organisations, people, catalog, deployments) <- ``board`` (spaces,
threads, replies) <- ``patterns``, ``moderation``, ``tokens``, ``attachments`` <- ``notifications``;
``messages`` (direct messages), ``ideas`` (product ideas); ``outbox`` (jobs waiting for the broker, API responses
kept by idempotency key).
"""
from .attachments import Attachment, AttachmentKind
from .base import _enum, utcnow
from .board import (
    BoardGeneration,
    Confirmation,
    Reply,
    Revision,
    Space,
    SpaceKind,
    Tag,
    Thread,
    ThreadKind,
    ThreadStatus,
    Visibility,
    Vote,
    thread_tag,
)
from .chunks import EmbeddingChunk
from .ideas import Idea, IdeaStatus, IdeaVote
from .identity import RecoveryCode, RememberedDevice, SsoIdentity, SsoProvider, TwoFactor
from .mail import MailMessage, MailStatus
from .messages import Conversation, ConversationMember, MemberBlock, Message, MessageReport
from .moderation import (
    Assignment,
    AuditEntry,
    Flag,
    FlagReason,
    FlagStatus,
    InternalLink,
    ModerationSettings,
    SpaceModerator,
)
from .notifications import EmailMode, Notification, NotificationKind, NotificationSetting, Watch, WatchTarget
from .orgs import (
    Deployment,
    Engagement,
    Environment,
    Hosting,
    Invitation,
    Organisation,
    OrgKind,
    Product,
    ProductVersion,
    Role,
    User,
)
from .outbox import IdempotentRequest, OutboxJob
from .patterns import (
    MembershipSource,
    MiningRun,
    Pattern,
    PatternMember,
    PatternSnapshot,
    PatternStatus,
    Playbook,
    PlaybookConfirmation,
    PlaybookEvidence,
    PlaybookRevision,
    RunStatus,
    SuggestionEvent,
    ThreadEmbedding,
)
from .reading import Bookmark, ThreadRead
from .tokens import SCOPES, ApiToken
from .webhooks import EVENTS as WEBHOOK_EVENTS
from .webhooks import DeliveryStatus, Webhook, WebhookDelivery

__all__ = [
    "SCOPES", "ApiToken", "Assignment", "Attachment", "AttachmentKind", "AuditEntry", "BoardGeneration", "Confirmation", "Deployment", "EmailMode", "EmbeddingChunk", "Engagement",
    "Environment", "Flag", "FlagReason", "FlagStatus", "Hosting", "IdempotentRequest", "InternalLink", "Invitation",
    "MembershipSource",
    "MiningRun", "ModerationSettings", "Notification", "NotificationKind", "NotificationSetting", "OrgKind",
    "Organisation", "OutboxJob", "Pattern", "PatternMember", "PatternSnapshot", "PatternStatus", "Playbook",
    "PlaybookConfirmation", "PlaybookEvidence", "PlaybookRevision", "Product", "ProductVersion", "Reply",
    "Revision", "Role", "RunStatus", "Space", "SpaceModerator", "SuggestionEvent", "Tag", "Thread",
    "ThreadEmbedding", "ThreadKind", "ThreadStatus", "User", "Visibility", "Vote", "Watch", "WatchTarget",
    "RecoveryCode", "RememberedDevice", "SsoIdentity", "SsoProvider", "TwoFactor", "WEBHOOK_EVENTS", "DeliveryStatus", "Webhook", "WebhookDelivery",
    "Bookmark", "MailMessage", "MailStatus", "ThreadRead",
    "Conversation", "ConversationMember", "Idea", "IdeaStatus", "IdeaVote", "MemberBlock", "Message",
    "MessageReport", "SpaceKind",
    "_enum", "thread_tag", "utcnow",
]
