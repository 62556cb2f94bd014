"""A run transition that fails is retried by the driver, not dropped: the run moves on as
soon as the store accepts writes again, without waiting for a restart."""

import sqlite3

from runs_helpers import (  # noqa: F401  (fixtures)
    create_job,
    scripts,
    wait_file,
    wait_for,
    wait_job_run,
    weir_args,
)


def test_a_failed_transition_is_retried_until_it_commits(weir, glue, scripts):
    release = scripts.path("release")
    pid_file = scripts.path("held.pid")
    create_job(
        glue,
        "held",
        scripts.write("held", f"write_pid({pid_file!r})\nwait_for_file({release!r})"),
    )
    run_id = glue.start_job_run(JobName="held")["JobRunId"]
    wait_file(pid_file)
    # Another process takes the database's write lock (as a backup tool or a sqlite3
    # shell might) and keeps it past the store's busy timeout, so the transition that
    # records the job's end fails.
    blocker = sqlite3.connect(weir.data_dir / "weir.db", timeout=30, isolation_level=None)
    try:
        blocker.execute("BEGIN IMMEDIATE")
        with open(release, "w"):
            pass
        wait_for(
            lambda: "database is locked" in weir.log_text(),
            "the transition to fail on the locked store",
        )
        assert glue.get_job_run(JobName="held", RunId=run_id)["JobRun"]["JobRunState"] == "RUNNING"
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert wait_job_run(glue, "held", run_id)["JobRunState"] == "SUCCEEDED"
