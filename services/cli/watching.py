"""Follow a job with the live display and turn its end into the exit code.

Shared by ``watch`` and ``submit --watch`` so both show the same bar, say
the same last line, and agree that only a completed job exits 0.
"""

from __future__ import annotations

from services.cli.errors import ExitCode
from services.cli.follow import follow_job
from services.cli.formatting import format_elapsed, progress_detail
from services.cli.output import Output
from services.cli.progress_display import job_progress
from services.cli.runner import Session
from services.cli.views import JobView


async def watch_to_end(session: Session, job_id: str) -> ExitCode:
    """Show the job's progress until it ends; 0 only if it completed."""
    session.interrupt_hint = f"the job keeps running; follow it with: forgesyte watch {job_id}"
    with job_progress(session.out) as view:
        final = await follow_job(session.client, job_id, view.show, session.out.note)
    session.interrupt_hint = None
    return report_outcome(session.out, final)


def report_outcome(out: Output, job: JobView) -> ExitCode:
    """The last line: how long a completed job took, or why it did not complete."""
    if job.status == "completed":
        if not out.json_mode:
            took = ""
            if job.created_at is not None and job.finished_at is not None:
                took = f" in {format_elapsed((job.finished_at - job.created_at).total_seconds())}"
            out.line(f"job {job.job_id} completed{took}; results: forgesyte results {job.job_id}")
        return ExitCode.OK
    out.error(f"job {job.job_id} {progress_detail(job)}")
    return ExitCode.NOT_COMPLETED
