"""The common-patterns pages for employees, with leads' curation and the "Mine now" button."""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm

from .. import permissions
from ..forms.patterns import (
    ActionForm,
    DescriptionForm,
    ExcludeThreadForm,
    FileThreadForm,
    MergeForm,
    PatternFilterForm,
    RenameForm,
)
from ..permissions import PermissionDenied
from ..services.patterns import curation
from ..services.patterns import detail as pattern_detail
from ..services.patterns import jobs as mining_jobs
from ..services.patterns import leases as run_leases
from ..services.patterns import pages as pattern_pages
from ..services.patterns import show as pattern_show
from ..services.patterns import snapshots as pattern_snapshots
from ..services.patterns import summaries as service
from ..services.patterns import table as pattern_table
from ..services.patterns import unassigned as unassigned_service
from ..services.patterns.leases import RunAlreadyActive
from . import pattern_charts
from .lookup import page_number

if TYPE_CHECKING:
    from ..models import Pattern, Thread

bp = Blueprint("patterns", __name__, url_prefix="/patterns")

MAX_ID = 2**31 - 1


@bp.before_request
def _employees_only():
    # Customers, partners and visitors learn nothing, not even that the pages exist.
    if not permissions.can_view_patterns(current_user):
        abort(404)


def _require_lead() -> None:
    if not permissions.can_curate_patterns(current_user):
        abort(403)


def _pattern_or_404(pattern_id: int) -> Pattern:
    pattern = pattern_detail.pattern(pattern_id) if pattern_id <= MAX_ID else None
    if pattern is None:
        abort(404)
    return pattern


def _latest_run() -> run_leases.RunState:
    return run_leases.run_state()


def _run_status(state: run_leases.RunState) -> dict:
    """The run panel's state for patterns.js: the same status text the page renders, and the button's state."""
    run = state.run
    html = render_template("patterns/_run_status.html", run=state)
    if run is None:
        return {"id": None, "status": "none", "state": "none", "active": False, "html": html}
    return {"id": run.id, "status": run.status.value, "state": state.state, "active": state.active,
            "stage": run.stage, "done": run.progress_done, "total": run.progress_total,
            "patterns_found": run.patterns_found, "documents": run.documents, "error": run.error or None,
            "finished_at": run.finished_at.isoformat() if run.finished_at else None, "html": html}


def _filters(form: PatternFilterForm) -> service.PatternFilters:
    form.validate()  # only the dates can be wrong; a bad date is shown as a field error and ignored
    space = form.chosen(form.space)
    return service.PatternFilters(
        product=form.chosen(form.product), version=form.chosen(form.version), hosting=form.chosen(form.hosting),
        database=form.chosen(form.database), since=None if form.since.errors else form.since.data,
        until=None if form.until.errors else form.until.data, space_id=int(space) if space else None)


#: The table's columns that sort it, in the order they are shown (the keys are ``service.SORTS``').
COLUMNS = (("name", _l("Pattern")), ("reach", _l("Customers")), ("threads", _l("Threads")),
           ("deployments", _l("Deployments")), ("resolved", _l("Resolved")), ("growth", _l("Trend")),
           ("emerging", _l("Emerging")), ("playbook", _l("Playbook")))


def _sort_urls(sort: str, descending: bool) -> dict[str, str]:
    """Each column's link: sorted by it with the filters kept; the current column's link reverses it."""
    args = {key: value for key, value in request.args.items() if key not in ("sort", "order")}
    urls = {}
    for key, _label in COLUMNS:
        order = ("asc" if descending else "desc") if key == sort else None
        urls[key] = url_for(".index", **args, sort=key, **({"order": order} if order else {}))
    return urls


@bp.get("/", strict_slashes=False)  # /patterns answers directly (no redirect that would tell others it exists)
def index():
    """Every active pattern as a row of the table, under its theme, sorted by any column; emerging ones noted."""
    form = PatternFilterForm(formdata=request.args)
    form.set_choices(**pattern_detail.filter_choices())
    filters = _filters(form)
    sort = request.args.get("sort", "reach")
    sort = sort if sort in service.SORTS else "reach"
    order = request.args.get("order")
    descending = {"asc": False, "desc": True}.get(order, sort not in service.ASCENDING_SORTS)
    # A set of filters nobody looked at lately: its figures are computed off the request path, waited for
    # briefly, and otherwise the page lists the patterns by name and reloads until the figures are there.
    page = pattern_snapshots.page_figures(filters, sort=sort, descending=descending,
                                          wait=float(current_app.config["PATTERN_FIGURES_WAIT_SECONDS"]))
    return render_template("patterns/index.html", form=form, filters=filters, sort=sort, descending=descending,
                           summaries=page.summaries, figures_at=page.computed_at, computing=page.computing,
                           patterns=pattern_snapshots.live_patterns() if page.computing else [],
                           emerging=[s for s in page.summaries if s.emerging], run=_latest_run(),
                           groups=pattern_table.theme_groups(page.summaries), columns=COLUMNS,
                           sort_labels=service.SORTS,
                           sort_urls=_sort_urls(sort, descending), sparkline=pattern_charts.sparkline,
                           action_form=ActionForm(), now=service.pattern_now())


@bp.get("/figures.json")
def figures_status():
    """Whether the figures for these filters are stored yet, polled by patterns.js while they are computed."""
    form = PatternFilterForm(formdata=request.args)
    form.set_choices(**pattern_detail.filter_choices())
    return jsonify({"ready": pattern_snapshots.figures_ready(_filters(form))})


@bp.get("/status.json")
def run_status():
    """The latest mining run's state, polled by patterns.js while a run is going."""
    return jsonify(_run_status(_latest_run()))


@bp.post("/mine")
def mine():
    """Start a mining run (leads)."""
    _require_lead()
    if not ActionForm().validate_on_submit():
        abort(400)

    try:
        run_id = mining_jobs.start_run(current_user, "web")
    except RunAlreadyActive:
        flash(_("A mining run is already in progress."), "error")
    except Exception:  # recorded on the run as failed; the page shows it
        current_app.logger.exception("mining run could not be started")
        flash(_("The mining run failed; see its status above."), "error")
    else:
        flash(_('Mining run %(run_id)s started.', run_id=run_id), "success")
    return redirect(url_for(".index"), 303)


@bp.get("/unassigned")
def unassigned():
    """Threads in no pattern: one-offs and the threads of groups that shared no problem."""
    page = unassigned_service.unassigned_threads(current_user, page_number(), current_app.config["PAGE_SIZE"])
    return render_template("patterns/unassigned.html", page=page, run=_latest_run())


@bp.get("/map")
def map_page():
    """The map of patterns: member threads projected to 2-D, coloured by pattern."""
    data = pattern_detail.pattern_map()
    colours = pattern_charts.map_colours(data)
    return render_template("patterns/map.html", data=data, colours=colours, labels=pattern_charts.map_labels(data),
                           svg=pattern_charts.map_svg(data, colours), swatch=pattern_charts.swatch)


def _render_show(pattern: Pattern, status: int = 200, **forms):
    shown = pattern_show.pattern_page(pattern, current_user, page_number(), current_app.config["PAGE_SIZE"],
                                      wait=float(current_app.config["PATTERN_FIGURES_WAIT_SECONDS"]))
    figures = shown.figures
    context = {
        "pattern": pattern, "s": shown.summary, "figures": figures, "computing": shown.computing,
        "page": shown.members, "representatives": shown.representatives, "environments": shown.environments,
        "months_svg": pattern_charts.column_chart(figures.months, _("Distinct customer organisations per month"))
        if figures else None,
        "versions_svg": pattern_charts.bar_chart(figures.versions, _("Distinct customer organisations per version"))
        if figures else None,
        "map_svg": _map_svg(shown.map, pattern),
        "can_curate": shown.can_curate, "action_form": ActionForm(),
        "playbook": shown.playbook, "can_promote": shown.can_promote,
    }
    if shown.can_curate:
        rename_form = forms.get("rename_form") or RenameForm(formdata=None, name=pattern.name)
        merge_form = forms.get("merge_form") or MergeForm(formdata=None)
        merge_form.set_targets(shown.merge_choices)
        context.update(
            rename_form=rename_form, merge_form=merge_form,
            description_form=forms.get("description_form") or DescriptionForm(formdata=None,
                                                                                description=pattern.description),
            file_form=forms.get("file_form") or FileThreadForm(formdata=None), exclude_form=ExcludeThreadForm(),
            excluded=shown.excluded)
    return render_template("patterns/show.html", **context), status


def _map_svg(data: pattern_detail.PatternMap | None, pattern: Pattern):
    if data is None:
        return None
    colours = pattern_charts.map_colours(data, highlight=pattern.id)
    return pattern_charts.map_svg(data, colours, highlight=pattern.id,
                                  label=_('Map of patterns, %(name)s highlighted', name=pattern.name))


@bp.get("/<int:pattern_id>/figures.json")
def pattern_figures_status(pattern_id: int):
    """Whether a pattern page's figures and map are stored yet, polled by patterns.js while they are computed."""
    return jsonify({"ready": pattern_pages.page_ready(_pattern_or_404(pattern_id))})


@bp.get("/<int:pattern_id>")
def show(pattern_id: int):
    """One pattern: why its threads belong together, who hit it when, its members and the map."""
    pattern = _pattern_or_404(pattern_id)
    if pattern.status.value == "merged" and pattern.merged_into_id:
        # an old link (a bookmark, a playbook, a mail) still lands somewhere, and says where it went
        flash(_('Pattern #%(id)s “%(name)s” is now part of this pattern.', id=pattern.id, name=pattern.name), "info")
        return redirect(url_for(".show", pattern_id=pattern.merged_into_id))
    return _render_show(pattern)


def _curate(pattern_id: int, form: FlaskForm, form_name: str, action: Callable[[Pattern], object], done: str):
    """Validate, call one curation service, turn its refusals into 403 or form errors."""
    _require_lead()
    pattern = _pattern_or_404(pattern_id)
    if form_name == "merge_form":
        form.set_targets(pattern_detail.search_patterns(pattern.id))
    if form.validate_on_submit():
        try:
            action(pattern)
        except PermissionDenied:
            abort(403)
        except curation.CurationError as exc:
            field = getattr(form, exc.field, None) if exc.field else None
            if field is None:
                flash(exc.message, "error")
                return redirect(url_for(".show", pattern_id=pattern.id), 303)
            field.errors = list(field.errors) + [exc.message]
        else:
            flash(done, "success")
            return redirect(url_for(".show", pattern_id=pattern.id), 303)
    elif not form.errors or "csrf_token" in form.errors:
        abort(400)
    return _render_show(pattern, status=400, **{form_name: form})


def _thread_or_error(field: str | None, thread_id: int) -> Thread:
    thread = curation.thread(thread_id) if thread_id <= MAX_ID else None
    if thread is None:
        raise curation.CurationError(_("There is no thread with that number."), field)
    return thread


@bp.post("/<int:pattern_id>/rename")
def rename(pattern_id: int):
    form = RenameForm()
    return _curate(pattern_id, form, "rename_form",
                   lambda p: curation.rename(current_user, p, form.name.data),
                   _("Pattern renamed to “%(name)s”.", name=(form.name.data or "").strip()))


@bp.post("/<int:pattern_id>/description")
def describe(pattern_id: int):
    form = DescriptionForm()
    return _curate(pattern_id, form, "description_form",
                   lambda p: curation.describe(current_user, p, form.description.data), _("Description saved."))


@bp.post("/<int:pattern_id>/merge")
def merge(pattern_id: int):
    form = MergeForm()
    return _curate(pattern_id, form, "merge_form",
                   lambda p: curation.merge(current_user, p, _pattern_or_404(form.target.data)),
                   _("Patterns merged."))


@bp.post("/<int:pattern_id>/dismiss")
def dismiss(pattern_id: int):
    return _curate(pattern_id, ActionForm(), "action_form", lambda p: curation.dismiss(current_user, p),
                   _("Pattern dismissed: it is hidden from the list and will not be proposed again."))


@bp.post("/<int:pattern_id>/restore")
def restore(pattern_id: int):
    return _curate(pattern_id, ActionForm(), "action_form", lambda p: curation.restore(current_user, p),
                   _("Pattern restored."))


@bp.post("/<int:pattern_id>/file")
def file_thread(pattern_id: int):
    form = FileThreadForm()
    return _curate(pattern_id, form, "file_form", lambda p: curation.file_thread(
        current_user, p, _thread_or_error("thread", form.thread.thread_id)), _("Thread filed into this pattern."))


@bp.post("/<int:pattern_id>/exclude")
def exclude_thread(pattern_id: int):
    form = ExcludeThreadForm()
    return _curate(pattern_id, form, "exclude_form", lambda p: curation.exclude_thread(
        current_user, p, _thread_or_error(None, form.thread_id.data)), _("Thread filed out of this pattern."))
