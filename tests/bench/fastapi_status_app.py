"""The comparison for the gateway benchmark: ``GET /v1/video/status/{job_id}``
the way ForgeSyte serves it today, with FastAPI and uvicorn reading the job
row straight from the SQLite file (an ``async def`` endpoint using a
synchronous SQLAlchemy session from a ``Depends(get_db)`` generator, and a
pydantic response model). Benchmark only: it needs the ``bench`` extra.

    python -m tests.bench.fastapi_status_app SQLITE_FILE   # prints "port N"
"""

from __future__ import annotations

import asyncio
import socket
import sys
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Annotated

import uvicorn
from fastapi import Depends, FastAPI, HTTPException, Request
from pydantic import BaseModel
from sqlalchemy import DateTime, Integer, String, Uuid, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker


class Base(DeclarativeBase):
    pass


class Job(Base):
    """The columns of the ``jobs`` table the status route reads."""

    __tablename__ = "jobs"

    job_id: Mapped[uuid.UUID] = mapped_column(Uuid(as_uuid=True), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    progress: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime())
    updated_at: Mapped[datetime] = mapped_column(DateTime())


class JobStatusResponse(BaseModel):
    job_id: uuid.UUID
    status: str
    progress: int | None
    created_at: datetime
    updated_at: datetime


def get_db(request: Request) -> Iterator[Session]:
    """One session per request, as ForgeSyte's ``get_db`` dependency gives."""
    db: Session = request.app.state.session_factory()
    try:
        yield db
    finally:
        db.close()


DbSession = Annotated[Session, Depends(get_db)]


def create_app(database: Path) -> FastAPI:
    # A pool as large as the benchmark's concurrency: with the default (5 + 10)
    # the 64-connection run would time out waiting for connections.
    engine = create_engine(
        f"sqlite:///{database}",
        connect_args={"check_same_thread": False},
        pool_size=64,
        max_overflow=64,
    )
    app = FastAPI()
    app.state.session_factory = sessionmaker(bind=engine)

    @app.get("/v1/video/status/{job_id}", response_model=JobStatusResponse)
    async def get_job_status(job_id: uuid.UUID, db: DbSession) -> JobStatusResponse:
        job = db.query(Job).filter(Job.job_id == job_id).first()
        if job is None:
            raise HTTPException(status_code=404, detail="Job not found")
        return JobStatusResponse(
            job_id=job.job_id,
            status=job.status,
            progress=job.progress,
            created_at=job.created_at,
            updated_at=job.updated_at,
        )

    return app


def free_port() -> int:
    """A port nobody listens on right now. (Handing uvicorn a bound socket
    instead leaves TCP_NODELAY off, which costs every response 40 ms.)"""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def serve(database: Path) -> None:
    port = free_port()
    config = uvicorn.Config(
        create_app(database),
        host="127.0.0.1",
        port=port,
        backlog=1024,
        log_level="warning",
        access_log=False,
    )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    while not server.started:
        if serving.done():
            serving.result()  # the failure, e.g. the port was taken meanwhile
        await asyncio.sleep(0.05)
    print(f"port {port}", flush=True)
    await serving


if __name__ == "__main__":
    asyncio.run(serve(Path(sys.argv[1])))
