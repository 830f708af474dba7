"""A member's choice to receive new questions like ones they solved (routing), on their account."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .. import permissions
from ..forms.routing import RoutingForm
from ..services.community import routing

bp = Blueprint("routing", __name__)


@bp.app_context_processor
def _solvers() -> dict:
    # An open question's page suggests to staff who solved its pattern before (whom routing would ask).
    def routing_solvers(thread):
        if not permissions.is_employee(current_user) or thread.accepted_reply_id is not None:
            return []
        return routing.solvers_for(thread, limit=5)

    return {"routing_solvers": routing_solvers}


@bp.route("/account/routing", methods=["GET", "POST"])
@login_required
def settings():
    """Opt in or out, and how many routed questions a day at most."""
    me = current_user._get_current_object()
    opted_in, limit = routing.preference(me)
    form = RoutingForm(data={"opt_in": opted_in, "daily_limit": limit} if request.method == "GET" else None)
    status = 200
    if form.validate_on_submit():
        routing.set_preference(me, form.opt_in.data, form.daily_limit.data)
        flash(_("Saved.") if form.opt_in.data else _("Saved: no questions will be routed to you."), "success")
        return redirect(url_for("routing.settings"))
    if request.method == "POST":
        status = 400
    return render_template("auth/routing.html", form=form), status
