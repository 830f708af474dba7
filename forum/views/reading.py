"""What a member reads and keeps: the threads new since their last visit, "N new" on lists, and bookmarks."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..services.board import pages, reading
from ..services.community import bookmarks as bookmark_service
from .lookup import or_404, page_number

bp = Blueprint("reading", __name__)


def unread_counts(page) -> dict[int, int]:
    """Thread id -> replies the member has not read, for a list's threads they opened (one query per list,
    remembered on the page object the template holds). A template global: list macros are imported without
    the page's context."""
    if "new_counts" not in page.extra:
        page.extra["new_counts"] = reading.new_counts(current_user, [t.id for t in page.items])
    return page.extra["new_counts"]


@bp.record_once
def _setup(state) -> None:
    state.app.add_template_global(unread_counts)


@bp.get("/new")
@login_required
def new_since_visit():
    """Threads with activity since the member's previous visit that they have not read to the end."""
    threads = reading.new_since_last_visit(current_user, pages.clamp_page(request.args.get("page")),
                                           current_app.config["PAGE_SIZE"])
    return render_template("reading/new.html", threads=threads)


@bp.get("/t/<int:thread_id>/unread")
@login_required
def first_unread(thread_id: int):
    """To the member's first unread reply in the thread (its page and anchor), or the thread's top."""
    thread = or_404(pages.visible_thread(current_user, thread_id))
    state = reading.thread_state(current_user, thread)
    if state.first_unread_id is None:
        return redirect(url_for("board.thread", thread_id=thread.id))
    number = state.first_unread_page(current_app.config["REPLIES_PAGE_SIZE"])
    return redirect(url_for("board.thread", thread_id=thread.id, page=number if number > 1 else None,
                            _anchor=f"r{state.first_unread_id}"))


# --- bookmarks -----------------------------------------------------------------------------------

def _int_field(name: str, required: bool = True) -> int | None:
    raw = (request.form.get(name) or "").strip()
    if not raw and not required:
        return None
    try:
        value = int(raw)
    except ValueError:
        abort(400)
    if not 0 < value <= pages.MAX_ID:
        abort(404)
    return value


@bp.get("/bookmarks")
@login_required
def bookmarks():
    """The member's bookmarks, newest first; one about something they can no longer see shows nothing of it."""
    result = bookmark_service.bookmarks_page(current_user, page_number(), current_app.config["PAGE_SIZE"])
    return render_template("reading/bookmarks.html", result=result, errors={})


@bp.post("/bookmarks")
@login_required
def add_bookmark():
    """Bookmark a thread or one of its replies the member may see (from the thread page)."""
    thread_id, reply_id = _int_field("thread_id"), _int_field("reply_id", required=False)
    thread = or_404(pages.visible_thread(current_user, thread_id))
    reply = None
    if reply_id is not None:
        reply = or_404(pages.visible_reply(current_user, reply_id))
        if reply.thread_id != thread.id:
            abort(404)
    bookmark_service.add(current_user, thread, reply)
    flash(_("Bookmarked. Add a note or a reminder on your bookmarks page."), "success")
    return redirect(url_for("board.thread", thread_id=thread.id, _anchor=f"r{reply.id}" if reply else None))


@bp.post("/bookmarks/<int:bookmark_id>")
@login_required
def update_bookmark(bookmark_id: int):
    """Change a bookmark's note and reminder date; a bad value is shown on the form (400), nothing saved."""
    row = or_404(bookmark_service.own(current_user, bookmark_id))
    try:
        note = bookmark_service.clean_note(request.form.get("note"))
        remind_at = bookmark_service.parse_remind_at(request.form.get("remind_at"))
    except bookmark_service.BookmarkInvalid as exc:
        result = bookmark_service.bookmarks_page(current_user, page_number(), current_app.config["PAGE_SIZE"])
        return render_template("reading/bookmarks.html", result=result,
                               errors={row.id: exc.message}), 400
    bookmark_service.update_bookmark(row, note, remind_at)
    flash(_("Bookmark saved."), "success")
    return redirect(url_for("reading.bookmarks", _anchor=f"b{row.id}"))


@bp.post("/bookmarks/<int:bookmark_id>/delete")
@login_required
def delete_bookmark(bookmark_id: int):
    bookmark_service.remove(or_404(bookmark_service.own(current_user, bookmark_id)))
    flash(_("Bookmark removed."), "success")
    back = request.form.get("back")
    if back == "thread" and request.form.get("thread_id", "").isdigit():
        return redirect(url_for("board.thread", thread_id=int(request.form["thread_id"])))
    return redirect(url_for("reading.bookmarks"))
