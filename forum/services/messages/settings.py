"""An organisation's setting for direct messages with members of other customer organisations."""
from __future__ import annotations

from flask_babel import gettext

from ... import permissions
from ...extensions import db
from ...models import Organisation, User
from ...permissions import PermissionDenied
from ..moderation import audit


def set_customer_messages(user: User, organisation: Organisation, allow: bool) -> None:
    """Allow (or stop) messages between this customer organisation's members and other customers' members
    (a pair may write only while both organisations allow it)."""
    if not permissions.can_change_customer_messages(user, organisation):
        raise PermissionDenied(gettext("Only the organisation's admins change this."))
    if organisation.allow_customer_messages != allow:
        organisation.allow_customer_messages = allow
        audit.record("organisation.customer_messages", organisation, actor=user,
                     says=("customer_messages.allowed" if allow else "customer_messages.off",
                           {"organisation": organisation.name}))
    db.session.commit()
