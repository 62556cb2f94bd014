"""The engine through boto3: workflow runs really run (spec §4.3–4.4, §4.8, §5.3, §6.2–6.3).

Job scripts are real Python processes started by the server; they leave evidence in files
(lines appended, argv dumped, pids) that the tests read after polling the run to its end.
"""

import datetime
import json
import os
import pathlib

from runs_helpers import (  # noqa: F401  (fixtures)
    SERVER_ARGS,
    create_job,
    conditional_trigger,
    edges,
    expect_stats,
    job_node,
    lines,
    node_runs,
    scripts,
    start_trigger,
    wait_file,
    wait_for,
    wait_job_run,
    wait_process_gone,
    wait_run,
    weir_args,
)
import weirtest
from weirtest import expect_error


def append_script(scripts, name, extra=""):
    """A script that appends '<job> <workflow run id> <job run id>' to <name>.log."""
    return scripts.write(
        name,
        f"""
        {extra}
        append({scripts.path(name + '.log')!r},
               ARGS["--JOB_NAME"] + " " + ARGS.get("--WORKFLOW_RUN_ID", "-") + " " + ARGS["--JOB_RUN_ID"])
        """,
    )


# -- diamond ------------------------------------------------------------------------------
def test_diamond_runs_every_job_once_and_renders_the_run_graph(glue, scripts):
    for job in ("J1", "J2", "J3", "J4"):
        create_job(glue, job, append_script(scripts, job))
    glue.create_workflow(Name="diamond")
    start_trigger(glue, "d-start", "diamond", ["J1"])
    conditional_trigger(glue, "d-fan", "diamond", [("J1", "SUCCEEDED")], ["J2", "J3"])
    conditional_trigger(
        glue, "d-join", "diamond", [("J2", "SUCCEEDED"), ("J3", "SUCCEEDED")], ["J4"], "AND"
    )

    run_id = glue.start_workflow_run(Name="diamond")["RunId"]
    assert run_id.startswith("wr_")
    run = wait_run(glue, "diamond", run_id)

    assert run["Status"] == "COMPLETED", run
    assert run["Name"] == "diamond" and run["WorkflowRunId"] == run_id
    assert run["CompletedOn"] >= run["StartedOn"]
    expect_stats(run, TotalActions=4, SucceededActions=4)

    firing = {"J1": "d-start", "J2": "d-fan", "J3": "d-fan", "J4": "d-join"}
    runs = {}
    for job, trigger in firing.items():
        job_runs = node_runs(run, job)
        assert len(job_runs) == 1, (job, job_runs)
        jr = job_runs[0]
        assert jr["JobRunState"] == "SUCCEEDED", jr
        assert jr["JobName"] == job
        assert jr["TriggerName"] == trigger, jr
        assert jr["Id"].startswith("jr_")
        assert jr["Attempt"] == 0
        runs[job] = jr
        # Every job ran exactly once, in this run.
        assert lines(scripts.path(job + ".log")) == [f"{job} {run_id} {jr['Id']}"]

    predecessors = {(p["JobName"], p["RunId"]) for p in runs["J4"]["PredecessorRuns"]}
    assert predecessors == {("J2", runs["J2"]["Id"]), ("J3", runs["J3"]["Id"])}
    # J4 started after both of its predecessors ended.
    assert runs["J4"]["StartedOn"] >= max(runs["J2"]["CompletedOn"], runs["J3"]["CompletedOn"])

    # GetJobRun agrees with the graph.
    for job, jr in runs.items():
        got = glue.get_job_run(JobName=job, RunId=jr["Id"])["JobRun"]
        assert got["JobRunState"] == "SUCCEEDED" and got["TriggerName"] == firing[job]

    # The run graph has the static graph's topology.
    static = glue.get_workflow(Name="diamond", IncludeGraph=True)["Workflow"]["Graph"]
    assert edges(run["Graph"]) == edges(static)
    names = {n["UniqueId"]: n["Name"] for n in static["Nodes"]}
    assert {(names[a], names[b]) for a, b in edges(static)} == {
        ("d-start", "J1"),
        ("J1", "d-fan"),
        ("d-fan", "J2"),
        ("d-fan", "J3"),
        ("J2", "d-join"),
        ("J3", "d-join"),
        ("d-join", "J4"),
    }
    static_ids = {(n["Type"], n["Name"], n["UniqueId"]) for n in static["Nodes"]}
    run_ids = {(n["Type"], n["Name"], n["UniqueId"]) for n in run["Graph"]["Nodes"]}
    assert run_ids == static_ids

    # Workflow.LastRun shows the run.
    wf = glue.get_workflow(Name="diamond")["Workflow"]
    assert wf["LastRun"]["WorkflowRunId"] == run_id
    assert wf["LastRun"]["Status"] == "COMPLETED"
    assert wf["LastRun"]["Statistics"]["SucceededActions"] == 4


def test_any_join_fires_on_the_first_finisher_only(glue, scripts):
    create_job(glue, "a1", append_script(scripts, "a1"))
    create_job(glue, "fast", append_script(scripts, "fast"))
    # "slow" finishes only after J4 ran: it waits for J4's line.
    create_job(
        glue,
        "slow",
        append_script(scripts, "slow", f"wait_for_file({scripts.path('a4.log')!r})"),
    )
    create_job(glue, "a4", append_script(scripts, "a4"))
    glue.create_workflow(Name="any-join")
    start_trigger(glue, "any-start", "any-join", ["a1"])
    conditional_trigger(glue, "any-fan", "any-join", [("a1", "SUCCEEDED")], ["fast", "slow"])
    conditional_trigger(
        glue,
        "any-join-t",
        "any-join",
        [("fast", "SUCCEEDED"), ("slow", "SUCCEEDED")],
        ["a4"],
        logical="ANY",
    )

    run_id = glue.start_workflow_run(Name="any-join")["RunId"]
    run = wait_run(glue, "any-join", run_id)

    assert run["Status"] == "COMPLETED"
    expect_stats(run, TotalActions=4, SucceededActions=4)
    a4_runs = node_runs(run, "a4")
    assert len(a4_runs) == 1, a4_runs
    assert [p["JobName"] for p in a4_runs[0]["PredecessorRuns"]] == ["fast"]
    assert len(lines(scripts.path("a4.log"))) == 1
    assert len(lines(scripts.path("slow.log"))) == 1


def test_failed_branch_runs_only_when_its_job_fails(glue, scripts):
    create_job(
        glue,
        "maybe",
        scripts.write(
            "maybe",
            """
            if ARGS.get("--outcome") == "fail":
                raise SystemExit("failing on purpose")
            """,
        ),
    )
    create_job(glue, "on-fail", append_script(scripts, "on-fail"))
    create_job(glue, "on-ok", append_script(scripts, "on-ok"))
    for wf, outcome in (("wf-fails", "fail"), ("wf-passes", "pass")):
        glue.create_workflow(Name=wf)
        start_trigger(glue, f"{wf}-start", wf, ["maybe"], arguments={"--outcome": outcome})
        conditional_trigger(glue, f"{wf}-failed", wf, [("maybe", "FAILED")], ["on-fail"])
        conditional_trigger(glue, f"{wf}-ok", wf, [("maybe", "SUCCEEDED")], ["on-ok"])

    failing = wait_run(glue, "wf-fails", glue.start_workflow_run(Name="wf-fails")["RunId"])
    assert failing["Status"] == "COMPLETED"  # COMPLETED even though a node failed
    expect_stats(failing, TotalActions=3, FailedActions=1, SucceededActions=1)
    assert node_runs(failing, "maybe")[0]["JobRunState"] == "FAILED"
    assert "failing on purpose" in node_runs(failing, "maybe")[0]["ErrorMessage"]
    assert node_runs(failing, "on-fail")[0]["JobRunState"] == "SUCCEEDED"
    assert node_runs(failing, "on-ok") == []
    assert "JobDetails" not in job_node(failing, "on-ok") or not job_node(failing, "on-ok")[
        "JobDetails"
    ].get("JobRuns")
    assert len(lines(scripts.path("on-fail.log"))) == 1
    assert lines(scripts.path("on-ok.log")) == []

    passing = wait_run(glue, "wf-passes", glue.start_workflow_run(Name="wf-passes")["RunId"])
    assert passing["Status"] == "COMPLETED"
    expect_stats(passing, TotalActions=3, SucceededActions=2)
    assert node_runs(passing, "on-fail") == []
    assert node_runs(passing, "on-ok")[0]["JobRunState"] == "SUCCEEDED"
    assert len(lines(scripts.path("on-fail.log"))) == 1  # still only the first workflow's
    assert len(lines(scripts.path("on-ok.log"))) == 1


# -- retries and timeouts -----------------------------------------------------------------
def test_retries_chain_attempts_until_max_retries(glue, scripts):
    create_job(
        glue,
        "flaky",
        scripts.write(
            "flaky",
            f"""
            append({scripts.path('flaky.log')!r}, ARGS["--JOB_RUN_ID"])
            raise RuntimeError("boom-from-the-script")
            """,
        ),
        MaxRetries=2,
    )
    create_job(glue, "after-failure", append_script(scripts, "after-failure"))
    glue.create_workflow(Name="retries")
    start_trigger(glue, "retries-start", "retries", ["flaky"])
    # A node being retried is not final: this fires once, after the last attempt.
    conditional_trigger(glue, "retries-failed", "retries", [("flaky", "FAILED")], ["after-failure"])

    run_id = glue.start_workflow_run(Name="retries")["RunId"]
    run = wait_run(glue, "retries", run_id)
    assert run["Status"] == "COMPLETED"
    expect_stats(run, TotalActions=2, FailedActions=1, SucceededActions=1)

    job_runs = sorted(glue.get_job_runs(JobName="flaky")["JobRuns"], key=lambda r: r["Attempt"])
    assert [r["Attempt"] for r in job_runs] == [0, 1, 2], job_runs
    assert all(r["JobRunState"] == "FAILED" for r in job_runs), job_runs
    assert "PreviousRunId" not in job_runs[0]
    for previous, current in zip(job_runs, job_runs[1:]):
        assert current["PreviousRunId"] == previous["Id"], (previous, current)
    for r in job_runs:
        assert "boom-from-the-script" in r["ErrorMessage"], r
        assert r["TriggerName"] == "retries-start"
    assert len({r["Id"] for r in job_runs}) == 3
    # Each attempt really ran the script once.
    assert lines(scripts.path("flaky.log")) == [r["Id"] for r in job_runs]

    graph_runs = sorted(node_runs(run, "flaky"), key=lambda r: r["Attempt"])
    assert [(r["Id"], r["Attempt"], r["JobRunState"]) for r in graph_runs] == [
        (r["Id"], r["Attempt"], "FAILED") for r in job_runs
    ]
    (after,) = node_runs(run, "after-failure")
    assert after["PredecessorRuns"] == [{"JobName": "flaky", "RunId": job_runs[2]["Id"]}]
    assert len(lines(scripts.path("after-failure.log"))) == 1
    # GetJobRuns is newest first.
    listed = glue.get_job_runs(JobName="flaky")["JobRuns"]
    assert [r["StartedOn"] for r in listed] == sorted(
        (r["StartedOn"] for r in listed), reverse=True
    )



# -- run properties and arguments -----------------------------------------------------------
def test_run_properties_flow_between_jobs(glue, scripts):
    create_job(
        glue,
        "producer",
        scripts.write(
            "producer",
            f"""
            name, run = ARGS["--WORKFLOW_NAME"], ARGS["--WORKFLOW_RUN_ID"]
            client = glue()
            seen = client.get_workflow_run_properties(Name=name, RunId=run)["RunProperties"]
            with open({scripts.path('start-props.json')!r}, "w") as f:
                json.dump(seen, f)
            client.put_workflow_run_properties(
                Name=name, RunId=run, RunProperties={{"from_producer": "hello " + run}}
            )
            """,
        ),
    )
    create_job(
        glue,
        "consumer",
        scripts.write(
            "consumer",
            f"""
            name, run = ARGS["--WORKFLOW_NAME"], ARGS["--WORKFLOW_RUN_ID"]
            props = glue().get_workflow_run_properties(Name=name, RunId=run)["RunProperties"]
            with open({scripts.path('consumer.out')!r}, "w") as f:
                f.write(props["from_producer"])
            """,
        ),
    )
    glue.create_workflow(Name="props", DefaultRunProperties={"a": "1", "b": "1"})
    start_trigger(glue, "props-start", "props", ["producer"])
    conditional_trigger(glue, "props-next", "props", [("producer", "SUCCEEDED")], ["consumer"])

    run_id = glue.start_workflow_run(Name="props", RunProperties={"b": "2"})["RunId"]
    run = wait_run(glue, "props", run_id)
    assert run["Status"] == "COMPLETED", run
    expect_stats(run, TotalActions=2, SucceededActions=2)

    # The run started with the defaults overlaid by the request's properties.
    assert json.loads(wait_file(scripts.path("start-props.json"))) == {"a": "1", "b": "2"}
    assert wait_file(scripts.path("consumer.out")) == f"hello {run_id}"

    expected = {"a": "1", "b": "2", "from_producer": f"hello {run_id}"}
    assert glue.get_workflow_run_properties(Name="props", RunId=run_id)["RunProperties"] == expected
    assert run["WorkflowRunProperties"] == expected

    # PutWorkflowRunProperties upserts: new keys added, existing ones replaced, others kept.
    glue.put_workflow_run_properties(Name="props", RunId=run_id, RunProperties={"b": "3", "c": "4"})
    assert glue.get_workflow_run_properties(Name="props", RunId=run_id)["RunProperties"] == {
        **expected,
        "b": "3",
        "c": "4",
    }
    # The workflow's defaults are untouched.
    assert glue.get_workflow(Name="props")["Workflow"]["DefaultRunProperties"] == {
        "a": "1",
        "b": "1",
    }
    expect_error(
        "EntityNotFoundException",
        glue.get_workflow_run_properties,
        Name="props",
        RunId="wr_" + "0" * 64,
    )


def test_arguments_are_merged_and_passed_to_the_script(glue, scripts):
    out = scripts.path("argv.json")
    create_job(
        glue,
        "argdump",
        scripts.write(
            "argdump",
            f"""
            with open({out!r}, "w") as f:
                json.dump(sys.argv[1:], f)
            """,
        ),
        DefaultArguments={"--a": "job", "--b": "job", "--locked": "job-default"},
        NonOverridableArguments={"--locked": "fixed"},
    )
    glue.create_workflow(Name="args")
    start_trigger(
        glue,
        "args-start",
        "args",
        ["argdump"],
        arguments={"--b": "action", "--c": "action", "--locked": "action"},
    )
    run_id = glue.start_workflow_run(Name="args")["RunId"]
    run = wait_run(glue, "args", run_id)
    assert run["Status"] == "COMPLETED"
    (jr,) = node_runs(run, "argdump")
    assert jr["JobRunState"] == "SUCCEEDED", jr

    argv = json.loads(wait_file(out))
    pairs = dict(zip(argv[0::2], argv[1::2]))
    assert len(argv) == 2 * len(pairs), argv  # only `--KEY value` pairs
    assert pairs["--a"] == "job"
    assert pairs["--b"] == "action"
    assert pairs["--c"] == "action"
    assert pairs["--locked"] == "fixed"
    assert pairs["--JOB_NAME"] == "argdump"
    assert pairs["--JOB_RUN_ID"] == jr["Id"]
    assert pairs["--WORKFLOW_NAME"] == "args"
    assert pairs["--WORKFLOW_RUN_ID"] == run_id

    # The job run echoes what its caller (the trigger action) passed, not the merged set
    # the process got nor the arguments Weir adds.
    got = glue.get_job_run(JobName="argdump", RunId=jr["Id"])["JobRun"]["Arguments"]
    assert got == {"--b": "action", "--c": "action", "--locked": "action"}, got


# -- direct job runs ----------------------------------------------------------------------
def test_start_job_run_directly(glue, scripts):
    create_job(glue, "direct", append_script(scripts, "direct"))
    run_id = glue.start_job_run(JobName="direct", Arguments={"--x": "1"})["JobRunId"]
    assert run_id.startswith("jr_")
    jr = wait_job_run(glue, "direct", run_id)
    assert jr["JobRunState"] == "SUCCEEDED", jr
    assert jr["Id"] == run_id and jr["JobName"] == "direct" and jr["Attempt"] == 0
    assert "TriggerName" not in jr
    assert jr["Arguments"] == {"--x": "1"}
    assert lines(scripts.path("direct.log")) == [f"direct - {run_id}"]
    assert [r["Id"] for r in glue.get_job_runs(JobName="direct")["JobRuns"]] == [run_id]


def test_start_job_run_concurrency_and_batch_stop(glue, scripts):
    pid_file = scripts.path("blocker.pid")
    create_job(
        glue,
        "blocker",
        scripts.write(
            "blocker",
            f"""
            write_pid({pid_file!r})
            time.sleep(60)
            """,
        ),
    )
    first = glue.start_job_run(JobName="blocker")["JobRunId"]
    pid = int(wait_file(pid_file))
    # MaxConcurrentRuns defaults to 1.
    expect_error("ConcurrentRunsExceededException", glue.start_job_run, JobName="blocker")

    out = glue.batch_stop_job_run(JobName="blocker", JobRunIds=[first])
    assert out["SuccessfulSubmissions"] == [{"JobName": "blocker", "JobRunId": first}], out
    assert not out.get("Errors"), out
    jr = wait_job_run(glue, "blocker", first)
    assert jr["JobRunState"] == "STOPPED", jr
    wait_process_gone(pid)

    # A finished run and an unknown id are per-run errors, not an exception.
    unknown = "jr_" + "0" * 64
    out = glue.batch_stop_job_run(JobName="blocker", JobRunIds=[first, unknown])
    assert not out.get("SuccessfulSubmissions"), out
    assert {e["JobRunId"] for e in out["Errors"]} == {first, unknown}, out
    for error in out["Errors"]:
        assert error["JobName"] == "blocker"
        assert error["ErrorDetail"]["ErrorCode"] and error["ErrorDetail"]["ErrorMessage"]

    # With the slot free again, a new run starts.
    os.remove(pid_file)
    second = glue.start_job_run(JobName="blocker")["JobRunId"]
    assert second != first
    int(wait_file(pid_file))
    glue.batch_stop_job_run(JobName="blocker", JobRunIds=[second])
    assert wait_job_run(glue, "blocker", second)["JobRunState"] == "STOPPED"


def test_start_job_run_of_missing_job_is_entity_not_found(glue):
    expect_error("EntityNotFoundException", glue.start_job_run, JobName="no-such-job")


def test_a_command_weir_cannot_run_fails_with_a_clear_message(glue, scripts):
    create_job(glue, "ray", append_script(scripts, "ray"), command="glueray")
    run_id = glue.start_job_run(JobName="ray")["JobRunId"]
    jr = wait_job_run(glue, "ray", run_id)
    assert jr["JobRunState"] == "FAILED", jr
    assert "Command 'glueray' is not supported" in jr["ErrorMessage"], jr
    assert lines(scripts.path("ray.log")) == []  # nothing ran


# -- listing runs, StartTrigger/StopTrigger ---------------------------------------------------
def test_get_workflow_runs_newest_first_with_pagination(glue, glue_unvalidated):
    glue.create_workflow(Name="listed")  # no start trigger: each run completes at once
    started = []
    for _ in range(5):
        run_id = glue.start_workflow_run(Name="listed")["RunId"]
        started.append(run_id)
        run = wait_run(glue, "listed", run_id)
        assert run["Status"] == "COMPLETED"
        # The next run must start in a later millisecond for the order to be defined.
        target = run["StartedOn"] + datetime.timedelta(milliseconds=10)
        wait_for(lambda: datetime.datetime.now(datetime.timezone.utc) > target, "the clock")

    pages = list(
        glue.get_paginator("get_workflow_runs").paginate(
            Name="listed", PaginationConfig={"PageSize": 2}
        )
    )
    assert [len(p["Runs"]) for p in pages] == [2, 2, 1]
    listed = [r["WorkflowRunId"] for p in pages for r in p["Runs"]]
    assert listed == list(reversed(started))
    assert "NextToken" not in pages[-1]
    assert all("Graph" not in r for p in pages for r in p["Runs"])

    everything = glue.get_workflow_runs(Name="listed")["Runs"]
    assert [r["WorkflowRunId"] for r in everything] == listed
    with_graph = glue.get_workflow_runs(Name="listed", MaxResults=1, IncludeGraph=True)
    assert with_graph["Runs"][0]["WorkflowRunId"] == started[-1]
    assert "Graph" in with_graph["Runs"][0] and with_graph["NextToken"]

    for bad in (0, 1001):
        expect_error(
            "InvalidInputException",
            glue_unvalidated.get_workflow_runs,
            Name="listed",
            MaxResults=bad,
        )
    expect_error("EntityNotFoundException", glue.get_workflow_runs, Name="not-a-workflow")
    expect_error(
        "EntityNotFoundException", glue.get_workflow_run, Name="listed", RunId="wr_" + "0" * 64
    )


def test_start_trigger_and_stop_trigger(glue, scripts):
    create_job(glue, "t1", append_script(scripts, "t1"))
    create_job(glue, "t2", append_script(scripts, "t2"))
    glue.create_workflow(Name="triggered")
    start_trigger(glue, "triggered-start", "triggered", ["t1"])
    glue.create_trigger(
        Name="triggered-next",
        WorkflowName="triggered",
        Type="CONDITIONAL",
        Predicate={"Conditions": [{"LogicalOperator": "EQUALS", "JobName": "t1", "State": "SUCCEEDED"}]},
        Actions=[{"JobName": "t2"}],
    )

    # StartTrigger on the ON_DEMAND start trigger starts a workflow run.
    assert glue.start_trigger(Name="triggered-start")["Name"] == "triggered-start"
    runs = wait_for(
        lambda: glue.get_workflow_runs(Name="triggered")["Runs"], "a run started by StartTrigger"
    )
    assert len(runs) == 1
    run = wait_run(glue, "triggered", runs[0]["WorkflowRunId"])
    assert run["Status"] == "COMPLETED"
    expect_stats(run, TotalActions=2, SucceededActions=2)
    assert node_runs(run, "t1")[0]["TriggerName"] == "triggered-start"

    # CONDITIONAL: StartTrigger activates, StopTrigger deactivates.
    assert glue.start_trigger(Name="triggered-next")["Name"] == "triggered-next"
    assert glue.get_trigger(Name="triggered-next")["Trigger"]["State"] == "ACTIVATED"
    assert glue.stop_trigger(Name="triggered-next")["Name"] == "triggered-next"
    assert glue.get_trigger(Name="triggered-next")["Trigger"]["State"] == "DEACTIVATED"
    assert glue.start_trigger(Name="triggered-next")["Name"] == "triggered-next"
    assert glue.get_trigger(Name="triggered-next")["Trigger"]["State"] == "ACTIVATED"

    # ON_DEMAND cannot be stopped; EVENT cannot be started.
    expect_error("InvalidInputException", glue.stop_trigger, Name="triggered-start")
    glue.create_workflow(Name="evented")
    glue.create_trigger(
        Name="evented-start", WorkflowName="evented", Type="EVENT", Actions=[{"JobName": "t1"}]
    )
    expect_error("InvalidInputException", glue.start_trigger, Name="evented-start")
    assert glue.get_workflow_runs(Name="evented")["Runs"] == []
    expect_error("EntityNotFoundException", glue.start_trigger, Name="no-such-trigger")


# -- a job deleted before its trigger fires ------------------------------------------------
def test_job_deleted_before_its_trigger_fires_is_an_error_run(glue, scripts):
    go = scripts.path("go")
    create_job(
        glue,
        "first",
        scripts.write(
            "first",
            f"""
            append({scripts.path('first.started')!r}, "started")
            wait_for_file({go!r})
            """,
        ),
    )
    create_job(glue, "doomed", append_script(scripts, "doomed"))
    glue.create_workflow(Name="deleted-job")
    start_trigger(glue, "dj-start", "deleted-job", ["first"])
    conditional_trigger(glue, "dj-next", "deleted-job", [("first", "SUCCEEDED")], ["doomed"])

    run_id = glue.start_workflow_run(Name="deleted-job")["RunId"]
    wait_file(scripts.path("first.started"))
    glue.delete_job(JobName="doomed")
    with open(go, "w"):
        pass

    run = wait_run(glue, "deleted-job", run_id)
    assert run["Status"] == "COMPLETED"
    expect_stats(run, TotalActions=2, SucceededActions=1, ErroredActions=1)
    (jr,) = node_runs(run, "doomed")
    assert jr["JobRunState"] == "ERROR", jr
    assert jr.get("ErrorMessage"), jr
    assert jr["TriggerName"] == "dj-next"
    assert lines(scripts.path("doomed.log")) == []


# -- stopping one job of a workflow, script locations ---------------------------------------
def test_batch_stop_of_a_workflow_job_lets_the_stopped_branch_fire(glue, scripts):
    pid_file = scripts.path("victim.pid")
    create_job(
        glue,
        "victim",
        scripts.write(
            "victim",
            f"""
            write_pid({pid_file!r})
            time.sleep(60)
            """,
        ),
    )
    create_job(glue, "on-stopped", append_script(scripts, "on-stopped"))
    glue.create_workflow(Name="stop-one")
    start_trigger(glue, "stop-one-start", "stop-one", ["victim"])
    conditional_trigger(glue, "stop-one-next", "stop-one", [("victim", "STOPPED")], ["on-stopped"])
    run_id = glue.start_workflow_run(Name="stop-one")["RunId"]
    pid = int(wait_file(pid_file))
    (victim,) = node_runs(
        glue.get_workflow_run(Name="stop-one", RunId=run_id, IncludeGraph=True)["Run"], "victim"
    )
    out = glue.batch_stop_job_run(JobName="victim", JobRunIds=[victim["Id"]])
    assert [s["JobRunId"] for s in out["SuccessfulSubmissions"]] == [victim["Id"]], out

    run = wait_run(glue, "stop-one", run_id)
    assert run["Status"] == "COMPLETED", run  # only a job was stopped, not the run
    expect_stats(run, TotalActions=2, StoppedActions=1, SucceededActions=1)
    assert node_runs(run, "victim")[0]["JobRunState"] == "STOPPED"
    assert node_runs(run, "on-stopped")[0]["JobRunState"] == "SUCCEEDED"
    wait_process_gone(pid)


def test_script_locations_s3_and_file_urls(weir, glue, scripts):
    s3_script = weir.data_dir / "s3" / "my-bucket" / "jobs" / "hello.py"
    s3_script.parent.mkdir(parents=True)
    s3_script.write_text(
        f"open({scripts.path('s3.out')!r}, 'w').write('from s3')\n"
    )
    glue.create_job(
        Name="from-s3",
        Role="local",
        Command={"Name": "pythonshell", "ScriptLocation": "s3://my-bucket/jobs/hello.py"},
    )
    glue.create_job(
        Name="from-file-url",
        Role="local",
        Command={"Name": "pythonshell", "ScriptLocation": "file://" + append_script(scripts, "url")},
    )
    glue.create_job(
        Name="missing-script",
        Role="local",
        Command={"Name": "pythonshell", "ScriptLocation": scripts.path("does-not-exist.py")},
    )
    for job in ("from-s3", "from-file-url"):
        run_id = glue.start_job_run(JobName=job)["JobRunId"]
        assert wait_job_run(glue, job, run_id)["JobRunState"] == "SUCCEEDED"
    assert wait_file(scripts.path("s3.out")) == "from s3"
    assert len(lines(scripts.path("url.log"))) == 1

    run_id = glue.start_job_run(JobName="missing-script")["JobRunId"]
    jr = wait_job_run(glue, "missing-script", run_id)
    assert jr["JobRunState"] == "FAILED" and "does-not-exist.py" in jr["ErrorMessage"], jr


def test_run_operations_on_unknown_runs_are_entity_not_found(glue):
    glue.create_workflow(Name="known")
    run_id = glue.start_workflow_run(Name="known")["RunId"]
    wait_run(glue, "known", run_id)
    glue.create_workflow(Name="other")
    unknown = "wr_" + "0" * 64
    for call, kwargs in (
        (glue.get_workflow_run, {"Name": "known", "RunId": unknown}),
        (glue.get_workflow_run, {"Name": "other", "RunId": run_id}),  # another workflow's run
        (glue.get_workflow_run, {"Name": "missing", "RunId": run_id}),
        (glue.get_workflow_run_properties, {"Name": "known", "RunId": unknown}),
        (
            glue.put_workflow_run_properties,
            {"Name": "known", "RunId": unknown, "RunProperties": {"a": "b"}},
        ),
        (glue.start_workflow_run, {"Name": "missing"}),
        (glue.get_job_run, {"JobName": "nope", "RunId": "jr_" + "0" * 64}),
        (glue.get_job_runs, {"JobName": "nope"}),
    ):
        expect_error("EntityNotFoundException", call, **kwargs)


# -- definitions while a run is in flight ----------------------------------------------------
def test_triggers_are_frozen_for_a_run_but_jobs_are_not(glue, scripts):
    """Spec §4.2: a run keeps the trigger definitions it started with; job definitions are
    read when each job starts."""
    go = scripts.path("go")
    create_job(
        glue,
        "gate",
        scripts.write(
            "gate",
            f"""
            append({scripts.path('gate.started')!r}, "started")
            wait_for_file({go!r})
            """,
        ),
    )
    create_job(glue, "planned", append_script(scripts, "planned"))
    create_job(glue, "swapped-in", append_script(scripts, "swapped-in"))
    glue.create_workflow(Name="frozen")
    start_trigger(glue, "frozen-start", "frozen", ["gate"])
    conditional_trigger(glue, "frozen-next", "frozen", [("gate", "SUCCEEDED")], ["planned"])

    run_id = glue.start_workflow_run(Name="frozen")["RunId"]
    wait_file(scripts.path("gate.started"))
    # Redirect the trigger to another job, and change the job it currently starts.
    glue.update_trigger(
        Name="frozen-next",
        TriggerUpdate={
            "Predicate": {
                "Conditions": [
                    {"LogicalOperator": "EQUALS", "JobName": "gate", "State": "SUCCEEDED"}
                ]
            },
            "Actions": [{"JobName": "swapped-in"}],
        },
    )
    glue.update_job(
        JobName="planned",
        JobUpdate={
            "Role": "local",
            "Command": {"Name": "pythonshell", "ScriptLocation": append_script(scripts, "planned-v2")},
        },
    )
    with open(go, "w"):
        pass

    run = wait_run(glue, "frozen", run_id)
    assert run["Status"] == "COMPLETED"
    expect_stats(run, TotalActions=2, SucceededActions=2)
    assert [r["JobRunState"] for r in node_runs(run, "planned")] == ["SUCCEEDED"]
    assert "swapped-in" not in {n["Name"] for n in run["Graph"]["Nodes"]}
    assert lines(scripts.path("swapped-in.log")) == []
    # The job's new definition was used when it started.
    assert lines(scripts.path("planned.log")) == []
    assert len(lines(scripts.path("planned-v2.log"))) == 1

    # The next run uses the updated trigger.
    os.remove(go)
    next_id = glue.start_workflow_run(Name="frozen")["RunId"]
    with open(go, "w"):
        pass
    run = wait_run(glue, "frozen", next_id)
    assert [r["JobRunState"] for r in node_runs(run, "swapped-in")] == ["SUCCEEDED"]
    assert "planned" not in {n["Name"] for n in run["Graph"]["Nodes"]}


def test_errored_node_can_be_resumed_once_the_job_exists_again(glue, scripts):
    go = scripts.path("go")
    create_job(glue, "first", scripts.write("first", f"wait_for_file({go!r})"))
    create_job(glue, "comeback", append_script(scripts, "comeback"))
    glue.create_workflow(Name="comeback-wf")
    start_trigger(glue, "cb-start", "comeback-wf", ["first"])
    conditional_trigger(glue, "cb-next", "comeback-wf", [("first", "SUCCEEDED")], ["comeback"])
    run_id = glue.start_workflow_run(Name="comeback-wf")["RunId"]
    glue.delete_job(JobName="comeback")
    with open(go, "w"):
        pass
    run = wait_run(glue, "comeback-wf", run_id)
    (errored,) = node_runs(run, "comeback")
    assert errored["JobRunState"] == "ERROR", errored

    create_job(glue, "comeback", append_script(scripts, "comeback"))
    node = job_node(run, "comeback")["UniqueId"]
    out = glue.resume_workflow_run(Name="comeback-wf", RunId=run_id, NodeIds=[node])
    assert out["NodeIds"] == [node]
    resumed = wait_run(glue, "comeback-wf", out["RunId"])
    assert resumed["Status"] == "COMPLETED"
    expect_stats(resumed, TotalActions=2, SucceededActions=2)
    assert len(lines(scripts.path("comeback.log"))) == 1


def test_a_relative_data_dir_still_runs_jobs(tmp_path, monkeypatch, scripts):
    """`weir serve --data-dir data` (the README's default is relative too): job
    processes run in their own run directory, so the server must not hand them paths
    relative to its own working directory."""
    monkeypatch.chdir(tmp_path)
    server = weirtest.WeirServer(
        pathlib.Path("relative-data"), tmp_path / "relative.log", extra_args=SERVER_ARGS
    )
    server.start()
    try:
        glue = server.client()
        script = scripts.write(
            "hello",
            """
            from awsglue.utils import getResolvedOptions
            print("hello", getResolvedOptions(sys.argv, ["JOB_NAME"])["JOB_NAME"])
            """,
        )
        create_job(glue, "hello", script)
        glue.create_workflow(Name="relative")
        start_trigger(glue, "relative-start", "relative", ["hello"])
        run_id = glue.start_workflow_run(Name="relative")["RunId"]
        run = wait_run(glue, "relative", run_id)
        [job_run] = node_runs(run, "hello")
        assert job_run["JobRunState"] == "SUCCEEDED", job_run.get("ErrorMessage")
        run_dir = tmp_path / "relative-data" / "job-runs" / job_run["Id"]
        assert (run_dir / "stdout").read_text() == "hello hello\n"
        # The supervisor's exit-status file is what crash recovery relies on.
        assert (run_dir / "exit").read_text().strip() == "0"
    finally:
        server.stop()
