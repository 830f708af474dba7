"""Views for the board: home, spaces, threads, replies, the Q&A actions, preview and search.

Thin: load what the user may see (else 404, exactly like a missing thread), validate the form, call one
service function, and turn ``PermissionDenied`` into 403 and ``ValidationFailed`` into form errors.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf.csrf import generate_csrf

from .. import permissions
from ..extensions import limiter, login_manager
from ..forms.board import ActionForm, AskForm, ConfirmForm, EditReplyForm, EditThreadForm, ReplyForm, VoteForm
from ..inputs import room_for_files
from ..markdown import render_markdown
from ..permissions import PermissionDenied
from ..ratelimits import limit_posting, limit_search, user_or_ip
from ..services.attachments import files as attachment_files
from ..services.board import deflection, history, pages, reading, workflow
from ..services.board import threads as service
from ..services.board.fulltext import clean_text
from ..services.board.search import parse_filters, search_choices, search_threads
from ..services.community import bookmarks, mentions
from ..services.moderation import actions as moderation
from ..services.orgs import catalog
from ..services.orgs import organisations as org_service
from ..services.patterns.playbooks import playbook_for_thread
from ..services.patterns.summaries import others_hit_this
from ..services.vectors.similar import related_threads
from .reply_html import ReplyHtml

if TYPE_CHECKING:
    from ..models import Reply, Thread

bp = Blueprint("board", __name__)


@bp.before_request
def _readers_only():
    # Anonymous visitors see only the login page unless the forum is public-read.
    if not current_user.is_authenticated and not current_app.config.get("PUBLIC_READ"):
        return login_manager.unauthorized()
    return None


@bp.url_value_preprocessor
def _room_for_files(endpoint: str | None, values: dict | None) -> None:
    if endpoint in ("board.ask", "board.reply", "board.edit_thread", "board.edit_reply"):
        room_for_files()


def _uploads() -> list[attachment_files.Upload]:
    return [attachment_files.Upload(f.filename, f.read()) for f in request.files.getlist("files")]


def _page_arg() -> int:
    return pages.clamp_page(request.args.get("page"))


def _tag_arg() -> str | None:
    """The ?tag= filter, normalised like stored tags ("Single Sign-On" finds "single-sign-on")."""
    try:
        tags = service.normalise_tags((request.args.get("tag") or "").replace(",", " ").replace("\x00", ""))
    except service.ValidationFailed:
        return None
    return tags[0] if tags else None


def _thread_or_404(thread_id: int) -> Thread:
    thread = pages.visible_thread(current_user, thread_id)
    if thread is None:
        abort(404)
    return thread


def _reply_or_404(reply_id: int) -> Reply:
    reply = pages.visible_reply(current_user, reply_id)
    if reply is None:
        abort(404)
    return reply


def _back_to(thread: Thread, reply: Reply | None = None):
    if reply is None:
        return redirect(url_for("board.thread", thread_id=thread.id))
    number = pages.page_of_reply(current_user, reply, current_app.config["REPLIES_PAGE_SIZE"])
    return redirect(url_for("board.thread", thread_id=thread.id, page=number if number > 1 else None,
                            _anchor=f"r{reply.id}"))


# --- lists ---------------------------------------------------------------------------------------

@bp.route("/")
def home():
    """Spaces, the latest threads, unanswered questions and the user's organisation's open ones."""
    allowed = pages.LIST_KINDS if current_user.is_authenticated else ("latest", "unanswered")
    show = request.args.get("show", "latest")
    show = show if show in allowed else "latest"
    size = current_app.config["PAGE_SIZE"]
    main = pages.list_threads(current_user, _page_arg(), size, only=show)
    side = {}
    if show != "unanswered":
        side["unanswered"] = pages.list_threads(current_user, 1, 5, only="unanswered", brief=True)
    if current_user.is_authenticated:
        mine = "needs_staff" if permissions.is_employee(current_user) else "org_open"
        if show != mine:
            side[mine] = pages.list_threads(current_user, 1, 5, only=mine, brief=True)
    return render_template("board/home.html", show=show, threads=main, side=side,
                           spaces=pages.home_spaces(current_user))


@bp.route("/s/<slug>")
def space(slug: str):
    """A space's threads, newest activity first, filtered by status or tag."""
    space_row = pages.space_by_slug(current_user, slug)
    if space_row is None:
        abort(404)
    if permissions.is_idea_space(space_row):
        return redirect(url_for("ideas.index", slug=slug))  # its threads are ideas, listed by votes
    status = request.args.get("status") or None
    status = status if status in pages.STATUS_FILTERS else None
    tag = _tag_arg()
    threads = pages.list_threads(current_user, _page_arg(), current_app.config["PAGE_SIZE"],
                                 space_id=space_row.id, status=status, tag=tag)
    return render_template("board/space.html", space=space_row, threads=threads, status=status, tag=tag,
                           statuses=list(pages.STATUS_FILTERS))


@bp.route("/search")
@limit_search
def search():
    """Full-text search (blended with similar meaning) over the threads the user may see, with filters."""
    query = clean_text(request.args.get("q", ""))
    filters = parse_filters(request.args, current_user)
    results = search_threads(current_user, query, _page_arg(), current_app.config["PAGE_SIZE"], filters)
    return render_template("board/search.html", q=query, results=results, filters=filters,
                           choices=search_choices(current_user))


# --- one thread ----------------------------------------------------------------------------------

def _render_thread(thread: Thread, reply_form: ReplyForm | None = None, status: int = 200):
    replies = pages.reply_page(current_user, thread, _page_arg(), current_app.config["REPLIES_PAGE_SIZE"])
    # Where the member stood before this page (what it shows as new), then the marker moves past what it shows.
    read_state = reading.thread_state(current_user, thread)
    reading.mark_read(current_user, thread, read_state, replies.items)
    confirmations = pages.confirmations_of(current_user, thread)
    confirm_form = ConfirmForm()
    confirm_form.deployment.choices = [(d.id, d.name) for d in confirmations["choices"]]
    bookmarked = bookmarks.marked(current_user, thread.id, [r.id for r in replies.items])
    attachments = attachment_files.for_thread_page(current_user, thread, replies.items)
    # Looked up once here rather than once per reply form: the proxy and the token are the same for the page.
    viewer, page_csrf = current_user._get_current_object(), generate_csrf()
    reply_html = ReplyHtml(
        thread_id=thread.id, accepted_reply_id=thread.accepted_reply_id,
        # Decided once per page rather than per reply and permission (a third of the page's time went there).
        controls=permissions.reply_controls(current_user, thread,
                                            [*replies.items, *filter(None, [thread.accepted_reply])]),
        bookmarked=bookmarked, files=attachments, viewer=viewer, csrf_token=page_csrf,
        # The same for every reply's bookmark button: one URL build per page, not one per reply.
        bookmark_add_url=url_for("reading.add_bookmark"))
    return render_template(
        "board/thread.html", thread=thread, replies=replies, reply_form=reply_form or ReplyForm(),
        confirmations=confirmations,
        thread_playbook=playbook_for_thread(current_user, thread), related=related_threads(current_user, thread),
        confirm_form=confirm_form, action_form=ActionForm(),
        others_hit=others_hit_this(current_user, thread),
        workflow=workflow.for_thread(current_user, thread),
        read_state=read_state, bookmarked=bookmarked, attachments=attachments, viewer=viewer, page_csrf=page_csrf,
        reply_html=reply_html), status


@bp.route("/t/<int:thread_id>")
def thread(thread_id: int):
    """The question, its deployment snapshot, the accepted answer and a page of replies."""
    thread_row = pages.visible_thread(current_user, thread_id)
    if thread_row is None:
        # A merged duplicate's URL leads to its target, for those who may see the target only.
        target = moderation.merge_redirect(current_user, thread_id)
        if target is None:
            abort(404)
        return redirect(url_for("board.thread", thread_id=target), 301)
    return _render_thread(thread_row)


@bp.route("/t/<int:thread_id>/reply", methods=["POST"])
@login_required
@limit_posting
def reply(thread_id: int):
    thread_row = _thread_or_404(thread_id)
    form = ReplyForm()
    if not form.validate_on_submit():
        return _render_thread(thread_row, reply_form=form, status=400)
    try:
        # Every file is checked before the reply is stored: a refused file refuses the post, nothing half-saved.
        checked = attachment_files.check_uploads(_uploads())
        new = service.add_reply(current_user, thread_row, form.body.data, staff_note=bool(form.staff_note.data))
    except PermissionDenied:
        abort(403)
    except service.ValidationFailed as exc:  # e.g. a new member's link limit, a file of a refused type
        form.body.errors.append(exc.message)
        return _render_thread(thread_row, reply_form=form, status=400)
    attachment_files.attach(current_user, checked, thread_row, new)
    flash(_("Staff note added.") if new.is_staff_note else _("Reply posted."), "success")
    return _back_to(thread_row, new)


@bp.route("/ask", methods=["GET", "POST"])
@login_required
@limit_posting
def ask():
    """Start a thread, optionally about one of the organisation's deployments."""
    form = AskForm()
    spaces = pages.postable_spaces(current_user)
    form.set_choices(spaces, permissions.kinds_user_may_choose(current_user),
                     permissions.visibilities_user_may_choose(current_user), pages.own_deployments(current_user))
    if request.method == "GET":
        chosen = pages.starting_space(spaces, request.args.get("space"))
        if chosen is not None:
            form.space.data = chosen.id
            if chosen.default_visibility in permissions.visibilities_user_may_choose(current_user):
                form.visibility.data = chosen.default_visibility.value
    if form.validate_on_submit():
        space_row = catalog.space(form.space.data)
        deployment = org_service.deployment(form.deployment.data) if form.deployment.data else None
        try:
            checked = attachment_files.check_uploads(_uploads())
            new = service.create_thread(
                current_user, space=space_row, title=form.title.data, body=form.body.data,
                kind=form.kind.data, visibility=form.visibility.data,
                tags=form.tags.data or "", deployment=deployment)
        except service.ValidationFailed as exc:
            getattr(form, "body" if exc.field == "files" else exc.field or "title").errors.append(exc.message)
        else:
            attachment_files.attach(current_user, checked, new)
            flash(_("Your thread is posted."), "success")
            # Ties the post to the suggestions this ask-page visit was shown (the deflection metric).
            deflection.record_posted(current_user, request.form.get("draft_key"), new)
            return redirect(url_for("board.thread", thread_id=new.id))
    status = 400 if request.method == "POST" else 200
    return render_template("board/ask.html", form=form, spaces=spaces), status


@bp.route("/preview", methods=["POST"])
@login_required
@limiter.limit("120 per minute", key_func=user_or_ip)  # typing with a debounce stays far below this
def preview():
    """Markdown to the same sanitised HTML a post would store (for the live preview)."""
    if request.is_json:
        data = request.get_json(silent=True)
        text = data.get("body", "") if isinstance(data, dict) else None
    else:
        text = request.form.get("body", "")
    if not isinstance(text, str):
        return jsonify(error={"code": 400, "message": "body must be text"}), 400
    limit = current_app.config["POST_MAX_LENGTH"]
    if len(text) > limit:
        return jsonify(html="", error={"code": 400, "message": f"At most {limit:,} characters."}), 400
    return jsonify(html=render_markdown(text))


@bp.get("/t/<int:thread_id>/mentions")
@login_required
@limiter.limit("120 per minute", key_func=user_or_ip)  # typing with a debounce stays far below this
def mention_candidates(thread_id: int):
    """Members matching ``?q=`` who can read this thread, for the composer's @mention autocomplete."""
    thread = _thread_or_404(thread_id)
    members = mentions.mention_candidates(current_user, thread, request.args.get("q", ""))
    return jsonify(members=[{"username": u.username, "display_name": u.display_name,
                             "organisation": u.organisation.name} for u in members])


# --- editing -------------------------------------------------------------------------------------

@bp.route("/t/<int:thread_id>/edit", methods=["GET", "POST"])
@login_required
@limit_posting
def edit_thread(thread_id: int):
    thread_row = _thread_or_404(thread_id)
    if not permissions.can_edit_thread(current_user, thread_row):
        abort(403)
    form = EditThreadForm()
    if request.method == "GET":
        form.title.data = thread_row.title
        form.body.data = thread_row.body_md
        form.tags.data = ", ".join(t.name for t in thread_row.tags)
    if form.validate_on_submit():
        try:
            # The files are checked first; the text and the files are then saved together, or neither.
            attachment_files.edit_post_files(
                current_user, thread_row, None, attachment_files.check_uploads(_uploads()), _removed_file_ids(),
                lambda changes: service.edit_thread(current_user, thread_row, title=form.title.data,
                                                    body=form.body.data, tags=form.tags.data or "",
                                                    file_changes=changes))
        except PermissionDenied:
            abort(403)
        except service.ValidationFailed as exc:
            getattr(form, "body" if exc.field == "files" else exc.field or "title").errors.append(exc.message)
        else:
            flash(_("Thread updated."), "success")
            return _back_to(thread_row)
    return _edit_page(form, thread_row, None)


@bp.route("/r/<int:reply_id>/edit", methods=["GET", "POST"])
@login_required
@limit_posting
def edit_reply(reply_id: int):
    reply_row = _reply_or_404(reply_id)
    if not permissions.can_edit_reply(current_user, reply_row):
        abort(403)
    form = EditReplyForm()
    if request.method == "GET":
        form.body.data = reply_row.body_md
    if form.validate_on_submit():
        try:
            attachment_files.edit_post_files(
                current_user, reply_row.thread, reply_row, attachment_files.check_uploads(_uploads()),
                _removed_file_ids(),
                lambda changes: service.edit_reply(current_user, reply_row, form.body.data, file_changes=changes))
        except PermissionDenied:
            abort(403)
        except service.ValidationFailed as exc:  # a refused file, too many files
            form.body.errors.append(exc.message)
        else:
            flash(_("Reply updated."), "success")
            return _back_to(reply_row.thread, reply_row)
    return _edit_page(form, reply_row.thread, reply_row)


def _removed_file_ids() -> list[int]:
    """The files ticked for removal on the edit form (a value that is no id names no file, and is refused)."""
    return [int(v) if v.isascii() and v.isdigit() and len(v) < 11 else 0 for v in request.form.getlist("remove_files")]


def _edit_page(form, thread_row: Thread, reply_row: Reply | None):
    status = 400 if request.method == "POST" else 200
    return render_template("board/edit.html", form=form, thread=thread_row, reply=reply_row,
                           files=attachment_files.files_of_post(thread_row, reply_row)), status


@bp.route("/t/<int:thread_id>/revisions")
def thread_revisions(thread_id: int):
    thread_row = _thread_or_404(thread_id)
    if not permissions.can_view_revisions(current_user, thread_row):
        abort(403)
    return render_template("board/revisions.html", thread=thread_row, reply=None,
                           edits=history.edits(thread=thread_row))


@bp.route("/r/<int:reply_id>/revisions")
def reply_revisions(reply_id: int):
    reply_row = _reply_or_404(reply_id)
    if reply_row.is_deleted and not permissions.can_see_deleted_text(current_user):
        abort(404)
    if not permissions.can_view_revisions(current_user, reply_row.thread, reply_row):
        abort(403)
    return render_template("board/revisions.html", thread=reply_row.thread, reply=reply_row,
                           edits=history.edits(reply=reply_row))


# --- actions on a thread page --------------------------------------------------------------------

def _action(load, act, form=None, success: str | Callable[[Any], str] = ""):
    """Shared shape of the POST buttons: load (404), validate, act (403 / flash), back to the thread.

    ``success`` is the confirmation, or makes it from what ``act`` returned (a toggle says which way it went).
    """
    target = load()
    form = form or ActionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        result = act(target, form)
    except PermissionDenied:
        abort(403)
    except service.ValidationFailed as exc:
        flash(exc.message, "error")
    else:
        message = success(result) if callable(success) else success
        if message:
            flash(message, "success")
    if hasattr(target, "thread_id"):  # a reply (a thread has none)
        return _back_to(target.thread, target)
    return _back_to(target)


@bp.route("/r/<int:reply_id>/delete", methods=["POST"])
@login_required
def delete_reply(reply_id: int):
    return _action(lambda: _reply_or_404(reply_id), lambda r, f: service.delete_reply(current_user, r),
                   success=_("Reply removed."))


@bp.route("/r/<int:reply_id>/accept", methods=["POST"])
@login_required
@limit_posting
def accept(reply_id: int):
    reply_row = _reply_or_404(reply_id)

    def said(thread_row: Thread) -> str:
        if thread_row.accepted_reply_id == reply_row.id:
            return _("Answer accepted: the thread is marked resolved.")
        return _("The answer is no longer accepted: the thread is open again.")

    return _action(lambda: reply_row, lambda r, f: service.accept_reply(current_user, r), success=said)


@bp.route("/r/<int:reply_id>/vote", methods=["POST"])
@login_required
@limit_posting
def vote(reply_id: int):
    def said(reply_row: Reply) -> str:
        mine = service.vote_of(current_user, reply_row)
        if not mine:
            return _("Your vote is withdrawn: the reply's score is %(score)s.", score=reply_row.score)
        if mine > 0:
            return _("Your +1 vote is counted: the reply's score is %(score)s.", score=reply_row.score)
        return _("Your −1 vote is counted: the reply's score is %(score)s.", score=reply_row.score)

    return _action(lambda: _reply_or_404(reply_id),
                   lambda r, f: service.vote(current_user, r, int(f.value.data)), form=VoteForm(), success=said)


@bp.route("/t/<int:thread_id>/confirm", methods=["POST"])
@login_required
@limit_posting
def confirm(thread_id: int):
    form = ConfirmForm()
    form.deployment.choices = [(d.id, d.name) for d in pages.own_deployments(current_user)]

    def _load() -> Thread:
        thread_row = _thread_or_404(thread_id)
        if not permissions.can_confirm(current_user, thread_row):
            abort(403)  # before the form, so a refusal does not depend on what was picked
        return thread_row

    def _confirm(thread_row: Thread, f: ConfirmForm):
        service.confirm(current_user, thread_row, org_service.deployment(f.deployment.data))

    return _action(_load, _confirm, form=form,
                   success=_("Thanks — your confirmation is recorded."))


@bp.route("/t/<int:thread_id>/needs-staff", methods=["POST"])
@login_required
@limit_posting
def needs_staff(thread_id: int):
    return _action(lambda: _thread_or_404(thread_id), lambda t, f: service.ask_for_staff(current_user, t))
