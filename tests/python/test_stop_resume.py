"""StopWorkflowRun and ResumeWorkflowRun through boto3 (spec §4.5, §4.6)."""

import os

from runs_helpers import (  # noqa: F401  (fixtures)
    conditional_trigger,
    create_job,
    expect_stats,
    lines,
    node_id,
    node_runs,
    scripts,
    start_trigger,
    wait_file,
    wait_job_run,
    wait_process_gone,
    wait_run,
    weir_args,
)
from weirtest import expect_error

UNKNOWN_RUN = "wr_" + "0" * 64
UNKNOWN_NODE = "wnode_" + "0" * 64


def test_stop_workflow_run_kills_the_job_and_starts_nothing_downstream(glue, scripts):
    pid_file = scripts.path("long.pid")
    create_job(
        glue,
        "long",
        scripts.write(
            "long",
            f"""
            write_pid({pid_file!r})
            time.sleep(60)
            """,
        ),
    )
    create_job(glue, "after-ok", scripts.write("after-ok", f"append({scripts.path('after-ok.log')!r}, 'ran')"))
    create_job(
        glue,
        "after-stop",
        scripts.write("after-stop", f"append({scripts.path('after-stop.log')!r}, 'ran')"),
    )
    glue.create_workflow(Name="stoppable")
    start_trigger(glue, "stoppable-start", "stoppable", ["long"])
    conditional_trigger(glue, "stoppable-ok", "stoppable", [("long", "SUCCEEDED")], ["after-ok"])
    conditional_trigger(
        glue, "stoppable-stopped", "stoppable", [("long", "STOPPED")], ["after-stop"]
    )

    run_id = glue.start_workflow_run(Name="stoppable")["RunId"]
    pid = int(wait_file(pid_file))
    running = glue.get_workflow_run(Name="stoppable", RunId=run_id, IncludeGraph=True)["Run"]
    assert running["Status"] == "RUNNING"
    assert running["Statistics"]["RunningActions"] == 1
    long_run_id = node_runs(running, "long")[0]["Id"]
    assert node_runs(running, "long")[0]["JobRunState"] == "RUNNING"

    # A RUNNING run cannot be resumed.
    expect_error(
        "IllegalWorkflowStateException",
        glue.resume_workflow_run,
        Name="stoppable",
        RunId=run_id,
        NodeIds=[node_id(running, "long")],
    )

    glue.stop_workflow_run(Name="stoppable", RunId=run_id)
    status = glue.get_workflow_run(Name="stoppable", RunId=run_id)["Run"]["Status"]
    assert status in ("STOPPING", "STOPPED")

    run = wait_run(glue, "stoppable", run_id, statuses=("STOPPED", "COMPLETED", "ERROR"))
    assert run["Status"] == "STOPPED", run
    assert run.get("CompletedOn")
    expect_stats(run, TotalActions=3, StoppedActions=1)
    (jr,) = node_runs(run, "long")
    assert jr["Id"] == long_run_id and jr["JobRunState"] == "STOPPED", jr
    assert wait_job_run(glue, "long", long_run_id)["JobRunState"] == "STOPPED"
    wait_process_gone(pid)
    # Nothing downstream started, not even the trigger watching STOPPED.
    assert node_runs(run, "after-ok") == [] and node_runs(run, "after-stop") == []
    assert lines(scripts.path("after-ok.log")) == [] and lines(scripts.path("after-stop.log")) == []
    assert glue.get_job_runs(JobName="after-stop")["JobRuns"] == []

    expect_error(
        "IllegalWorkflowStateException", glue.stop_workflow_run, Name="stoppable", RunId=run_id
    )
    expect_error(
        "EntityNotFoundException", glue.stop_workflow_run, Name="stoppable", RunId=UNKNOWN_RUN
    )
    expect_error("EntityNotFoundException", glue.stop_workflow_run, Name="nope", RunId=run_id)
    # A STOPPED run is not COMPLETED: it cannot be resumed either.
    expect_error(
        "IllegalWorkflowStateException",
        glue.resume_workflow_run,
        Name="stoppable",
        RunId=run_id,
        NodeIds=[node_id(run, "long")],
    )


def test_resume_reruns_the_failed_node_and_its_downstream_only(glue, scripts):
    marker = scripts.path("fixed")
    for job in ("r1", "r3"):
        create_job(
            glue,
            job,
            scripts.write(
                job,
                f"""
                append({scripts.path(job + '.log')!r}, ARGS["--WORKFLOW_RUN_ID"] + " " + ARGS["--JOB_RUN_ID"])
                """,
            ),
        )
    create_job(
        glue,
        "r2",
        scripts.write(
            "r2",
            f"""
            append({scripts.path('r2.log')!r}, ARGS["--WORKFLOW_RUN_ID"])
            if not os.path.exists({marker!r}):
                raise RuntimeError("the marker file is missing")
            """,
        ),
    )
    glue.create_workflow(Name="chain")
    start_trigger(glue, "chain-start", "chain", ["r1"])
    conditional_trigger(glue, "chain-2", "chain", [("r1", "SUCCEEDED")], ["r2"])
    conditional_trigger(glue, "chain-3", "chain", [("r2", "SUCCEEDED")], ["r3"])

    first_id = glue.start_workflow_run(Name="chain")["RunId"]
    first = wait_run(glue, "chain", first_id)
    assert first["Status"] == "COMPLETED"
    expect_stats(first, TotalActions=3, SucceededActions=1, FailedActions=1)
    assert node_runs(first, "r2")[0]["JobRunState"] == "FAILED"
    assert "marker file is missing" in node_runs(first, "r2")[0]["ErrorMessage"]
    assert node_runs(first, "r3") == []
    r1_run = node_runs(first, "r1")[0]
    r2_node, r3_node = node_id(first, "r2"), node_id(first, "r3")

    # Errors first (the run stays resumable).
    trigger_node = node_id(first, "chain-2", "TRIGGER")
    for bad in ([trigger_node], [UNKNOWN_NODE], [r3_node]):  # r3 was never attempted
        expect_error(
            "InvalidInputException", glue.resume_workflow_run, Name="chain", RunId=first_id, NodeIds=bad
        )
    expect_error(
        "EntityNotFoundException",
        glue.resume_workflow_run,
        Name="chain",
        RunId=UNKNOWN_RUN,
        NodeIds=[r2_node],
    )

    with open(marker, "w"):
        pass
    out = glue.resume_workflow_run(Name="chain", RunId=first_id, NodeIds=[r2_node])
    second_id = out["RunId"]
    assert second_id.startswith("wr_") and second_id != first_id
    assert out["NodeIds"] == [r2_node]
    second = wait_run(glue, "chain", second_id)
    assert second["Status"] == "COMPLETED", second
    assert second["PreviousRunId"] == first_id
    expect_stats(second, TotalActions=3, SucceededActions=3)
    assert [r["JobRunState"] for r in node_runs(second, "r2")] == ["SUCCEEDED"]
    assert [r["JobRunState"] for r in node_runs(second, "r3")] == ["SUCCEEDED"]
    # r1 was not re-run; its node carries the copied job run.
    assert lines(scripts.path("r1.log")) == [f"{first_id} {r1_run['Id']}"]
    copied = node_runs(second, "r1")
    assert [(r["Id"], r["JobRunState"]) for r in copied] == [(r1_run["Id"], "SUCCEEDED")]
    assert lines(scripts.path("r2.log")) == [first_id, second_id]
    assert [line.split()[0] for line in lines(scripts.path("r3.log"))] == [second_id]
    # The node ids are the same in every run of the workflow.
    assert {n["UniqueId"] for n in second["Graph"]["Nodes"]} == {
        n["UniqueId"] for n in first["Graph"]["Nodes"]
    }
    # The original run is unchanged.
    again = glue.get_workflow_run(Name="chain", RunId=first_id, IncludeGraph=True)["Run"]
    assert again["Status"] == "COMPLETED"
    assert node_runs(again, "r2")[0]["JobRunState"] == "FAILED"

    # A resumed run can itself be resumed. Selecting a node downstream of another selected
    # node is redundant: r3 is dropped from NodeIds (and runs once, as r2's downstream).
    out = glue.resume_workflow_run(Name="chain", RunId=second_id, NodeIds=[r2_node, r3_node])
    assert out["NodeIds"] == [r2_node]
    third_id = out["RunId"]
    third = wait_run(glue, "chain", third_id)
    assert third["Status"] == "COMPLETED" and third["PreviousRunId"] == second_id
    expect_stats(third, TotalActions=3, SucceededActions=3)
    assert [r["JobRunState"] for r in node_runs(third, "r3")] == ["SUCCEEDED"]
    assert [line.split()[0] for line in lines(scripts.path("r3.log"))] == [second_id, third_id]
    assert lines(scripts.path("r2.log"))[-1] == third_id

    # The same run can be resumed many times.
    out = glue.resume_workflow_run(Name="chain", RunId=first_id, NodeIds=[r2_node])
    assert out["NodeIds"] == [r2_node]
    fourth = wait_run(glue, "chain", out["RunId"])
    assert fourth["Status"] == "COMPLETED" and fourth["PreviousRunId"] == first_id
    expect_stats(fourth, TotalActions=3, SucceededActions=3)
    assert len(lines(scripts.path("r1.log"))) == 1  # never re-run
    assert lines(scripts.path("r2.log")) == [first_id, second_id, third_id, out["RunId"]]
    assert len(lines(scripts.path("r3.log"))) == 3

    # Resuming only the last node of a resumed run re-runs just that node.
    out = glue.resume_workflow_run(Name="chain", RunId=third_id, NodeIds=[r3_node])
    assert out["NodeIds"] == [r3_node]
    fifth = wait_run(glue, "chain", out["RunId"])
    assert fifth["Status"] == "COMPLETED" and fifth["PreviousRunId"] == third_id
    assert node_runs(fifth, "r2")[0]["Id"] == node_runs(third, "r2")[0]["Id"]  # copied
    assert len(lines(scripts.path("r2.log"))) == 4
    assert [line.split()[0] for line in lines(scripts.path("r3.log"))][-1] == out["RunId"]

    assert len(glue.get_workflow_runs(Name="chain")["Runs"]) == 5


def test_resumed_run_starts_with_the_final_properties(glue, scripts):
    marker = scripts.path("ok")
    create_job(
        glue,
        "setter",
        scripts.write(
            "setter",
            """
            glue().put_workflow_run_properties(
                Name=ARGS["--WORKFLOW_NAME"], RunId=ARGS["--WORKFLOW_RUN_ID"],
                RunProperties={"set_by": "setter"})
            """,
        ),
    )
    create_job(
        glue,
        "checker",
        scripts.write(
            "checker",
            f"""
            if not os.path.exists({marker!r}):
                raise RuntimeError("not yet")
            """,
        ),
    )
    glue.create_workflow(Name="props-resume", DefaultRunProperties={"d": "1"})
    start_trigger(glue, "pr-start", "props-resume", ["setter"])
    conditional_trigger(glue, "pr-next", "props-resume", [("setter", "SUCCEEDED")], ["checker"])
    first_id = glue.start_workflow_run(Name="props-resume")["RunId"]
    first = wait_run(glue, "props-resume", first_id)
    assert node_runs(first, "checker")[0]["JobRunState"] == "FAILED"
    glue.put_workflow_run_properties(Name="props-resume", RunId=first_id, RunProperties={"x": "y"})

    with open(marker, "w"):
        pass
    out = glue.resume_workflow_run(
        Name="props-resume", RunId=first_id, NodeIds=[node_id(first, "checker")]
    )
    second = wait_run(glue, "props-resume", out["RunId"])
    assert second["Status"] == "COMPLETED"
    assert node_runs(second, "checker")[0]["JobRunState"] == "SUCCEEDED"
    assert second["WorkflowRunProperties"] == {"d": "1", "set_by": "setter", "x": "y"}


def test_stop_before_a_job_starts_and_stop_of_unknown_workflow(glue, scripts):
    """Stop while the first job is still running, then check the run's job can be
    started again by a new run (the stopped one freed its slot)."""
    pid_file = scripts.path("p.pid")
    create_job(
        glue,
        "pj",
        scripts.write(
            "pj",
            f"""
            write_pid({pid_file!r})
            time.sleep(60)
            """,
        ),
    )
    glue.create_workflow(Name="twice")
    start_trigger(glue, "twice-start", "twice", ["pj"])
    first = glue.start_workflow_run(Name="twice")["RunId"]
    pid = int(wait_file(pid_file))
    glue.stop_workflow_run(Name="twice", RunId=first)
    assert wait_run(glue, "twice", first)["Status"] == "STOPPED"
    wait_process_gone(pid)

    os.remove(pid_file)
    second = glue.start_workflow_run(Name="twice")["RunId"]
    pid = int(wait_file(pid_file))
    run = glue.get_workflow_run(Name="twice", RunId=second, IncludeGraph=True)["Run"]
    assert node_runs(run, "pj")[0]["JobRunState"] == "RUNNING"
    glue.stop_workflow_run(Name="twice", RunId=second)
    assert wait_run(glue, "twice", second)["Status"] == "STOPPED"
    wait_process_gone(pid)
