"""Alembic migrations on SQLite and PostgreSQL, including upgrading old data."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, select, text
from sqlalchemy.orm import Session

from services.job_api.db import create_db_engine
from services.job_api.migrate import current_revision, head_revision, migrate
from services.job_api.models import Base, JobRow


def insert_pre_progress_job(engine: Engine, status: str) -> uuid.UUID:
    job_id = uuid.uuid4()
    now = datetime(2025, 6, 1, tzinfo=UTC)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO jobs (job_id, plugin_id, tool, input_path, job_type, status,"
                " output_path, error_message, created_at, updated_at)"
                " VALUES (:id, 'motion', 'detect_motion', 'inputs/x', 'video', :status,"
                " NULL, NULL, :now, :now)"
            ),
            {
                "id": job_id.hex if engine.dialect.name == "sqlite" else job_id,
                "status": status,
                "now": now.replace(tzinfo=None) if engine.dialect.name == "sqlite" else now,
            },
        )
    return job_id


def test_upgrade_head_matches_the_models(database_url: str) -> None:
    engine = create_db_engine(database_url)
    try:
        migrate(engine)
        assert current_revision(engine) == head_revision(engine)
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()


def test_progress_is_its_own_revision_and_old_jobs_keep_null(database_url: str) -> None:
    engine = create_db_engine(database_url)
    try:
        migrate(engine, "0001")
        columns = {c["name"] for c in inspect(engine).get_columns("jobs")}
        assert "progress" not in columns
        completed = insert_pre_progress_job(engine, "completed")
        running = insert_pre_progress_job(engine, "running")

        migrate(engine, "0002")
        indexes = {i["name"] for i in inspect(engine).get_indexes("jobs")}
        assert "ix_jobs_progress" in indexes
        migrate(engine)
        with Session(engine) as session:
            rows = session.scalars(select(JobRow)).all()
        assert {row.job_id for row in rows} == {completed, running}  # survived table rebuilds
        assert all(row.progress is None for row in rows)  # never shown as 0%
        assert all(row.attempt == 0 and row.version == 1 for row in rows)
    finally:
        engine.dispose()


def test_downgrade_removes_progress_and_keeps_jobs(database_url: str) -> None:
    engine = create_db_engine(database_url)
    try:
        migrate(engine, "0002")
        insert_pre_progress_job(engine, "pending")
        migrate(engine, "0001")
        assert current_revision(engine) == "0001"
        columns = {c["name"] for c in inspect(engine).get_columns("jobs")}
        assert "progress" not in columns
        assert "ix_jobs_progress" not in {i["name"] for i in inspect(engine).get_indexes("jobs")}
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM jobs")).scalar_one() == 1
        migrate(engine, "base")
        assert current_revision(engine) is None
        assert not inspect(engine).has_table("jobs")
    finally:
        engine.dispose()


def test_sqlite_connections_use_wal_and_a_busy_timeout(sqlite_database_url: str) -> None:
    engine = create_db_engine(sqlite_database_url)
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar_one() == 10_000
            assert connection.exec_driver_sql("PRAGMA synchronous").scalar_one() == 1  # NORMAL
    finally:
        engine.dispose()
