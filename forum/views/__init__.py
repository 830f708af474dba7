"""One blueprint per area, all registered here."""
from __future__ import annotations

from flask import Flask

from ..api import account as api_account
from ..api import bp as api_bp
from . import (
    admin,
    attachments,
    auth,
    avatars,
    board,
    ideas,
    messages,
    metrics,
    moderation,
    notifications,
    orgs,
    password,
    patterns,
    playbooks,
    reading,
    routing,
    solver_suggestions,
    sso,
    suggest,
    two_factor,
    webhooks,
    workflow,
)

BLUEPRINTS = (
    auth.bp, two_factor.bp, sso.bp, password.bp, board.bp, orgs.bp, admin.bp, patterns.bp,
    playbooks.bp, suggest.bp,            # playbooks and the ask page's suggestions
    moderation.bp, workflow.bp,          # moderation, internal links and escalations
    notifications.bp,                    # inbox, watches, email settings, presence hooks
    reading.bp,                          # new since the last visit, unread counts, bookmarks
    attachments.bp,                      # files on posts, served under the post's visibility
    messages.bp,                         # direct messages, blocks, reported messages
    ideas.bp,                            # product ideas: votes, statuses, patterns waiting on them
    avatars.bp,                          # members' pictures (or initials)
    metrics.bp,                          # measured results for employees
    webhooks.bp,                         # signed event deliveries to admins' and org admins' receivers
    routing.bp,                          # opting in to questions like ones the member solved
    solver_suggestions.bp,               # the asker shown who solved questions like theirs
    api_bp, api_account.bp,              # JSON API and the token page
)


def register_blueprints(app: Flask) -> None:
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
