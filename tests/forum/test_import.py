"""`flask import-threads`: placeholders, consistent Q&A state, re-runs, atomic batches, dry runs."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from forum.extensions import db
from forum.importing import importer
from forum.models import (
    Deployment,
    Organisation,
    OrgKind,
    Reply,
    Space,
    Tag,
    Thread,
    ThreadStatus,
    User,
    Visibility,
)
from forum.services.orgs.accounts import authenticate
from tests.factories import Factory, login_as


def write_jsonl(tmp_path, lines, name="threads.jsonl") -> str:
    path = tmp_path / name
    path.write_text("\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines) + "\n",
                    encoding="utf-8")
    return str(path)


def run_import(app, path, *args):
    result = app.test_cli_runner().invoke(args=["import-threads", path, *args])
    db.session.expire_all()
    return result


def table_counts() -> dict[str, int]:
    db.session.commit()
    return {t.name: db.session.execute(select(func.count()).select_from(t)).scalar_one()
            for t in db.metadata.sorted_tables}


def rich_thread(**overrides) -> dict:
    line = {
        "external_id": "zd-100", "title": "Installer stops at schema upgrade", "body": "It **stops** at step 4.",
        "organisation": "Globex Ltd", "author": "Hank Scorpio", "space": "Installation",
        "created_at": "2025-03-01T09:00:00+01:00", "visibility": "public", "tags": ["Install", "schema upgrade"],
        "product": "Ledger", "version": "1.0", "hosting": "on-premises", "database": "Oracle 19c",
        "topology": "cluster",
        "replies": [
            {"author": "Hank Scorpio", "body": "Also on the second node.", "created_at": "2025-03-01T12:00:00Z"},
            {"author": "Pat Partner", "organisation": "Initech Partners", "body": "Raise the lock timeout.",
             "accepted": True, "created_at": "2025-03-02T08:30:00Z"},
            {"author": "Someone Else", "body": "Same here.", "created_at": "2025-03-03T10:00:00Z"},
        ],
    }
    line.update(overrides)
    return line


def test_good_file_imports_with_placeholders_and_consistent_answers(app, make, tmp_path):
    make.product_version("Ledger", "1.0")
    real_org = make.customer_org("Umbrella Corp")
    real_user = make.user(real_org, email="ada@umbrella.test")
    path = write_jsonl(tmp_path, [
        rich_thread(),
        {"title": "Only a title"},
        {"external_id": "zd-102", "title": "Asked by a real member", "author": "ADA@umbrella.test",
         "organisation": "umbrella corp", "visibility": "org_private", "status": "needs_staff",
         "replies": [{"body": "Looking into it."}]},
    ])
    result = run_import(app, path)
    assert result.exit_code == 0, result.output
    assert "Imported 3 threads and 4 replies" in result.output

    rich = db.session.execute(select(Thread).where(Thread.external_id == "zd-100")).scalar_one()
    assert rich.status is ThreadStatus.RESOLVED
    assert rich.reply_count == 3
    replies = rich.replies
    assert rich.accepted_reply_id == replies[1].id and replies[1].body_md == "Raise the lock timeout."
    assert rich.resolved_at == replies[1].created_at
    assert str(rich.created_at) == "2025-03-01 08:00:00"  # converted to UTC
    assert rich.last_activity_at == replies[2].created_at
    assert "<strong>stops</strong>" in rich.body_html
    assert [t.name for t in rich.tags] == ["install", "schema-upgrade"]
    assert rich.visibility is Visibility.PUBLIC and rich.space.name == "Installation"

    globex = rich.organisation
    assert globex.name == "Globex Ltd" and globex.is_placeholder and globex.kind is OrgKind.CUSTOMER
    author = rich.author
    assert author.is_placeholder and author.password_hash == "" and author.organisation_id == globex.id
    assert author.email.endswith("@placeholder.invalid") and author.display_name == "Hank Scorpio"
    assert replies[0].author_id == author.id  # the asker's follow-up is the same placeholder person
    partner_reply_author = replies[1].author
    assert partner_reply_author.organisation.name == "Initech Partners"
    assert partner_reply_author.organisation.is_placeholder
    assert authenticate(author.email, "") is None

    # Deployment fields: a snapshot in the board's shape, and a matching Deployment of the organisation.
    snap = rich.deployment_snapshot
    assert snap["product"] == "Ledger" and snap["version"] == "1.0" and snap["hosting"] == "on_premises"
    assert snap["database"] == "Oracle 19c" and snap["deployment_id"] == rich.deployment_id
    deployment = db.session.get(Deployment, rich.deployment_id)
    assert deployment.organisation_id == globex.id and deployment.topology == "cluster"

    minimal = db.session.execute(select(Thread).where(Thread.title == "Only a title")).scalar_one()
    assert minimal.external_id.startswith("sha256:")
    assert minimal.space.name == "Imported" and minimal.space.default_visibility is Visibility.INTERNAL
    assert minimal.visibility is Visibility.INTERNAL
    assert minimal.organisation.kind is OrgKind.VENDOR and minimal.author.display_name == "Imported user"
    assert minimal.status is ThreadStatus.OPEN and minimal.reply_count == 0 and minimal.deployment_snapshot is None

    by_member = db.session.execute(select(Thread).where(Thread.external_id == "zd-102")).scalar_one()
    assert by_member.author_id == real_user.id and by_member.organisation_id == real_org.id
    assert by_member.status is ThreadStatus.NEEDS_STAFF and by_member.reply_count == 1
    assert by_member.visibility is Visibility.ORG_PRIVATE
    assert db.session.execute(select(func.count()).select_from(Organisation)
                              .where(Organisation.name.ilike("umbrella corp"))).scalar_one() == 1


def test_rerun_imports_nothing(app, tmp_path):
    path = write_jsonl(tmp_path, [rich_thread(), {"title": "No id, same text"}, {"title": "Another", "body": "x"}])
    assert run_import(app, path).exit_code == 0
    before = table_counts()
    again = run_import(app, path)
    assert again.exit_code == 0, again.output
    assert "Imported 0 threads" in again.output and "skipped 3" in again.output
    assert table_counts() == before


def test_a_bad_line_imports_nothing_and_is_reported(app, tmp_path):
    path = write_jsonl(tmp_path, [
        rich_thread(),
        {"title": "x" * 201},
        {"title": "fine"},
        '{"title": "broken",',
        {"title": "two answers", "replies": [{"body": "a", "accepted": True}, {"body": "b", "accepted": True}]},
        {"title": "dup", "external_id": "zd-100"},
        {"title": "when?", "created_at": "last tuesday", "visibility": "secret"},
    ])
    before = table_counts()
    result = run_import(app, path)
    assert result.exit_code != 0
    out = result.output
    assert "line 2: title is 201 characters long (at most 200)" in out
    assert "line 4: invalid JSON" in out
    assert "line 5: more than one accepted reply (replies 1, 2)" in out
    assert "line 6: same external_id as line 1 (zd-100)" in out
    assert "line 7:" in out and "created_at 'last tuesday' is not an ISO 8601" in out and "visibility 'secret'" in out
    assert "5 bad line(s) out of 7; nothing was imported" in out
    assert "line 1:" not in out and "line 3:" not in out
    assert table_counts() == before


def test_only_the_first_errors_are_listed(app, tmp_path):
    path = write_jsonl(tmp_path, ["[]"] * 30)
    result = run_import(app, path, "--max-errors", "5")
    assert result.exit_code != 0
    assert result.output.count("expected a JSON object, got a list") == 5
    assert "... and 25 more bad line(s)" in result.output


def test_dry_run_changes_nothing(app, make, tmp_path):
    make.product_version("Ledger", "1.0")
    path = write_jsonl(tmp_path, [rich_thread(), {"title": "second"}])
    before = table_counts()
    result = run_import(app, path, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "Would import 2 threads and 3 replies" in result.output and "Dry run: nothing was changed" in result.output
    assert table_counts() == before
    assert run_import(app, path).exit_code == 0  # and the real run still imports everything
    assert table_counts()["thread"] == 2


def test_batches_are_atomic_and_a_rerun_finishes_the_job(app, tmp_path, monkeypatch):
    path = write_jsonl(tmp_path, [{"title": f"thread {i}", "external_id": f"b-{i}", "organisation": f"Org {i}",
                                   "replies": [{"body": "r", "accepted": True}]} for i in range(5)])
    real_write, calls = importer._Writer.write, []

    def failing_write(self, chunk, result):
        calls.append(len(chunk))
        if len(calls) == 3:
            real_write(self, chunk[:1], result)  # half a batch written, then the failure
            raise RuntimeError("disk full")
        real_write(self, chunk, result)

    monkeypatch.setattr(importer._Writer, "write", failing_write)
    result = run_import(app, path, "--batch-size", "2")
    assert result.exit_code != 0
    assert "import failed: disk full; 2 batch(es) committed before it (4 threads) are kept" in result.output
    assert sorted(db.session.execute(select(Thread.external_id)).scalars()) == ["b-0", "b-1", "b-2", "b-3"]
    assert db.session.execute(select(func.count()).select_from(Organisation)).scalar_one() == 4
    monkeypatch.setattr(importer._Writer, "write", real_write)
    again = run_import(app, path, "--batch-size", "2")
    assert again.exit_code == 0, again.output
    assert "Imported 1 threads and 1 replies; skipped 4" in again.output
    assert all(t.status is ThreadStatus.RESOLVED and t.accepted_reply_id
               for t in db.session.execute(select(Thread)).scalars())


@pytest.mark.parametrize("content, message", [
    (b"", "no thread lines"),
    (b"\n  \n\r\n", "no thread lines"),
    (b'{"title": "caf\xe9"}\n', "line 1: not valid UTF-8 (byte 0xe9 at column 15)"),
    ('{"title": "x"}\n'.encode("utf-16"), "line 1: the file is UTF-16"),
    (b'{"title": "nul", "body": "a\\u0000b"}\n', "line 1: body contains a NUL character"),
    (b'{"title": "ok"}\n' + b'{"title": "' + b"a" * (10 * 1024 * 1024) + b'"}\n' + b'{"title": "ok2"}\n',
     "line 2: line is longer than 8 MiB"),
    (b'{"title": ' + b"[" * 100_000 + b"]" * 100_000 + b"}\n", "line 1: "),
    (b'{"title": ' + b"9" * 5000 + b"}\n", "line 1: invalid JSON"),
    (b'{"title": "half a pair \\ud83d"}\n', "line 1: contains a lone UTF-16 surrogate"),
    (b'{"title": "fine \\ud83d\\ude00"}\n{"title": 7, "tags": [1]}\n', "line 2: tags must be a list of strings"),
])
def test_odd_input_gives_a_clear_error(app, tmp_path, content, message):
    path = tmp_path / "odd.jsonl"
    path.write_bytes(content)
    result = run_import(app, str(path))
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
    assert table_counts()["thread"] == 0


def test_bom_blank_lines_and_crlf_are_fine(app, tmp_path):
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"title": "first"}\r\n\r\n   \n{"title": "second \xc3\xa9t\xc3\xa9"}')
    result = run_import(app, str(path))
    assert result.exit_code == 0, result.output
    assert sorted(db.session.execute(select(Thread.title)).scalars()) == ["first", "second été"]


def test_identical_lines_without_ids_are_reported(app, tmp_path):
    path = write_jsonl(tmp_path, [{"title": "same", "body": "x"}, {"body": "x", "title": "same"}])
    result = run_import(app, path)
    assert result.exit_code != 0
    assert "line 2: same content as line 1 (sha256:" in result.output


def test_xss_in_imported_titles_comes_back_escaped(app, tmp_path):
    payload = '<script>alert("t")</script><img src=x onerror=alert(1)>'
    path = write_jsonl(tmp_path, [{"external_id": "xss-1", "title": payload, "visibility": "public",
                                   "organisation": payload[:60], "author": "<svg onload=alert(2)>",
                                   "body": "[click](javascript:alert(3)) <script>alert(4)</script>",
                                   "replies": [{"body": "<iframe src=javascript:alert(5)>", "accepted": True}]}])
    assert run_import(app, path).exit_code == 0
    thread = db.session.execute(select(Thread).where(Thread.external_id == "xss-1")).scalar_one()
    employee = Factory().employee()
    client = app.test_client()
    with app.app_context():
        login_as(client, employee, Factory.PASSWORD)
        page = client.get(f"/t/{thread.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "&lt;script&gt;alert(" in html
    for raw in ("<script>alert", "<img src=x", "<svg onload", "<iframe", 'href="javascript:'):
        assert raw not in html


def test_tags_and_spaces_are_reused(app, make, tmp_path):
    space = make.space("Upgrades")
    db.session.add(Tag(name="upgrade"))
    db.session.commit()
    path = write_jsonl(tmp_path, [{"title": "a", "space": "upgrades", "tags": "Upgrade, new-tag"}])
    assert run_import(app, path).exit_code == 0
    thread = db.session.execute(select(Thread)).scalar_one()
    assert thread.space_id == space.id and thread.visibility is space.default_visibility
    assert db.session.execute(select(func.count()).select_from(Tag)).scalar_one() == 2
    assert db.session.execute(select(func.count()).select_from(Space)).scalar_one() == 1


def test_placeholders_are_found_again_on_later_imports(app, tmp_path):
    first = write_jsonl(tmp_path, [{"title": "a", "organisation": "Hooli", "author": "Gavin"}], "one.jsonl")
    second = write_jsonl(tmp_path, [{"title": "b", "organisation": "HOOLI", "author": "gavin",
                                     "replies": [{"author": "Gavin", "body": "bump"}]}], "two.jsonl")
    assert run_import(app, first).exit_code == 0
    assert run_import(app, second).exit_code == 0
    assert db.session.execute(select(func.count()).select_from(User)).scalar_one() == 1
    assert db.session.execute(select(func.count()).select_from(Organisation)).scalar_one() == 1
    assert db.session.execute(select(func.count()).select_from(Reply)).scalar_one() == 1


def test_progress_shows_counts_and_rate_on_a_terminal(monkeypatch):
    import io

    from forum.importing.commands import _Progress

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    screen = Terminal()
    monkeypatch.setattr("sys.stderr", screen)
    progress = _Progress()
    progress("importing", 0, 2000)
    progress("importing", 2000, 2000)
    progress.close()
    assert "2,000/2,000" in screen.getvalue() and "/s" in screen.getvalue()


def test_imported_threads_are_found_by_search(app, tmp_path):
    path = write_jsonl(tmp_path, [{"title": "Zanzibarquux appears after upgrade", "visibility": "public",
                                   "body": "The frobnicator log says quuxwidget."}])
    assert run_import(app, path).exit_code == 0
    employee = Factory().employee()
    client = app.test_client()
    with app.app_context():
        login_as(client, employee, Factory.PASSWORD)
        by_title = client.get("/search?q=zanzibarquux").get_data(as_text=True)
        by_body = client.get("/search?q=quuxwidget").get_data(as_text=True)
    assert "Zanzibarquux appears after upgrade" in by_title
    assert "Zanzibarquux appears after upgrade" in by_body
