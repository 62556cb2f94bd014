"""Job timeouts (spec §6.3 TIMEOUT) on the server's manual clock: a test moves virtual
time past a deadline instead of waiting for it, so no test depends on how fast the
machine is. The job processes themselves are real."""

import pytest

from runs_helpers import (  # noqa: F401  (fixtures)
    MANUAL_CLOCK_ARGS,
    MINUTE_MS,
    create_job,
    expect_stats,
    lines,
    node_runs,
    process_gone,
    scripts,
    start_trigger,
    wait_file,
    wait_for,
    wait_job_run,
    wait_process_gone,
    wait_run,
)


@pytest.fixture
def weir_args():
    return list(MANUAL_CLOCK_ARGS)


def sleeper(scripts, name: str) -> tuple[str, str]:
    """A script that records its pid and then sleeps far longer than any test."""
    pid_file = scripts.path(f"{name}.pid")
    return pid_file, scripts.write(
        name,
        f"""
        write_pid({pid_file!r})
        time.sleep(600)
        """,
    )


def test_timeout_ends_the_run_and_kills_the_process(weir, glue, scripts):
    pid_file, script = sleeper(scripts, "sleeper")
    create_job(glue, "sleeper", script, Timeout=1, MaxRetries=1)  # TIMEOUT is not retried
    glue.create_workflow(Name="timeouts")
    start_trigger(glue, "timeouts-start", "timeouts", ["sleeper"])

    run_id = glue.start_workflow_run(Name="timeouts")["RunId"]
    pid = int(wait_file(pid_file))
    weir.advance_clock(MINUTE_MS - 1)
    run = glue.get_workflow_run(Name="timeouts", RunId=run_id)["Run"]
    assert run["Status"] == "RUNNING", "nothing times out before its deadline"
    weir.advance_clock(1)
    run = wait_run(glue, "timeouts", run_id)
    assert run["Status"] == "COMPLETED"
    expect_stats(run, TotalActions=1, TimeoutActions=1)
    (jr,) = node_runs(run, "sleeper")
    assert jr["JobRunState"] == "TIMEOUT", jr
    assert jr["Timeout"] == 1
    assert glue.get_job_run(JobName="sleeper", RunId=jr["Id"])["JobRun"]["JobRunState"] == "TIMEOUT"
    assert [r["Id"] for r in glue.get_job_runs(JobName="sleeper")["JobRuns"]] == [jr["Id"]]
    wait_process_gone(pid)


def test_action_timeout_overrides_the_job_timeout(weir, glue, scripts):
    pid_file, script = sleeper(scripts, "patient")
    create_job(glue, "patient", script, Timeout=600)
    glue.create_workflow(Name="action-timeout")
    glue.create_trigger(
        Name="at-start",
        WorkflowName="action-timeout",
        Type="ON_DEMAND",
        Actions=[{"JobName": "patient", "Timeout": 1}],
    )
    run_id = glue.start_workflow_run(Name="action-timeout")["RunId"]
    pid = int(wait_file(pid_file))
    weir.advance_clock(MINUTE_MS)
    run = wait_run(glue, "action-timeout", run_id)
    (jr,) = node_runs(run, "patient")
    assert jr["JobRunState"] == "TIMEOUT" and jr["Timeout"] == 1, jr
    wait_process_gone(pid)


def test_start_job_run_timeout(weir, glue, scripts):
    pid_file, script = sleeper(scripts, "direct-sleeper")
    create_job(glue, "direct-sleeper", script)
    run_id = glue.start_job_run(JobName="direct-sleeper", Timeout=1)["JobRunId"]
    pid = int(wait_file(pid_file))
    weir.advance_clock(MINUTE_MS)
    jr = wait_job_run(glue, "direct-sleeper", run_id)
    assert jr["JobRunState"] == "TIMEOUT" and jr["Timeout"] == 1, jr
    wait_process_gone(pid)


def test_timeout_is_rearmed_after_a_crash(weir, glue, scripts):
    """A job's timeout deadline is persisted: the server is killed while the job runs and
    restarted; the job still ends TIMEOUT and its process is killed."""
    pid_file, script = sleeper(scripts, "t-sleeper")
    create_job(glue, "t-sleeper", script, Timeout=3)
    glue.create_workflow(Name="t-crash")
    start_trigger(glue, "t-crash-start", "t-crash", ["t-sleeper"])
    run_id = glue.start_workflow_run(Name="t-crash")["RunId"]
    pid = int(wait_file(pid_file))
    weir.kill9()
    assert not process_gone(pid), "the job process must outlive the server"
    weir.restart()
    glue = weir.client()
    # The restarted manual clock reads the real time again, which is not behind the
    # first server's virtual time: three minutes from now are past the deadline.
    weir.advance_clock(3 * MINUTE_MS)
    run = wait_run(glue, "t-crash", run_id)
    assert run["Status"] == "COMPLETED"
    expect_stats(run, TotalActions=1, TimeoutActions=1)
    wait_process_gone(pid)


def test_a_job_that_ended_while_weir_was_down_is_not_timed_out_at_restart(weir, glue, scripts):
    """The job exits 0 while Weir is down; Weir restarts after the job's deadline. The end
    recorded by the supervisor is settled before any deadline is armed: SUCCEEDED, not
    TIMEOUT (the re-armed timer used to race the reading of the exit file)."""
    release = scripts.path("release")
    pid_file = scripts.path("late.pid")
    create_job(
        glue,
        "late",
        scripts.write("late", f"write_pid({pid_file!r})\nwait_for_file({release!r})"),
        Timeout=1,
    )
    run_id = glue.start_job_run(JobName="late")["JobRunId"]
    pid = int(wait_file(pid_file))
    now_ms = weir.advance_clock(0)
    weir.kill9()
    with open(release, "w"):
        pass
    wait_process_gone(pid)
    wait_for(lambda: (weir.data_dir / "job-runs" / run_id / "exit").exists(), "the exit file")
    weir.restart(extra_args=[*MANUAL_CLOCK_ARGS[:-1], str(now_ms + 10 * MINUTE_MS)])
    jr = wait_job_run(weir.client(), "late", run_id)
    assert jr["JobRunState"] == "SUCCEEDED", jr
    assert lines(pid_file) == [str(pid)]
