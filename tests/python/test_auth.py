"""SigV4 authentication (spec §1.5-1.6) with boto3, the AWS CLI and a raw signing
requester: good credentials work; each kind of bad request gets its 400 error."""

import datetime
import json

import botocore
import pytest

import weirtest
from weirtest import ACCESS_KEY, SECRET_KEY, CliError, Signer, expect_error

MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. Consult the service "
    "documentation for details."
)
LIST = ("AWSGlue.ListWorkflows", b"{}")


def message(response) -> str:
    return response.json()["Message"]


def test_boto3_with_the_development_credentials_works(glue):
    glue.create_workflow(Name="mine")
    assert glue.list_workflows()["Workflows"] == ["mine"]


def test_boto3_with_a_wrong_secret_is_invalid_signature(weir):
    client = weir.client_as(ACCESS_KEY, "not-the-secret")
    err = expect_error("InvalidSignatureException", client.list_workflows)
    assert err.response["Error"]["Message"] == MISMATCH


def test_boto3_with_an_unknown_key_is_unrecognized_client(weir):
    client = weir.client_as("AKIDNOBODY", SECRET_KEY)
    err = expect_error("UnrecognizedClientException", client.get_workflow, Name="x")
    assert err.response["Error"]["Message"] == "The security token included in the request is invalid."


def test_boto3_unsigned_is_missing_authentication_token(weir):
    client = weir.client(signature_version=botocore.UNSIGNED)
    err = expect_error("MissingAuthenticationTokenException", client.list_workflows)
    assert err.response["Error"]["Message"] == "Missing Authentication Token"


def test_raw_tampered_body_is_invalid_signature(weir):
    response = weir.raw(*LIST, tamper_body=b'{"MaxResults": 1}')
    response.assert_error("InvalidSignatureException")
    assert message(response) == MISMATCH


@pytest.mark.parametrize("header, value", [
    ("X-Amz-Target", "AWSGlue.DeleteWorkflow"),
    ("Content-Type", "application/json"),
])
def test_raw_tampered_signed_header_is_invalid_signature(weir, header, value):
    weir.raw(*LIST, tamper_headers={header: value}).assert_error("InvalidSignatureException")


def test_raw_unsigned_extra_header_is_fine(weir):
    # Headers outside SignedHeaders do not matter (proxies add such headers).
    response = weir.raw(*LIST, tamper_headers={"X-Forwarded-For": "10.0.0.1"})
    assert response.status == 200, response.body


def test_raw_request_dated_twenty_minutes_ago_is_expired(weir):
    when = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=20)
    response = weir.raw(*LIST, signer=Signer(when=when))
    response.assert_error("InvalidSignatureException")
    text = message(response)
    assert text.startswith("Signature expired: " + when.strftime("%Y%m%dT%H%M%SZ")), text
    assert " is now earlier than " in text and text.endswith(" - 5 min.)"), text


def test_raw_request_dated_twenty_minutes_ahead_is_not_yet_current(weir):
    when = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=20)
    response = weir.raw(*LIST, signer=Signer(when=when))
    response.assert_error("InvalidSignatureException")
    assert message(response).startswith("Signature not yet current: ")


def test_raw_scope_of_another_service_is_invalid_signature(weir):
    response = weir.raw(*LIST, signer=Signer(service="s3"))
    response.assert_error("InvalidSignatureException")
    assert "Credential should be scoped to correct service: 'glue'." in message(response)


def test_raw_without_authorization_and_with_garbage(weir):
    response = weir.raw(*LIST, signer=None)
    response.assert_error("MissingAuthenticationTokenException")
    assert message(response) == "Missing Authentication Token"
    weir.raw(*LIST, tamper_headers={"Authorization": "AWS4-HMAC-SHA256 Credential=x"}).assert_error(
        "IncompleteSignatureException"
    )
    weir.raw(*LIST, tamper_headers={"X-Amz-Date": "yesterday"}).assert_error(
        "IncompleteSignatureException"
    )


def test_raw_wrong_secret_and_unknown_key(weir):
    weir.raw(*LIST, signer=Signer(secret_key="wrong")).assert_error("InvalidSignatureException")
    weir.raw(*LIST, signer=Signer(access_key="AKIDNOBODY")).assert_error("UnrecognizedClientException")


def test_region_of_the_scope_is_the_region_of_the_request(weir, glue):
    paris = weir.client_as(ACCESS_KEY, SECRET_KEY, region="eu-west-3")
    paris.create_workflow(Name="in-paris", Tags={"city": "paris"})
    assert paris.list_workflows()["Workflows"] == ["in-paris"]
    assert glue.list_workflows()["Workflows"] == []
    arn = "arn:aws:glue:eu-west-3:123456789012:workflow/in-paris"
    assert paris.get_tags(ResourceArn=arn)["Tags"] == {"city": "paris"}
    expect_error("EntityNotFoundException", glue.get_tags, ResourceArn=arn)


# -- AWS CLI ------------------------------------------------------------------------------
def test_cli_with_the_development_credentials_works(weir, aws_cli):
    aws_cli("glue", "create-workflow", "--name", "from-cli")
    assert aws_cli("glue", "list-workflows")["Workflows"] == ["from-cli"]


def test_cli_with_a_wrong_secret_fails_with_invalid_signature(weir):
    with pytest.raises(CliError) as info:
        weirtest.run_aws_cli(
            weir.endpoint, "glue", "list-workflows", env={"AWS_SECRET_ACCESS_KEY": "wrong"}
        )
    assert "InvalidSignatureException" in info.value.stderr, info.value.stderr


def test_cli_with_an_unknown_key_fails_with_unrecognized_client(weir):
    with pytest.raises(CliError) as info:
        weirtest.run_aws_cli(
            weir.endpoint, "glue", "list-workflows", env={"AWS_ACCESS_KEY_ID": "AKIDNOBODY"}
        )
    assert "UnrecognizedClientException" in info.value.stderr, info.value.stderr


def test_cli_no_sign_request_fails_with_missing_token(weir):
    with pytest.raises(CliError) as info:
        weirtest.run_aws_cli(weir.endpoint, "glue", "list-workflows", "--no-sign-request")
    assert "MissingAuthenticationTokenException" in info.value.stderr, info.value.stderr


# -- --no-auth ----------------------------------------------------------------------------
class TestNoAuth:
    @pytest.fixture
    def weir_args(self):
        return ["--no-auth"]

    def test_anything_goes_in_the_default_account(self, weir):
        unsigned = weir.client(signature_version=botocore.UNSIGNED)
        unsigned.create_workflow(Name="anon")
        stranger = weir.client_as("AKIDSTRANGER", "nonsense")
        assert stranger.list_workflows()["Workflows"] == ["anon"]
        assert stranger.get_tags(ResourceArn=weirtest.workflow_arn("anon"))["Tags"] == {}
        assert "AUTHENTICATION IS DISABLED" in weir.log_text()


def test_cli_no_sign_request_works_with_no_auth(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    server = weirtest.WeirServer(data, tmp_path / "weir.log", extra_args=["--no-auth"])
    server.start()
    try:
        weirtest.run_aws_cli(server.endpoint, "glue", "create-workflow", "--name", "x", "--no-sign-request")
        out = weirtest.run_aws_cli(server.endpoint, "glue", "list-workflows", "--no-sign-request")
        assert out["Workflows"] == ["x"]
    finally:
        server.stop()


def test_a_network_address_without_credentials_is_refused(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    server = weirtest.WeirServer(data, tmp_path / "weir.log")
    with pytest.raises(RuntimeError):
        server.start("0.0.0.0:0")
    assert "refusing to listen on 0.0.0.0:0" in server.log_text()


def test_credentials_file_with_a_session_token(tmp_path):
    path = tmp_path / "credentials.json"
    path.write_text(json.dumps({"credentials": [{
        "access_key_id": "ASIAWEIRTEMP",
        "secret_access_key": "temp-secret",
        "account_id": "333333333333",
        "session_token": "the-token",
    }]}))
    data = tmp_path / "data"
    data.mkdir()
    server = weirtest.WeirServer(data, tmp_path / "weir.log", extra_args=["--credentials", str(path)])
    server.start()
    try:
        good = server.client_as("ASIAWEIRTEMP", "temp-secret", session_token="the-token")
        good.create_workflow(Name="temp")
        arn = "arn:aws:glue:us-east-1:333333333333:workflow/temp"
        assert good.get_tags(ResourceArn=arn)["Tags"] == {}
        expect_error("UnrecognizedClientException",
                     server.client_as("ASIAWEIRTEMP", "temp-secret").list_workflows)
        expect_error("UnrecognizedClientException",
                     server.client_as("ASIAWEIRTEMP", "temp-secret", session_token="x").list_workflows)
        # With a credentials file the development pair is not accepted.
        expect_error("UnrecognizedClientException", server.client().list_workflows)
    finally:
        server.stop()
