"""Template gettext as Jinja's newstyle gettext behaves, with the request's catalog looked up once per locale:
a language forced in the middle of a request (mail to a member in their own language) and back, ``%%`` in a
message, placeholders escaped in HTML templates and left alone in plain-text ones."""
from __future__ import annotations

from flask import render_template_string
from flask_babel import force_locale


def test_a_forced_language_in_a_request_and_back(app):
    with app.test_request_context("/", headers={"Accept-Language": "de"}):
        assert render_template_string("{{ _('Delete') }}") == "Löschen"
        with force_locale("en"):
            assert render_template_string("{{ _('Delete') }}") == "Delete"
        assert render_template_string("{{ _('Delete') }}") == "Löschen"
        plural = "{% trans count=n %}{{ count }} file{% pluralize %}{{ count }} files{% endtrans %}"
        assert render_template_string(plural, n=3) == "3 files"


def test_placeholders_are_escaped_in_html_and_left_alone_in_text(app):
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        html = app.jinja_env.from_string("{{ _('Hello %(name)s', name=who) }}")
        assert html.render(who="<b>&</b>") == "Hello &lt;b&gt;&amp;&lt;/b&gt;"
        text = app.jinja_env.overlay(autoescape=False).from_string("{{ _('Hello %(name)s', name=who) }}")
        assert text.render(who="<b>&</b>") == "Hello <b>&</b>"
        assert app.jinja_env.from_string("{{ _('100%% done') }}").render() == "100% done"
        ngettext = app.jinja_env.from_string("{{ ngettext('%(num)d file', '%(num)d files', n) }}")
        assert ngettext.render(n=1) == "1 file" and ngettext.render(n=3) == "3 files"


def test_file_sizes_are_written_the_locale_way(app):
    from forum.services.attachments.checks import human_size

    with app.test_request_context("/"):
        with force_locale("de"):
            assert human_size(1572864) == "1,5 MB" and human_size(5 * 1048576) == "5 MB"
            assert human_size(2048000) == "2 MB" and human_size(1200 * 1024) == "1,2 MB"
        with force_locale("en"):
            assert human_size(1572864) == "1.5 MB" and human_size(900 * 1024) == "900 KB"
