"""A run transition that fails is retried by the driver, not dropped: the run moves on as
soon as the store accepts writes again, without waiting for a restart."""

import sqlite3

from runs_helpers import (  # noqa: F401  (fixtures)
    create_job,
    scripts,
    start_trigger,
    wait_file,
    wait_for,
    wait_job_run,
    wait_process_gone,
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


def test_an_event_for_a_deleted_run_is_dropped_not_retried(weir, glue, scripts):
    """DeleteWorkflow deletes the run history while a job of a run still runs: the job's
    end has nothing left to record, and is dropped instead of retried for ever."""
    release = scripts.path("release")
    pid_file = scripts.path("orphan.pid")
    create_job(
        glue,
        "orphan",
        scripts.write("orphan", f"write_pid({pid_file!r})\nwait_for_file({release!r})"),
    )
    glue.create_workflow(Name="doomed")
    start_trigger(glue, "doomed-start", "doomed", ["orphan"])
    glue.start_workflow_run(Name="doomed")
    pid = int(wait_file(pid_file))
    glue.delete_workflow(Name="doomed")
    with open(release, "w"):
        pass
    wait_process_gone(pid)
    wait_for(
        lambda: "a run event was dropped" in weir.log_text(),
        "the job's end to be dropped",
    )
    assert "it will be retried" not in weir.log_text()
    glue.create_workflow(Name="after")
    assert glue.get_workflow(Name="after")["Workflow"]["Name"] == "after"
