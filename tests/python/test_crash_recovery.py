"""Crash recovery: SIGKILL the server at awkward moments, restart it on the same data
directory, and check that runs finish with every job run exactly once and that every
acknowledged write survived (ARCHITECTURE.md, "Each job-run attempt is started at most
once"; "Durable before acknowledged")."""

import threading

import botocore.exceptions

from runs_helpers import (  # noqa: F401  (fixtures)
    conditional_trigger,
    create_job,
    expect_stats,
    lines,
    node_runs,
    process_gone,
    scripts,
    start_trigger,
    wait_for,
    wait_process_gone,
    wait_run,
    weir_args,
)

JOBS = ("c1", "c2", "c3")


def chain(glue, scripts) -> str:
    """c1 → c2 → c3; each script writes '<job> started' to <job>.started, sleeps ~1 s, then
    appends '<job> <workflow run id> <job run id>' to the shared log as its last act.
    Returns the log's path."""
    log = scripts.path("chain.log")
    for job in JOBS:
        create_job(
            glue,
            job,
            scripts.write(
                job,
                f"""
                append({scripts.path(job + '.started')!r}, ARGS["--JOB_RUN_ID"])
                time.sleep(1)
                append({log!r}, "{job} " + ARGS["--WORKFLOW_RUN_ID"] + " " + ARGS["--JOB_RUN_ID"])
                """,
            ),
        )
    glue.create_workflow(Name="crashy")
    start_trigger(glue, "crashy-start", "crashy", ["c1"])
    conditional_trigger(glue, "crashy-2", "crashy", [("c1", "SUCCEEDED")], ["c2"])
    conditional_trigger(glue, "crashy-3", "crashy", [("c2", "SUCCEEDED")], ["c3"])
    return log


def lines_of(log: str, job: str) -> list[str]:
    return [line for line in lines(log) if line.split()[0] == job]


def assert_completed_once_each(glue, scripts, log: str, run_id: str) -> None:
    run = wait_run(glue, "crashy", run_id)
    assert run["Status"] == "COMPLETED", run
    expect_stats(run, TotalActions=3, SucceededActions=3)
    for job in JOBS:
        job_runs = node_runs(run, job)
        assert [r["JobRunState"] for r in job_runs] == ["SUCCEEDED"], (job, job_runs)
        # Exactly one execution of each job, and it is the attempt the run recorded.
        assert lines_of(log, job) == [f"{job} {run_id} {job_runs[0]['Id']}"], lines(log)
        assert lines(scripts.path(job + ".started")) == [job_runs[0]["Id"]]
        got = glue.get_job_run(JobName=job, RunId=job_runs[0]["Id"])["JobRun"]
        assert got["JobRunState"] == "SUCCEEDED"


def test_sigkill_while_the_first_job_runs(weir, glue, scripts):
    log = chain(glue, scripts)
    run_id = glue.start_workflow_run(Name="crashy")["RunId"]
    wait_for(lambda: lines(scripts.path("c1.started")), "c1 to start")
    weir.kill9()
    weir.restart()
    # A fresh client: the restarted server may have had to take another port.
    assert_completed_once_each(weir.client(), scripts, log, run_id)


def test_sigkill_right_after_the_first_job_exits(weir, glue, scripts):
    log = chain(glue, scripts)
    run_id = glue.start_workflow_run(Name="crashy")["RunId"]
    wait_for(lambda: lines_of(log, "c1"), "c1's line", deadline=90)
    weir.kill9()
    weir.restart()
    # A fresh client: the restarted server may have had to take another port.
    assert_completed_once_each(weir.client(), scripts, log, run_id)


def test_sigkill_while_the_server_is_down_during_a_job(weir, glue, scripts):
    """The job finishes while no server is running; the restart records its real exit."""
    log = chain(glue, scripts)
    run_id = glue.start_workflow_run(Name="crashy")["RunId"]
    wait_for(lambda: lines(scripts.path("c2.started")), "c2 to start")
    weir.kill9()
    wait_for(lambda: lines_of(log, "c2"), "c2 to finish while the server is down")
    weir.restart()
    # A fresh client: the restarted server may have had to take another port.
    assert_completed_once_each(weir.client(), scripts, log, run_id)


def test_sigkill_during_a_burst_of_writes(weir, glue, scripts):
    log = chain(glue, scripts)
    run_id = glue.start_workflow_run(Name="crashy")["RunId"]
    writer = weir.client(connect_timeout=2, read_timeout=10)
    acknowledged: list[str] = []
    stop = threading.Event()

    def burst() -> None:
        i = 0
        while not stop.is_set():
            name = f"burst-{i}"
            i += 1
            try:
                writer.create_workflow(Name=name, DefaultRunProperties={"i": str(i)})
            except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError):
                return  # the server is gone
            acknowledged.append(name)

    thread = threading.Thread(target=burst, daemon=True)
    thread.start()
    wait_for(lambda: len(acknowledged) >= 30, "30 acknowledged CreateWorkflow calls")
    wait_for(lambda: lines(scripts.path("c1.started")), "c1 to start")
    weir.kill9()
    stop.set()
    thread.join(30)
    assert not thread.is_alive()
    survivors = list(acknowledged)

    weir.restart()
    fresh = weir.client()
    missing = []
    for name in survivors:
        try:
            fresh.get_workflow(Name=name)
        except fresh.exceptions.EntityNotFoundException:
            missing.append(name)
    assert missing == [], f"{len(missing)} acknowledged workflows lost: {missing[:10]}"
    assert_completed_once_each(fresh, scripts, log, run_id)


def test_repeated_sigkills_during_one_run(weir, glue, scripts):
    """Kill the server once per job boundary; the run still completes with each job once."""
    log = chain(glue, scripts)
    run_id = glue.start_workflow_run(Name="crashy")["RunId"]
    for job in JOBS[:2]:
        wait_for(lambda job=job: lines_of(log, job), f"{job}'s line")
        weir.kill9()
        weir.restart()
    assert_completed_once_each(weir.client(), scripts, log, run_id)


def test_direct_job_run_survives_a_crash(weir, glue, scripts):
    release = scripts.path("release")
    create_job(
        glue,
        "direct",
        scripts.write(
            "direct",
            f"""
            append({scripts.path('direct.log')!r}, ARGS["--JOB_RUN_ID"])
            wait_for_file({release!r})
            """,
        ),
    )
    run_id = glue.start_job_run(JobName="direct")["JobRunId"]
    wait_for(lambda: lines(scripts.path("direct.log")), "the job to start")
    weir.kill9()
    weir.restart()
    glue = weir.client()
    assert glue.get_job_run(JobName="direct", RunId=run_id)["JobRun"]["JobRunState"] == "RUNNING"
    with open(release, "w"):
        pass
    wait_for(
        lambda: glue.get_job_run(JobName="direct", RunId=run_id)["JobRun"]["JobRunState"]
        == "SUCCEEDED",
        "the re-attached job run to succeed",
    )
    assert lines(scripts.path("direct.log")) == [run_id]


def test_stop_after_a_crash_kills_the_reattached_process(weir, glue, scripts):
    pid_file = scripts.path("s.pid")
    create_job(
        glue,
        "s-sleeper",
        scripts.write(
            "s-sleeper",
            f"""
            write_pid({pid_file!r})
            time.sleep(60)
            """,
        ),
    )
    glue.create_workflow(Name="s-crash")
    start_trigger(glue, "s-crash-start", "s-crash", ["s-sleeper"])
    run_id = glue.start_workflow_run(Name="s-crash")["RunId"]
    pid = int(wait_for(lambda: lines(pid_file), "the pid file")[0])
    weir.kill9()
    weir.restart()
    glue = weir.client()
    glue.stop_workflow_run(Name="s-crash", RunId=run_id)
    run = wait_run(glue, "s-crash", run_id)
    assert run["Status"] == "STOPPED", run
    assert node_runs(run, "s-sleeper")[0]["JobRunState"] == "STOPPED"
    wait_process_gone(pid)
