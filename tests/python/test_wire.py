"""Wire details clients depend on (spec §1.3, §1.4): request ids, error headers."""

import time

import pytest

from weirtest import expect_error


def test_request_id_on_success(glue):
    first = glue.create_workflow(Name="wf")["ResponseMetadata"]
    second = glue.get_workflow(Name="wf")["ResponseMetadata"]
    assert first["HTTPStatusCode"] == 200
    assert first["RequestId"] and second["RequestId"]
    assert first["RequestId"] != second["RequestId"]
    assert first["HTTPHeaders"]["content-type"].startswith("application/x-amz-json-1.1")


def test_request_id_and_error_type_on_error(glue):
    err = expect_error("EntityNotFoundException", glue.get_workflow, Name="missing")
    meta = err.response["ResponseMetadata"]
    assert meta["RequestId"]
    # botocore ignores x-amzn-ErrorType for awsJson, but aws-sdk-rust prefers it: it must agree.
    assert meta["HTTPHeaders"]["x-amzn-errortype"].split(":")[0] == "EntityNotFoundException"


@pytest.mark.parametrize(
    "target, body, code",
    [
        ("AWSGlue.GetWorkflow", b'{"Name":"missing"}', "EntityNotFoundException"),
        ("AWSGlue.ListWorkflows", b'{"MaxResults":26}', "InvalidInputException"),
        ("AWSGlue.GetWorkflow", b"{", "SerializationException"),
        ("AWSGlue.Nope", b"{}", "UnknownOperationException"),
    ],
)
def test_raw_error_headers(weir, target, body, code):
    resp = weir.raw(target, body)
    resp.assert_error(code)
    assert resp.headers["content-type"].startswith("application/x-amz-json-1.1")


def test_timestamps_are_epoch_second_numbers(weir):
    weir.raw("AWSGlue.CreateWorkflow", b'{"Name":"wf"}')
    workflow = weir.raw("AWSGlue.GetWorkflow", b'{"Name":"wf"}').json()["Workflow"]
    for member in ("CreatedOn", "LastModifiedOn"):
        value = workflow[member]
        assert isinstance(value, (int, float)) and not isinstance(value, bool), value
        assert abs(time.time() - value) < 120, f"{member}={value} is not epoch seconds"
