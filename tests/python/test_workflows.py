"""Create/Get/Update/Delete/BatchGet workflows through boto3 (spec §3, §4.1, Appendix A.1)."""

import datetime
import time

import pytest

from weirtest import expect_error


def now():
    return datetime.datetime.now(datetime.timezone.utc)


def wait_for_clock_past(moment: datetime.datetime) -> None:
    """Poll the clock (bounded) until it is 10 ms past a server timestamp, so the next write
    cannot share its millisecond."""
    target = moment + datetime.timedelta(milliseconds=10)
    deadline = time.monotonic() + 2
    while now() < target:
        assert time.monotonic() < deadline, f"server timestamp {moment} is in the future"
        time.sleep(0.002)


def test_create_then_get_returns_every_member(glue):
    before = now() - datetime.timedelta(seconds=1)
    out = glue.create_workflow(
        Name="nightly-etl",
        Description="Loads the warehouse every night",
        DefaultRunProperties={"env": "prod", "batch size": "500"},
        Tags={"team": "data"},
        MaxConcurrentRuns=2,
    )
    assert out["Name"] == "nightly-etl"

    wf = glue.get_workflow(Name="nightly-etl")["Workflow"]
    after = now() + datetime.timedelta(seconds=1)
    assert wf["Name"] == "nightly-etl"
    assert wf["Description"] == "Loads the warehouse every night"
    assert wf["DefaultRunProperties"] == {"env": "prod", "batch size": "500"}
    assert wf["MaxConcurrentRuns"] == 2
    # botocore turns epoch-second numbers into aware datetimes.
    assert isinstance(wf["CreatedOn"], datetime.datetime) and wf["CreatedOn"].tzinfo
    assert before <= wf["CreatedOn"] <= after
    assert wf["CreatedOn"] <= wf["LastModifiedOn"] <= after
    assert "LastRun" not in wf


def test_create_with_name_only(glue):
    glue.create_workflow(Name="bare")
    wf = glue.get_workflow(Name="bare")["Workflow"]
    assert wf["Name"] == "bare"
    assert "Description" not in wf
    assert not wf.get("DefaultRunProperties")
    assert "MaxConcurrentRuns" not in wf  # absent means unlimited


def test_duplicate_is_already_exists_and_keeps_the_original(glue):
    glue.create_workflow(Name="dup", Description="first")
    with pytest.raises(glue.exceptions.AlreadyExistsException):
        glue.create_workflow(Name="dup", Description="second")
    expect_error("AlreadyExistsException", glue.create_workflow, Name="dup")
    assert glue.get_workflow(Name="dup")["Workflow"]["Description"] == "first"


def test_get_missing_is_entity_not_found(glue):
    with pytest.raises(glue.exceptions.EntityNotFoundException) as info:
        glue.get_workflow(Name="nope")
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert info.value.response["Error"]["Message"]


def test_update_is_partial_and_moves_last_modified(glue):
    glue.create_workflow(
        Name="wf", Description="v1", DefaultRunProperties={"k": "v1"}, MaxConcurrentRuns=3
    )
    original = glue.get_workflow(Name="wf")["Workflow"]
    wait_for_clock_past(original["LastModifiedOn"])

    assert glue.update_workflow(Name="wf", Description="v2")["Name"] == "wf"
    wf = glue.get_workflow(Name="wf")["Workflow"]
    assert wf["Description"] == "v2"
    assert wf["DefaultRunProperties"] == {"k": "v1"}
    assert wf["MaxConcurrentRuns"] == 3
    assert wf["CreatedOn"] == original["CreatedOn"]
    assert wf["LastModifiedOn"] > original["LastModifiedOn"]

    glue.update_workflow(Name="wf", MaxConcurrentRuns=1)
    wf = glue.get_workflow(Name="wf")["Workflow"]
    assert (wf["Description"], wf["MaxConcurrentRuns"]) == ("v2", 1)
    assert wf["DefaultRunProperties"] == {"k": "v1"}

    glue.update_workflow(Name="wf", DefaultRunProperties={"other": "x"})
    wf = glue.get_workflow(Name="wf")["Workflow"]
    assert wf["DefaultRunProperties"] == {"other": "x"}
    assert (wf["Description"], wf["MaxConcurrentRuns"]) == ("v2", 1)


def test_update_missing_is_entity_not_found(glue):
    expect_error("EntityNotFoundException", glue.update_workflow, Name="ghost", Description="x")
    expect_error("EntityNotFoundException", glue.get_workflow, Name="ghost")


def test_delete_echoes_name_and_is_idempotent(glue):
    glue.create_workflow(Name="doomed", Description="old")
    assert glue.delete_workflow(Name="doomed")["Name"] == "doomed"
    expect_error("EntityNotFoundException", glue.get_workflow, Name="doomed")
    assert glue.delete_workflow(Name="doomed")["Name"] == "doomed"
    assert glue.delete_workflow(Name="never-existed")["Name"] == "never-existed"
    glue.create_workflow(Name="doomed")
    assert "Description" not in glue.get_workflow(Name="doomed")["Workflow"]


def test_batch_get_found_and_missing(glue):
    glue.create_workflow(Name="a", Description="first")
    glue.create_workflow(Name="b", MaxConcurrentRuns=4)
    out = glue.batch_get_workflows(Names=["a", "missing-1", "b", "missing-2"])
    found = {w["Name"]: w for w in out["Workflows"]}
    assert sorted(found) == ["a", "b"]
    assert found["a"]["Description"] == "first"
    assert found["b"]["MaxConcurrentRuns"] == 4
    assert isinstance(found["a"]["CreatedOn"], datetime.datetime)
    assert sorted(out["MissingWorkflows"]) == ["missing-1", "missing-2"]


def test_batch_get_size_limits(glue, glue_unvalidated):
    names = [f"n{i:02d}" for i in range(26)]
    glue.create_workflow(Name="n00")
    out = glue.batch_get_workflows(Names=names[:25])
    assert len(out["Workflows"]) == 1 and len(out["MissingWorkflows"]) == 24
    expect_error("InvalidInputException", glue.batch_get_workflows, Names=names)
    # botocore itself refuses an empty list (min 1); the server must too.
    expect_error("InvalidInputException", glue_unvalidated.batch_get_workflows, Names=[])
