"""A thread page's replies written in Python: the markup the ``reply_post`` macro wrote, for a fraction of its cost.

A 50-reply page spent about a third of its time in that macro: Jinja's call machinery, an escape per output and
about ten catalog lookups per reply. Here the page's fixed phrases are translated once (the reader's language),
each action's link is built once around a marker id (``templating.IdUrl``), and a reply costs a few string
joins. Nothing is kept beyond the request: a ``ReplyHtml`` is made for one page and one reader, so no reader's
votes, bookmarks, controls or language can reach another, and an edit or a vote shows on the next view.

What the reader may do with each reply still comes from ``permissions.reply_controls``; the files under a reply
are still the ``file_list`` macro's (the template hands it over), as few replies carry any.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from flask import url_for
from markupsafe import Markup, escape

from ..i18n import html_gettext as _
from ..i18n import html_message
from ..languages import N_
from ..permissions import ReplyControls
from ..services.board.reply_rows import ReplyRow
from ..templating import TimeAgo, id_url_of

# The per-reply actions: (key, endpoint, the endpoint's id parameter)
_LINKS = (("vote", "board.vote", "reply_id"), ("accept", "board.accept", "reply_id"),
          ("edit", "board.edit_reply", "reply_id"), ("flag", "moderation.flag_reply", "reply_id"),
          ("delete", "board.delete_reply", "reply_id"), ("revisions", "board.reply_revisions", "reply_id"),
          ("unbookmark", "reading.delete_bookmark", "bookmark_id"))


class ReplyHtml:
    """The replies of one thread page for one reader: ``post(row, file_list)`` is one reply's ``<article>``."""

    def __init__(self, *, thread_id: int, accepted_reply_id: int | None, controls: Mapping[int, ReplyControls],
                 bookmarked: Mapping[int | None, int], files: Mapping[int | None, Sequence[Any]],
                 viewer: Any, csrf_token: str, bookmark_add_url: str) -> None:
        self._thread_id, self._accepted_id = thread_id, accepted_reply_id
        self._controls, self._bookmarked, self._files = controls, bookmarked, files
        self._viewer, self._signed_in, self._csrf_token = viewer, viewer.is_authenticated, csrf_token
        self._csrf = f'<input type="hidden" name="csrf_token" value="{escape(csrf_token)}">'
        self._bookmark_add_url = escape(bookmark_add_url)
        self._phrases: dict[str, Any] | None = None
        self._links: dict[str, tuple[str, str]] = {}
        self._avatars: dict[tuple[str, str], str] = {}
        self._ago = TimeAgo()

    def _text(self) -> dict[str, Any]:
        """The page's fixed phrases in the reader's language, as ``{{ _(...) }}`` writes them (first use)."""
        if self._phrases is None:
            self._phrases = {
                "staff_note": _("Staff note · employees only"), "accepted": _("✓ Accepted answer"),
                "edited": _("edited"), "in_thread": _("in the thread"), "removed": _("Removed by a moderator."),
                "removed_text": _("Removed text, shown to moderators only"), "votes": _("Votes"),
                "helpful": _("Helpful"), "vote_up": _("Vote up"), "not_helpful": _("Not helpful"),
                "vote_down": _("Vote down"), "unaccept": _("Unaccept"), "accept": _("Accept as answer"),
                "edit": _("Edit"), "flag": _("Flag"), "bookmarked": _("★ Bookmarked"), "bookmark": _("☆ Bookmark"),
                "confirm_remove": _("Remove this reply?"), "remove": _("Remove"),
                # with a placeholder: formatted per reply, the value escaped into the translation as Jinja does
                "reply_by": html_message(N_("Reply by %(name)s")), "score": html_message(N_("Score %(score)s")),
            }
        return self._phrases

    def _link(self, key: str, number: int) -> str:
        around = self._links.get(key)
        if around is None:
            _, endpoint, param = next(link for link in _LINKS if link[0] == key)
            head, tail = id_url_of(endpoint, param).around
            # an integer needs no escaping, so the escaped halves around it equal the escaped whole
            around = self._links[key] = (str(escape(head)), str(escape(tail)))
        return f"{around[0]}{int(number)}{around[1]}"

    def _avatar(self, r: ReplyRow) -> str:
        if not r.author_avatar_sha256:
            return (f'<span class="avatar avatar-small avatar-initials avatar-c{int(r.author_colour)}" '
                    f'aria-hidden="true">{escape(r.author_initials)}</span>')
        key = (r.author_username, r.author_avatar_sha256)
        src = self._avatars.get(key)
        if src is None:
            src = self._avatars[key] = str(escape(url_for("avatars.picture", username=key[0], sha=key[1])))
        return f'<img class="avatar avatar-small" src="{src}" alt="" width="36" height="36" loading="lazy">'

    def post(self, r: ReplyRow, file_list: Callable[..., Markup], pinned: bool = False) -> Markup:
        """One reply as an ``<article>``; ``file_list`` is the template's macro for its files, if it has any."""
        t = self._text()
        c = self._controls[r.id]
        deleted, accepted, staff = r.is_deleted, r.id == self._accepted_id, r.is_staff_note
        anchor = "" if pinned else f' id="r{r.id}"'
        out = [f'\n<article class="post{" accepted" if accepted else ""}{" staff-note" if staff else ""}'
               f'{" deleted" if deleted else ""}"{anchor} aria-label="{t["reply_by"] % {"name": r.author_name}}">\n'
               f'<div class="post-meta">\n']
        if staff:
            out.append(f'<span class="badge badge-staff">{t["staff_note"]}</span>\n')
        if accepted:
            out.append(f'<span class="badge badge-resolved">{t["accepted"]}</span>\n')
        iso = r.created_at.strftime("%Y-%m-%dT%H:%M:%SZ") if r.created_at else ""
        out.append(f'{self._avatar(r)}<strong>{escape(r.author_name)}</strong>\n'
                   f'<span>({escape(r.organisation_name)}{escape(r.role_suffix)})</span>\n'
                   f'· <time datetime="{escape(iso)}">{escape(self._ago(r.created_at))}</time>\n')
        if r.edited:
            edited = t["edited"]
            out.append(f'· <a href="{self._link("revisions", r.id)}">{edited}</a>\n' if c.revisions
                       else f"· {edited}\n")
        if pinned:
            out.append(f' · <a href="#r{r.id}">{t["in_thread"]}</a>\n')
        out.append("</div>\n")
        if deleted:
            out.append(f'<p class="removed"><em>{t["removed"]}</em></p>\n')
            if c.deleted_text:
                out.append(f'<div class="post-body removed-text"><p class="hint">'
                           f'{t["removed_text"]}:</p>{r.body_html or ""}</div>\n')
        else:
            out.append(f'<div class="post-body">{r.body_html or ""}</div>\n')
        files = self._files.get(r.id)
        if files:
            out.append(f"{file_list(files, self._viewer, self._csrf_token)}\n")
        if not pinned and not deleted:
            out.append('<div class="post-actions">\n')
            self._actions(out, r, c, accepted, t)
            out.append("</div>\n")
        out.append("</article>\n")
        return Markup("".join(out))

    def _actions(self, out: list[str], r: ReplyRow, c: ReplyControls, accepted: bool, t: dict[str, Any]) -> None:
        csrf = self._csrf
        if not r.is_staff_note:
            out.append(f'<div class="votes" role="group" aria-label="{t["votes"]}">\n')
            if c.vote:
                mine, url = r.my_vote, self._link("vote", r.id)
                up, down = mine == 1, mine == -1
                out.append(
                    f'<form method="post" action="{url}" class="inline">\n{csrf}'
                    f'<input type="hidden" name="value" value="1">\n'
                    f'<button type="submit" class="vote-button{" voted" if up else ""}" '
                    f'aria-pressed="{"true" if up else "false"}" title="{t["helpful"]}">▲'
                    f'<span class="visually-hidden"> {t["vote_up"]}</span></button>\n</form>\n')
            out.append(f'<span class="score" aria-label="{t["score"] % {"score": r.score}}">{int(r.score)}</span>\n')
            if c.vote:
                out.append(
                    f'<form method="post" action="{url}" class="inline">\n{csrf}'
                    f'<input type="hidden" name="value" value="-1">\n'
                    f'<button type="submit" class="vote-button{" voted" if down else ""}" '
                    f'aria-pressed="{"true" if down else "false"}" title="{t["not_helpful"]}">▼'
                    f'<span class="visually-hidden"> {t["vote_down"]}</span></button>\n</form>\n')
            out.append("</div>\n")
        if c.accept:
            out.append(
                f'<form method="post" action="{self._link("accept", r.id)}" class="inline">\n{csrf}\n'
                f'<button type="submit" class="button-small{" button-secondary" if accepted else ""}">'
                f'{t["unaccept"] if accepted else t["accept"]}</button>\n</form>\n')
        if c.edit:
            out.append(f'<a href="{self._link("edit", r.id)}">{t["edit"]}</a>\n')
        if c.flag:
            out.append(f'<a href="{self._link("flag", r.id)}" class="muted">{t["flag"]}</a>\n')
        if self._signed_in:
            bookmark_id = self._bookmarked.get(r.id)
            if bookmark_id:
                out.append(
                    f'<form method="post" action="{self._link("unbookmark", bookmark_id)}" class="inline">\n'
                    f'{csrf}<input type="hidden" name="back" value="thread">'
                    f'<input type="hidden" name="thread_id" value="{self._thread_id}">\n'
                    f'<button type="submit" class="link-button" aria-pressed="true">{t["bookmarked"]}</button>\n'
                    f'</form>\n')
            else:
                out.append(
                    f'<form method="post" action="{self._bookmark_add_url}" class="inline">\n'
                    f'{csrf}<input type="hidden" name="thread_id" value="{self._thread_id}">\n'
                    f'<input type="hidden" name="reply_id" value="{r.id}">\n'
                    f'<button type="submit" class="link-button" aria-pressed="false">{t["bookmark"]}</button>\n'
                    f'</form>\n')
        if c.delete:
            out.append(
                f'<form method="post" action="{self._link("delete", r.id)}" class="inline">\n{csrf}\n'
                f'<button type="submit" class="link-button danger" data-confirm="{t["confirm_remove"]}">'
                f'{t["remove"]}</button>\n</form>\n')
