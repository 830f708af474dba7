"""One blueprint per area, all registered here."""
from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from . import admin, auth, board, orgs, patterns

    for module in (auth, board, orgs, admin, patterns):
        app.register_blueprint(module.bp)
    from . import playbooks, suggest  # playbooks and the ask page's suggestions

    for module in (playbooks, suggest):
        app.register_blueprint(module.bp)
    from . import moderation, workflow  # moderation, internal links and escalations

    for module in (moderation, workflow):
        app.register_blueprint(module.bp)
    from . import notifications  # inbox, watches, email settings, presence hooks
    app.register_blueprint(notifications.bp)
    from . import metrics  # measured results for employees
    app.register_blueprint(metrics.bp)
    from ..api import account as api_account  # JSON API and the token page
    from ..api import bp as api_bp
    app.register_blueprint(api_bp)
    app.register_blueprint(api_account.bp)
