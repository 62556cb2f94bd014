"""Run history retention (spec §4.9): `--retention-days` purges finished runs and their job
runs at start and every hour of the server's clock; the default (90 days) keeps a fresh
run."""

from runs_helpers import (  # noqa: F401  (fixtures)
    MANUAL_CLOCK_ARGS,
    SERVER_ARGS,
    create_job,
    node_runs,
    scripts,
    start_trigger,
    wait_for,
    wait_run,
    weir_args,
)
from weirtest import expect_error


def finished_run(glue, scripts):
    create_job(glue, "kept", scripts.write("kept", "print('hello')"))
    glue.create_workflow(Name="history")
    start_trigger(glue, "history-start", "history", ["kept"])
    run_id = glue.start_workflow_run(Name="history")["RunId"]
    run = wait_run(glue, "history", run_id)
    assert run["Status"] == "COMPLETED"
    (job_run,) = node_runs(run, "kept")
    assert job_run["JobRunState"] == "SUCCEEDED"
    direct = glue.start_job_run(JobName="kept")["JobRunId"]
    wait_for(
        lambda: glue.get_job_run(JobName="kept", RunId=direct)["JobRun"]["JobRunState"]
        == "SUCCEEDED",
        "the direct job run",
    )
    return run_id, job_run["Id"], direct


def gone(call, **kwargs) -> bool:
    try:
        call(**kwargs)
    except call.__self__.exceptions.EntityNotFoundException:
        return True
    return False


def test_default_retention_keeps_a_finished_run(weir, glue, scripts):
    run_id, job_run_id, direct = finished_run(glue, scripts)
    weir.restart()
    glue = weir.client()
    run = glue.get_workflow_run(Name="history", RunId=run_id)["Run"]
    assert run["Status"] == "COMPLETED"
    assert glue.get_job_run(JobName="kept", RunId=job_run_id)["JobRun"]["JobRunState"] == "SUCCEEDED"
    assert glue.get_job_run(JobName="kept", RunId=direct)["JobRun"]["JobRunState"] == "SUCCEEDED"
    assert [r["WorkflowRunId"] for r in glue.get_workflow_runs(Name="history")["Runs"]] == [run_id]
    assert glue.get_workflow(Name="history")["Workflow"]["LastRun"]["WorkflowRunId"] == run_id


def test_zero_retention_purges_finished_runs_at_start(weir, glue, scripts):
    run_id, job_run_id, direct = finished_run(glue, scripts)
    weir.restart(extra_args=[*SERVER_ARGS, "--retention-days", "0"])
    glue = weir.client()
    # The purge runs as the server starts; poll (bounded) rather than assume it finished
    # before the first request.
    wait_for(
        lambda: gone(glue.get_workflow_run, Name="history", RunId=run_id),
        "the workflow run to be purged",
        deadline=30,
    )
    expect_error("EntityNotFoundException", glue.get_workflow_run, Name="history", RunId=run_id)
    expect_error("EntityNotFoundException", glue.get_job_run, JobName="kept", RunId=job_run_id)
    expect_error("EntityNotFoundException", glue.get_job_run, JobName="kept", RunId=direct)
    assert glue.get_workflow_runs(Name="history")["Runs"] == []
    assert glue.get_job_runs(JobName="kept")["JobRuns"] == []
    expect_error(
        "EntityNotFoundException", glue.get_workflow_run_properties, Name="history", RunId=run_id
    )
    # Definitions are not history: the workflow, its trigger and the job stay.
    assert glue.get_workflow(Name="history")["Workflow"]["Name"] == "history"
    assert glue.get_trigger(Name="history-start")["Trigger"]["Name"] == "history-start"
    assert glue.get_job(JobName="kept")["Job"]["Name"] == "kept"

    # New runs still work under the short retention (and are kept while this server runs).
    new_id = glue.start_workflow_run(Name="history")["RunId"]
    assert wait_run(glue, "history", new_id)["Status"] == "COMPLETED"
    assert [r["WorkflowRunId"] for r in glue.get_workflow_runs(Name="history")["Runs"]] == [new_id]


def test_retention_never_purges_a_running_run(weir, glue, scripts):
    release = scripts.path("release")
    create_job(glue, "held", scripts.write("held", f"wait_for_file({release!r})"))
    glue.create_workflow(Name="held-wf")
    start_trigger(glue, "held-start", "held-wf", ["held"])
    run_id = glue.start_workflow_run(Name="held-wf")["RunId"]
    wait_for(
        lambda: node_runs(
            glue.get_workflow_run(Name="held-wf", RunId=run_id, IncludeGraph=True)["Run"], "held"
        ),
        "the job to start",
    )
    weir.restart(extra_args=[*SERVER_ARGS, "--retention-days", "0"])
    glue = weir.client()
    with open(release, "w"):
        pass
    run = wait_run(glue, "held-wf", run_id)
    assert run["Status"] == "COMPLETED"
    assert node_runs(run, "held")[0]["JobRunState"] == "SUCCEEDED", node_runs(run, "held")[0].get("ErrorMessage")


def test_the_hourly_purge_removes_runs_once_they_are_past_the_retention(weir, glue, scripts):
    """On the manual clock: a day's retention keeps a fresh run through the start-up purge
    and the next hourly ones, and the first hourly purge after a day removes it."""
    weir.restart(extra_args=[*MANUAL_CLOCK_ARGS, "--retention-days", "1"])
    glue = weir.client()
    run_id, job_run_id, direct = finished_run(glue, scripts)
    hour_ms = 3_600_000
    weir.advance_clock(23 * hour_ms)
    assert glue.get_workflow_run(Name="history", RunId=run_id)["Run"]["Status"] == "COMPLETED"
    weir.advance_clock(2 * hour_ms)
    wait_for(
        lambda: gone(glue.get_workflow_run, Name="history", RunId=run_id),
        "the workflow run to be purged",
    )
    expect_error("EntityNotFoundException", glue.get_job_run, JobName="kept", RunId=job_run_id)
    expect_error("EntityNotFoundException", glue.get_job_run, JobName="kept", RunId=direct)
    assert glue.get_workflow(Name="history")["Workflow"]["Name"] == "history"
