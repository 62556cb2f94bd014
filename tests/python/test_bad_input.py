"""Bad input, one test per class (spec §1.2, §1.4, §1.5, §2): each answer is a 400 AWS JSON
error with the right code, never a 500 or a dropped connection."""

import json

import pytest

from weirtest import expect_error, workflow_arn

UNKNOWN_OPERATION = "UnknownOperationException"
SERIALIZATION = "SerializationException"
INVALID_INPUT = "InvalidInputException"


def test_raw_control_request_succeeds(weir):
    resp = weir.raw("AWSGlue.CreateWorkflow", b'{"Name":"raw"}')
    assert resp.status == 200, resp.body
    assert resp.json() == {"Name": "raw"}


def test_missing_required_member(weir, glue_unvalidated):
    expect_error(INVALID_INPUT, glue_unvalidated.create_workflow)
    expect_error(INVALID_INPUT, glue_unvalidated.get_workflow)
    expect_error(INVALID_INPUT, glue_unvalidated.tag_resource, ResourceArn=workflow_arn("x"))
    weir.raw("AWSGlue.CreateWorkflow", b"{}").assert_error(INVALID_INPUT)


def test_too_long(glue):
    err = expect_error(INVALID_INPUT, glue.create_workflow, Name="n" * 256)
    assert "255" in err.response["Error"]["Message"]
    expect_error(INVALID_INPUT, glue.create_workflow, Name="wf", Description="d" * 120_001)
    expect_error(INVALID_INPUT, glue.tag_resource, ResourceArn=workflow_arn("wf"), TagsToAdd={"k" * 129: "v"})
    glue.create_workflow(Name="n" * 255, Description="d" * 120_000)


@pytest.mark.parametrize("name", ["line\nbreak", "carriage\rreturn", "nul\x00byte"])
def test_pattern_violation(glue, name):
    expect_error(INVALID_INPUT, glue.create_workflow, Name=name)
    assert glue.list_workflows().get("Workflows", []) == []


def test_pattern_allows_tab_and_unicode(glue):
    glue.create_workflow(Name="tab\there ünïcödé 🚀")
    assert glue.list_workflows()["Workflows"] == ["tab\there ünïcödé 🚀"]


def test_enum_violation(glue):
    # botocore does not validate enums; the server must.
    expect_error(
        INVALID_INPUT, glue.create_trigger, Name="t", Type="BOGUS", Actions=[{"JobName": "job"}]
    )


def test_range_violation(glue):
    glue.create_workflow(Name="wf")
    expect_error(INVALID_INPUT, glue.get_workflow_runs, Name="wf", MaxResults=1001)


def test_list_size_violation(glue):
    glue.create_workflow(Name="wf")
    expect_error(INVALID_INPUT, glue.batch_get_workflows, Names=[f"w{i}" for i in range(26)])
    expect_error(
        INVALID_INPUT,
        glue.tag_resource,
        ResourceArn=workflow_arn("wf"),
        TagsToAdd={f"k{i}": "v" for i in range(51)},
    )


@pytest.mark.parametrize(
    "body",
    [
        {"Name": 5},
        {"Name": ["wf"]},
        {"Name": "wf", "MaxConcurrentRuns": "2"},
        {"Name": "wf", "Tags": ["a"]},
    ],
)
def test_wrong_json_type(weir, glue, body):
    weir.raw("AWSGlue.CreateWorkflow", json.dumps(body).encode()).assert_error(SERIALIZATION)
    expect_error("EntityNotFoundException", glue.get_workflow, Name="wf")


@pytest.mark.parametrize("body", [b"not json", b'{"Name":', b"[]", b'"wf"'])
def test_non_json_body(weir, body):
    weir.raw("AWSGlue.GetWorkflow", body).assert_error(SERIALIZATION)


@pytest.mark.parametrize("target", ["AWSGlue.NoSuchOperation", "NotGlue.GetWorkflow", None])
def test_unknown_target(weir, target):
    weir.raw(target, b'{"Name":"wf"}').assert_error(UNKNOWN_OPERATION)


def test_unimplemented_operation(weir):
    body = {
        "Name": "t",
        "InputRecordTables": [{"DatabaseName": "d", "TableName": "t"}],
        "Parameters": {"TransformType": "FIND_MATCHES"},
        "Role": "arn:aws:iam::123456789012:role/r",
    }
    code = weir.raw("AWSGlue.CreateMLTransform", json.dumps(body).encode()).assert_error(None)
    assert code not in (UNKNOWN_OPERATION, SERIALIZATION)


def test_oversized_body(weir, glue):
    body = json.dumps({"Name": "big", "Description": "x" * (11 * 1024 * 1024)}).encode()
    weir.raw("AWSGlue.CreateWorkflow", body).assert_error(None, statuses=(400, 413))
    expect_error("EntityNotFoundException", glue.get_workflow, Name="big")
    glue.create_workflow(Name="small")  # still serving
