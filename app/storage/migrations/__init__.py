"""Alembic migrations of the mini-review database (SQLite and PostgreSQL).

How the schema changes
----------------------
`tables.py` says what the schema *is*; the revisions under `versions/` say how a database *gets there*.
`app.storage.db.migrate()` upgrades to head inside one transaction: `mini-review migrate` runs it,
and so do `serve` and `worker` at start. On PostgreSQL it holds an advisory lock keyed by the schema,
so many processes starting at once migrate one after another; on SQLite it holds the write lock.
There is no `alembic.ini`: the configuration is built in code (`runner.py`) and `env.py` uses the
connection it is handed.

Adding a revision (e.g. a new table for your feature)
-----------------------------------------------------
1. Change `app/storage/tables.py` (the models).
2. Add `versions/NNNN_what_it_does.py`, NNNN = the next number (history is one straight line):
       python -m app.storage.migrations new "add learnings"
   writes a draft with the right `down_revision` and the operations autogenerate finds by comparing
   the models with a database at head. Read it and edit it; it is yours.
3. Spell the DDL out: `op.create_table("learnings", sa.Column("id", sa.Integer(), ...), ...)`,
   never `metadata.create_all` or imports from `tables.py`. A revision is frozen once landed: it must
   produce the same schema in a year, whatever `tables.py` says then.
4. Altering an existing table (add/drop/alter column, constraints) goes through
   `with op.batch_alter_table("runs") as batch: batch.add_column(...)`: SQLite cannot ALTER most
   things and batch mode copies the table; on PostgreSQL it emits plain ALTERs. Adding a new table
   or index needs no batch. Data moves use `op.execute(sa.text(...))` with SQL both databases accept.
5. Give constraints and indexes explicit names (`ix_<table>_<cols>`, `uq_<table>...`): batch mode
   and PostgreSQL need them to drop them later.
6. Write `downgrade()` when it is cheap; a `NotImplementedError` is fine for lossy changes.
7. `tests/unit/storage/test_migrations.py` checks, on SQLite and PostgreSQL, that an empty database
   upgraded to head has exactly the models' schema (no autogenerate diff), that there is one head,
   and that a release-v1 database upgrades with its data. It fails when the models and the
   revisions disagree.

When two branches both add `0003_...`, the second to land renumbers its file and `revision`, and
points `down_revision` at the other one (the one-head test catches it).

Revision ids are the file names' stems (`0001_initial`): readable in `alembic_version`.
"""
