"""The patterns list as a table: trend sparklines, a playbook column, every column sortable both ways with the
filters kept, rows under their themes, each row opening to its card; zero counts never dressed as success."""
from __future__ import annotations

import re

import pytest

from forum.extensions import db
from forum.models import Playbook
from forum.services.patterns import summaries as service
from forum.services.patterns.summaries import PatternInfo, PatternSummary
from forum.services.patterns.table import theme_groups
from forum.views.pattern_charts import sparkline
from tests.factories import csrf_token_from
from tests.forum.patterns.test_list_page import by_name, world  # noqa: F401  (the fixture)

COLUMNS = ("name", "reach", "threads", "deployments", "resolved", "growth", "emerging", "playbook")


def test_trend_counts_new_threads_per_30_days_over_a_year(world):  # noqa: F811
    s = by_name(service.summarise())
    # NOW is 30 June, 12:00. X: t2 (20 Jun), t3 (25 Jun), t5 (28 Jun) in the latest 30 days; t4 (15 May) in the
    # 30 before; t1 (10 Jan, 171 days back) in the sixth period back. Oldest period first.
    assert s["LDAP sync timeout"].trend == [0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 3]
    assert s["SSO redirect loop"].trend == [0] * 11 + [4]


def test_the_playbook_column_follows_the_patterns_playbook(world, make):  # noqa: F811
    assert {s.pattern.playbook_id for s in service.summarise()} == {None}
    playbook = Playbook(pattern_id=world.y.id, title="Break the SSO loop", author_id=world.lead.id)
    db.session.add(playbook)
    db.session.commit()
    s = by_name(service.summarise())
    assert (s["SSO redirect loop"].pattern.playbook_id, s["LDAP sync timeout"].pattern.playbook_id) == (
        playbook.id, None)


@pytest.mark.parametrize("sort, first_descending", [
    ("name", "SSO redirect loop"), ("reach", "SSO redirect loop"), ("threads", "LDAP sync timeout"),
    ("deployments", "SSO redirect loop"), ("resolved", "LDAP sync timeout"), ("growth", "SSO redirect loop"),
    ("emerging", "SSO redirect loop"), ("playbook", "LDAP sync timeout")])
def test_every_column_sorts_both_ways(world, sort, first_descending):  # noqa: F811
    # X: 5 threads, 3 customers, 3 deployments, 60% resolved; Y: 4, 4, 4, 0%, emerging. X gets the playbook.
    db.session.add(Playbook(pattern_id=world.x.id, title="Raise the page size", author_id=world.lead.id))
    db.session.commit()
    summaries = service.summarise()
    descending = [s.pattern.name for s in service.sort_summaries(summaries, sort, descending=True)]
    ascending = [s.pattern.name for s in service.sort_summaries(summaries, sort, descending=False)]
    assert descending[0] == first_descending and ascending == descending[::-1]
    natural = [s.pattern.name for s in service.sort_summaries(summaries, sort)]
    assert natural == (ascending if sort == "name" else descending)  # names A to Z, figures biggest first


def _summary(pid: int, theme: str | None) -> PatternSummary:
    return PatternSummary(pattern=PatternInfo(pid, f"P{pid}", "", (), (), None, False, theme))


def test_rows_group_under_themes_of_several_patterns_in_list_order():
    rows = [_summary(1, "Sign-in"), _summary(2, "Upgrades"), _summary(3, "Mail"), _summary(4, "Upgrades"),
            _summary(5, "Sign-in"), _summary(6, None), _summary(7, "Upgrades")]
    groups = theme_groups(rows)
    assert [(g.theme, [s.pattern.id for s in g.rows]) for g in groups] == [
        ("Sign-in", [1, 5]), ("Upgrades", [2, 4, 7]), (None, [3, 6])]
    assert [(g.theme, len(g.rows)) for g in theme_groups(rows[2:4])] == [(None, 2)]  # no theme of several: flat


def test_sparkline_is_an_inline_svg_with_its_figures():
    svg = str(sparkline([0, 2, 5], "New threads <per> 30 days"))
    assert svg.startswith("<svg") and "<polyline" in svg and "0, 2, 5" in svg and "&lt;per&gt;" in svg
    assert "style=" not in svg and str(sparkline([], "x")) == ""


def _rows(html: str) -> list[str]:
    return re.findall(r'<summary class="ptable-row">\s*<span class="c-name" title="([^"]*)"', html)


def test_page_is_a_table_whose_column_links_sort_and_keep_the_filters(world, client, login):  # noqa: F811
    login(world.employee)
    html = client.get("/patterns/").get_data(as_text=True)
    assert _rows(html) == ["SSO redirect loop", "LDAP sync timeout"]              # by customers, most first
    assert html.count('<details class="ptable-item"') == 2 and "<polyline" in html
    # Each row opens to today's card: figures, the fix that worked, who solved it.
    card = html[html.index(f'id="p{world.x.id}"'):]
    assert "Raise the LDAP page size" in card and "Pat Partner" in card and "Median time to resolve" in card
    for key in COLUMNS:
        assert f"sort={key}" in html, key
    assert 'aria-current="true"' in html and "▼" in html
    # A column link keeps the filters and sorts by that column; the sorted column's link reverses it.
    filtered = client.get("/patterns/?hosting=cloud&sort=threads").get_data(as_text=True)
    links = dict(re.findall(r'<span class="c-(\w+)"[^>]*><a href="([^"]+)"', filtered))
    assert "hosting=cloud" in links["name"] and "sort=name" in links["name"] and "order" not in links["name"]
    assert "hosting=cloud" in links["threads"] and "order=asc" in links["threads"]
    reversed_ = client.get(links["threads"].replace("&amp;", "&")).get_data(as_text=True)
    by_threads = client.get("/patterns/?hosting=cloud&sort=threads").get_data(as_text=True)
    assert _rows(reversed_) == _rows(by_threads)[::-1] and "▲" in reversed_
    assert _rows(client.get("/patterns/?sort=name").get_data(as_text=True)) == ["LDAP sync timeout",
                                                                                "SSO redirect loop"]
    assert _rows(client.get("/patterns/?sort=name&order=desc").get_data(as_text=True)) == [
        "SSO redirect loop", "LDAP sync timeout"]


def test_theme_headings_only_where_a_theme_holds_several_patterns(world, client, login):  # noqa: F811
    login(world.employee)
    world.x.theme, world.y.theme = "Directory", "Sign-in"
    db.session.commit()
    html = client.get("/patterns/").get_data(as_text=True)
    assert 'class="ptable-theme"' not in html
    # a theme of one pattern is that pattern's topic again: its card shows no second name for it
    assert 'class="badge badge-theme"' not in html and "Directory" not in html
    world.x.theme = "Sign-in"
    db.session.commit()
    html = client.get("/patterns/").get_data(as_text=True)
    assert html.count('class="ptable-theme"') == 1 and "Sign-in <span" in html
    assert html.count('<span class="badge badge-theme">Sign-in</span>') == 2  # on both cards of the theme


def test_zero_confirmations_are_not_shown_as_success(world, client, login):  # noqa: F811
    login(world.employee)
    html = client.get("/patterns/").get_data(as_text=True)
    # r1 was confirmed twice and r4 once; r2 (hotfix 7.2.3) never: its fix shows no green "0" chip.
    assert "2 “worked for us too”" in html and "1 “worked for us too”" in html
    assert "0 “worked for us too”" not in html


def test_a_thread_with_an_unconfirmed_accepted_answer_shows_no_green_zero(world, client, login):  # noqa: F811
    login(world.users["b"])
    html = client.get(f"/t/{world.t2.id}").get_data(as_text=True)   # accepted, never confirmed
    assert "Confirmed at 0" not in html and "Not confirmed at another deployment yet" in html
    html = client.get(f"/t/{world.t1.id}").get_data(as_text=True)   # confirmed at two deployments
    assert "Confirmed at 2 deployments" in html


def test_a_playbook_replicated_nowhere_shows_no_green_zero(world, client, login):  # noqa: F811
    playbook = Playbook(pattern_id=world.y.id, title="Break the SSO loop", author_id=world.lead.id)
    db.session.add(playbook)
    db.session.commit()
    login(world.employee)
    for url in ("/playbooks/", f"/playbooks/{playbook.id}"):
        html = client.get(url).get_data(as_text=True)
        assert "Worked at 0" not in html and "badge-resolved" not in html, url
        assert "Not yet confirmed at a deployment" in html, url


def test_merge_into_preselects_no_pattern(world, client, login):  # noqa: F811
    login(world.lead)
    html = client.get(f"/patterns/{world.x.id}").get_data(as_text=True)
    select = html[html.index('<select id="target"'):]
    select = select[:select.index("</select>")]
    assert re.search(r'<option selected value="">Choose a pattern', select) or \
        re.search(r'<option value="" selected>Choose a pattern', select), select
    assert select.count("selected") == 1 and "SSO redirect loop" in select
    # Submitting the placeholder is a form error, not a merge.
    from forum.models import PatternStatus

    response = client.post(f"/patterns/{world.x.id}/merge", data={"target": "", "csrf_token": csrf_token_from(html)})
    assert response.status_code == 400 and "Choose a pattern." in response.get_data(as_text=True)
    db.session.refresh(world.x)
    assert world.x.status is PatternStatus.ACTIVE


def test_the_map_gives_every_pattern_a_distinct_colour_and_a_number():
    from forum.services.patterns.detail import MapPoint, PatternMap
    from forum.views.pattern_charts import map_colours, map_labels, map_svg

    sizes = {pid: 40 - pid for pid in range(1, 31)}                  # 30 patterns: more than the palette
    points = [MapPoint(**_point(pid, k)) for pid in sizes for k in range(3)]
    data = PatternMap(points=points, names={pid: f"Pattern {pid}" for pid in sizes}, sizes=sizes)
    colours = map_colours(data)
    assert len(colours) == 30 and len(set(colours.values())) == 30
    assert map_labels(data) == {pid: pid for pid in sizes}           # numbered biggest first, as the legend
    svg = str(map_svg(data, colours))
    assert len(re.findall(r'<text class="map-label"[^>]*>(\d+)</text>', svg)) == 30
    page_svg = str(map_svg(data, map_colours(data, highlight=7), highlight=7))
    assert re.findall(r'<text class="map-label"[^>]*>(\d+)</text>', page_svg) == ["7"]  # its own number only


def _point(pid: int, k: int) -> dict:
    return {"x": float(pid % 6) + k * 0.1, "y": float(pid // 6) + k * 0.1, "thread_id": pid * 10 + k,
            "pattern_id": pid}
