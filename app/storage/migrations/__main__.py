"""Draft the next revision: `python -m app.storage.migrations new "add learnings"`.

The draft holds what autogenerate finds between the models and a scratch SQLite database at head;
read and edit it before committing (see the package docstring).
"""

from __future__ import annotations

import argparse
import re
import tempfile
from pathlib import Path

from alembic import command
from sqlalchemy import create_engine

from app.storage.migrations.runner import alembic_config, head_revision, upgrade_to_head


def next_revision_id(message: str) -> str:
    number = int(head_revision().split("_", 1)[0]) + 1
    slug = re.sub(r"[^a-z0-9]+", "_", message.lower()).strip("_")[:40] or "change"
    return f"{number:04d}_{slug}"


def draft(message: str) -> Path:
    rev_id = next_revision_id(message)
    with tempfile.TemporaryDirectory() as scratch:
        engine = create_engine(f"sqlite:///{Path(scratch) / 'head.db'}")
        try:
            with engine.begin() as conn:
                upgrade_to_head(conn)
                config = alembic_config(conn)
                config.set_main_option("file_template", "%%(rev)s")
                command.revision(config, message=message, autogenerate=True, rev_id=rev_id)
        finally:
            engine.dispose()
    return Path(__file__).parent / "versions" / f"{rev_id}.py"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m app.storage.migrations")
    sub = parser.add_subparsers(dest="command", required=True)
    new = sub.add_parser("new", help="draft the next revision from the models (autogenerate)")
    new.add_argument("message")
    args = parser.parse_args()
    print(f"wrote {draft(args.message)}: read it, spell out what it misses, then commit it")


if __name__ == "__main__":
    main()
