import asyncio
import sqlite3
from pathlib import Path

from alembic import command

from app.migrate import alembic_config, downgrade, upgrade


async def test_migrations_match_the_models_and_go_down_and_up_again(database_url: str) -> None:
    # The fixture's database is already at head (cloned from a migrated template).
    config = alembic_config(database_url)
    await asyncio.to_thread(command.check, config)  # raises if models and migrations differ
    await asyncio.to_thread(downgrade, database_url, "base")
    await asyncio.to_thread(upgrade, database_url)
    await asyncio.to_thread(command.check, config)


def test_upgrading_an_sqlite_database_that_has_writebacks_keeps_them(tmp_path: Path) -> None:
    # SQLite rebuilds tables for most ALTERs, which the foreign keys of existing rows forbid:
    # each migration must apply to a database in use, not only to an empty one.
    db = tmp_path / "in-use.db"
    url = f"sqlite+aiosqlite:///{db}"
    upgrade(url, "4108554cc7c2")
    with sqlite3.connect(db) as c:
        c.execute("insert into organizations values ('o', 'n', '2026-01-01 00:00:00')")
        c.execute("insert into locations values ('l', 'o', 'n', 'UTC', '2026-01-01 00:00:00')")
        c.execute(
            "insert into writeback_intents (id, organization_id, location_id, kind, source_id,"
            " fingerprint, status, patient_ref, occurred_on, payload, settings_version,"
            " settings_snapshot, marker, attempt_count, budget_start_attempt, created_at,"
            " updated_at) values ('i', 'o', 'l', 'payment', 's', 'f', 'failed', '1', '2026-01-01',"
            " '{}', 0, '{}',"
            " 'm', 1, 0, '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
        )
        c.execute(
            "insert into writeback_attempts (id, intent_id, number, started_at)"
            " values ('a', 'i', 1, '2026-01-01 00:00:00')"
        )
        c.execute(
            "insert into notifications (id, organization_id, location_id, intent_id, category,"
            " message, created_at) values ('n', 'o', 'l', 'i', 'c', 'm', '2026-01-01 00:00:00')"
        )
    upgrade(url)
    command.check(alembic_config(url))
    with sqlite3.connect(db) as c:
        assert c.execute("select count(*) from writeback_attempts").fetchone() == (1,)
