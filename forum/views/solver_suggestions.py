"""The asker of an open question is shown the members who solved questions like it (routing's suggestion)."""
from __future__ import annotations

from flask import Blueprint
from flask_login import current_user

from ..services.community import routing

bp = Blueprint("solver_suggestions", __name__)


@bp.app_context_processor
def _suggested() -> dict:
    # Found only through solved threads the asker may see, and only members who opted in to routed questions.
    def suggested_solvers(thread):
        if not current_user.is_authenticated:
            return []
        return routing.suggested_solvers(current_user._get_current_object(), thread)

    return {"suggested_solvers": suggested_solvers}
