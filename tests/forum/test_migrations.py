"""The migrations and the models describe the same schema, and the migrations run both ways."""
from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from forum.extensions import db
from forum.fulltext_schema import include_name, include_object


def _differences(connection) -> list:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "render_as_batch": True,
                          "include_name": include_name, "include_object": include_object})
    return compare_metadata(context, db.metadata)


def test_models_match_migrations(app):
    """Autogenerate against the migrated database finds nothing to do."""
    with db.engine.connect() as connection:
        diff = _differences(connection)
    assert diff == [], "models and migrations disagree; regenerate the migration:\n" + "\n".join(map(repr, diff))


def test_downgrade_to_base_and_upgrade_again(tmp_path):
    """Every migration has a working downgrade: head -> base -> head on a throwaway SQLite file."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import inspect

    from forum import create_app
    from tests.conftest import base_config

    app = create_app(base_config("sqlite:///" + str(tmp_path / "roundtrip.sqlite")))
    with app.app_context():
        upgrade(revision="heads")
        tables = set(inspect(db.engine).get_table_names())
        assert {t.name for t in db.metadata.sorted_tables} <= tables
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade(revision="heads")
        with db.engine.connect() as connection:
            assert _differences(connection) == []
        db.session.remove()
        db.engine.dispose()


@pytest.mark.parametrize("name", ["organisation", "thread", "reply"])
def test_core_tables_exist(app, name):
    from sqlalchemy import inspect

    assert name in inspect(db.engine).get_table_names()
