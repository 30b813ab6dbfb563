"""Alembic migrations, shipped inside the package so an installed `kazi` can migrate.

Run them with `engine.db.migrate(url)` (or `kazi migrate`). To add one after
changing a model, autogenerate against a database at the current head, then
read and tidy the script (name it by number, say why in its docstring):

    .venv/bin/python -c "
    from alembic import command
    from engine.db import alembic_config, migrate
    url = 'sqlite:///var/revision.sqlite3'
    migrate(url)
    command.revision(alembic_config(url), message='what and why', autogenerate=True,
                     rev_id='0004')"

tests/records/test_migrations.py fails while models and migrations disagree,
on SQLite and on PostgreSQL.
"""
