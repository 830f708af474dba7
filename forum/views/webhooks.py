"""Webhooks: admins (any event) and org admins (their organisation's threads) subscribe URLs, see each
webhook's delivery log, send a test event, switch it off and on, and delete it."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .. import permissions
from ..forms.webhooks import WebhookForm
from ..services.orgs.catalog import ValidationFailed
from ..services.webhooks import events, subscriptions, sweeper
from .lookup import or_404

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")


@bp.record_once
def _setup(state) -> None:
    sweeper.init_app(state.app)


@bp.before_request
@login_required
def _managers_only():
    if not permissions.can_manage_webhooks(current_user):
        abort(403)
    return None


@bp.after_request
def _no_store(response):
    response.headers["Cache-Control"] = "no-store"  # a new webhook's secret is shown once
    return response


def _form() -> WebhookForm:
    return WebhookForm().offer(permissions.webhook_events_for(current_user))


@bp.route("/", methods=["GET", "POST"])
def index():
    """The member's webhooks and the form for a new one; a created webhook's secret is shown once."""
    me = current_user._get_current_object()
    form, status, created = _form(), 200, None
    if form.validate_on_submit():
        try:
            created = subscriptions.create_webhook(me, form.url.data, form.events.data or [])
        except ValidationFailed as exc:
            field = getattr(form, exc.field or "", None)
            (field.errors if field is not None else form.form_errors).append(exc.message)
            status = 400
        else:
            form = _form()
            form.url.data = ""
    elif request.method == "POST":
        status = 400
    return render_template("webhooks/index.html", form=form, hooks=subscriptions.webhooks_for(me),
                           created=created), status


def _mine(webhook_id: int):
    return or_404(subscriptions.webhook_for(current_user._get_current_object(), webhook_id))


@bp.get("/<int:webhook_id>")
def show(webhook_id: int):
    """One webhook: its events, state and delivery log."""
    hook = _mine(webhook_id)
    return render_template("webhooks/show.html", hook=hook, deliveries=subscriptions.deliveries_of(hook),
                           disabled_reason=subscriptions.disabled_text(hook))


@bp.post("/<int:webhook_id>/active")
def set_active(webhook_id: int):
    hook = _mine(webhook_id)
    active = request.form.get("active") == "1"
    subscriptions.set_active(current_user._get_current_object(), hook, active)
    flash(_("Webhook switched on: waiting deliveries go out now.") if active else _("Webhook switched off."), "success")
    return redirect(url_for("webhooks.show", webhook_id=hook.id))


@bp.post("/<int:webhook_id>/ping")
def ping(webhook_id: int):
    hook = _mine(webhook_id)
    events.ping(hook)
    flash(_("Test event sent; its outcome is in the log below."), "success")
    return redirect(url_for("webhooks.show", webhook_id=hook.id))


@bp.post("/<int:webhook_id>/delete")
def delete(webhook_id: int):
    hook = _mine(webhook_id)
    subscriptions.delete_webhook(current_user._get_current_object(), hook)
    flash(_("Webhook deleted."), "success")
    return redirect(url_for("webhooks.index"))
