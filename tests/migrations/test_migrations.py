import asyncio

from alembic import command

from app.migrate import alembic_config, downgrade, upgrade


async def test_migrations_match_the_models_and_go_down_and_up_again(database_url: str) -> None:
    # The fixture's database is already at head (cloned from a migrated template).
    config = alembic_config(database_url)
    await asyncio.to_thread(command.check, config)  # raises if models and migrations differ
    await asyncio.to_thread(downgrade, database_url, "base")
    await asyncio.to_thread(upgrade, database_url)
    await asyncio.to_thread(command.check, config)
