"""Data Catalog connections through boto3 and the AWS CLI (server: operations/connections.rs,
resources/connection.rs): create, get with and without HidePassword, list with filters and
paging, update (also renaming), delete, batch delete, tags on connection ARNs, and a job
whose connection is missing failing its run at start, and a script reading a connection's
JDBC settings (GlueContext.extract_jdbc_conf's helper) through GetConnection."""

import json

from runs_helpers import (  # noqa: F401  (fixtures)
    create_job,
    scripts,
    wait_job_run,
    weir_args,
)
from weirtest import ACCOUNT_ID, REGION, expect_error

URL = "jdbc:postgresql://db.example:5432/sales"


def jdbc_input(name: str, **extra) -> dict:
    return {
        "Name": name,
        "ConnectionType": "JDBC",
        "ConnectionProperties": {
            "JDBC_CONNECTION_URL": URL,
            "USERNAME": "etl",
            "PASSWORD": "s3cret",
        },
        **extra,
    }


def test_create_get_and_hide_password(glue):
    out = glue.create_connection(
        ConnectionInput=jdbc_input("pg", Description="sales db", MatchCriteria=["sales"])
    )
    assert out["CreateConnectionStatus"] == "READY"
    connection = glue.get_connection(Name="pg")["Connection"]
    assert connection["Name"] == "pg"
    assert connection["ConnectionType"] == "JDBC"
    assert connection["Description"] == "sales db"
    assert connection["MatchCriteria"] == ["sales"]
    assert connection["ConnectionProperties"] == {
        "JDBC_CONNECTION_URL": URL,
        "USERNAME": "etl",
        "PASSWORD": "s3cret",
    }
    assert connection["CreationTime"] and connection["LastUpdatedTime"]

    hidden = glue.get_connection(Name="pg", HidePassword=True)["Connection"]
    assert hidden["ConnectionProperties"] == {"JDBC_CONNECTION_URL": URL, "USERNAME": "etl"}

    error = expect_error("AlreadyExistsException", glue.create_connection,
                         ConnectionInput=jdbc_input("pg"))
    assert "pg" in error.response["Error"]["Message"]
    error = expect_error("EntityNotFoundException", glue.get_connection, Name="nope")
    assert "nope" in error.response["Error"]["Message"]


def test_invalid_connections_are_rejected(glue):
    no_url = {"Name": "bad", "ConnectionType": "JDBC",
              "ConnectionProperties": {"USERNAME": "u", "PASSWORD": "p"}}
    expect_error("InvalidInputException", glue.create_connection, ConnectionInput=no_url)
    unknown_key = jdbc_input("bad2")
    unknown_key["ConnectionProperties"]["NOT_A_KEY"] = "x"
    expect_error("InvalidInputException", glue.create_connection, ConnectionInput=unknown_key)
    expect_error("EntityNotFoundException", glue.get_connection, Name="bad")


def test_get_connections_filters_and_pages(glue):
    for i in range(5):
        glue.create_connection(ConnectionInput=jdbc_input(f"jdbc-{i}", MatchCriteria=["nightly"]))
    glue.create_connection(ConnectionInput={
        "Name": "net", "ConnectionType": "NETWORK", "ConnectionProperties": {},
        "MatchCriteria": ["nightly", "vpc"],
    })

    names, token = [], None
    while True:
        kwargs = {"MaxResults": 2, "HidePassword": True}
        if token:
            kwargs["NextToken"] = token
        page = glue.get_connections(**kwargs)
        assert len(page["ConnectionList"]) <= 2
        for connection in page["ConnectionList"]:
            assert "PASSWORD" not in connection["ConnectionProperties"]
            names.append(connection["Name"])
        token = page.get("NextToken")
        if not token:
            break
    assert names == [f"jdbc-{i}" for i in range(5)] + ["net"]

    jdbc = glue.get_connections(Filter={"ConnectionType": "JDBC"})["ConnectionList"]
    assert [c["Name"] for c in jdbc] == [f"jdbc-{i}" for i in range(5)]
    assert jdbc[0]["ConnectionProperties"]["PASSWORD"] == "s3cret"
    vpc = glue.get_connections(Filter={"MatchCriteria": ["vpc"]})["ConnectionList"]
    assert [c["Name"] for c in vpc] == ["net"]
    both = glue.get_connections(Filter={"MatchCriteria": ["nightly", "vpc"],
                                        "ConnectionType": "JDBC"})["ConnectionList"]
    assert both == []


def test_update_replaces_and_renames(glue):
    glue.create_connection(ConnectionInput=jdbc_input("old"))
    created = glue.get_connection(Name="old")["Connection"]["CreationTime"]
    replacement = jdbc_input("old", Description="moved")
    replacement["ConnectionProperties"]["JDBC_CONNECTION_URL"] = "jdbc:mysql://other:3306/x"
    glue.update_connection(Name="old", ConnectionInput=replacement)
    updated = glue.get_connection(Name="old")["Connection"]
    assert updated["Description"] == "moved"
    assert updated["ConnectionProperties"]["JDBC_CONNECTION_URL"] == "jdbc:mysql://other:3306/x"
    assert updated["CreationTime"] == created

    glue.update_connection(Name="old", ConnectionInput=jdbc_input("new"))
    assert glue.get_connection(Name="new")["Connection"]["Name"] == "new"
    expect_error("EntityNotFoundException", glue.get_connection, Name="old")
    expect_error("EntityNotFoundException", glue.update_connection, Name="old",
                 ConnectionInput=jdbc_input("old"))


def test_delete_and_batch_delete(glue):
    for name in ("a", "b", "c"):
        glue.create_connection(ConnectionInput=jdbc_input(name))
    glue.delete_connection(ConnectionName="a")
    expect_error("EntityNotFoundException", glue.get_connection, Name="a")
    expect_error("EntityNotFoundException", glue.delete_connection, ConnectionName="a")

    out = glue.batch_delete_connection(ConnectionNameList=["b", "missing", "c"])
    assert out["Succeeded"] == ["b", "c"]
    assert list(out["Errors"]) == ["missing"]
    assert out["Errors"]["missing"]["ErrorCode"] == "EntityNotFoundException"
    assert glue.get_connections()["ConnectionList"] == []


def test_tags_on_connection_arns(glue):
    glue.create_connection(ConnectionInput=jdbc_input("tagged"), Tags={"team": "data"})
    arn = f"arn:aws:glue:{REGION}:{ACCOUNT_ID}:connection/tagged"
    assert glue.get_tags(ResourceArn=arn)["Tags"] == {"team": "data"}
    glue.tag_resource(ResourceArn=arn, TagsToAdd={"env": "prod"})
    assert glue.get_tags(ResourceArn=arn)["Tags"] == {"team": "data", "env": "prod"}


def test_the_aws_cli_manages_connections(aws_cli):
    aws_cli("glue", "create-connection", "--connection-input",
            '{"Name":"cli","ConnectionType":"JDBC","ConnectionProperties":'
            '{"JDBC_CONNECTION_URL":"jdbc:postgresql://h/db","USERNAME":"u","PASSWORD":"p"}}')
    got = aws_cli("glue", "get-connection", "--name", "cli", "--hide-password")
    assert got["Connection"]["ConnectionProperties"] == {
        "JDBC_CONNECTION_URL": "jdbc:postgresql://h/db", "USERNAME": "u"}
    listed = aws_cli("glue", "get-connections", "--filter", "ConnectionType=JDBC")
    assert [c["Name"] for c in listed["ConnectionList"]] == ["cli"]
    aws_cli("glue", "update-connection", "--name", "cli", "--connection-input",
            '{"Name":"cli","ConnectionType":"JDBC","Description":"d","ConnectionProperties":'
            '{"JDBC_CONNECTION_URL":"jdbc:postgresql://h/db2"}}')
    assert aws_cli("glue", "get-connection", "--name", "cli")["Connection"]["Description"] == "d"
    out = aws_cli("glue", "batch-delete-connection", "--connection-name-list", "cli", "gone")
    assert out["Succeeded"] == ["cli"] and list(out["Errors"]) == ["gone"]
    aws_cli("glue", "create-connection", "--connection-input",
            '{"Name":"cli2","ConnectionType":"NETWORK","ConnectionProperties":{}}')
    aws_cli("glue", "delete-connection", "--connection-name", "cli2")
    assert aws_cli("glue", "get-connections")["ConnectionList"] == []


def test_a_run_whose_connection_is_missing_fails_at_start(glue, scripts, tmp_path):
    marker = tmp_path / "ran"
    script = scripts.write("uses_db", f"append({str(marker)!r}, 'ran')\n")
    glue.create_connection(ConnectionInput=jdbc_input("present"))
    create_job(glue, "needs-db", script, Connections={"Connections": ["present", "absent"]})
    run_id = glue.start_job_run(JobName="needs-db")["JobRunId"]
    run = wait_job_run(glue, "needs-db", run_id)
    assert run["JobRunState"] == "FAILED"
    assert "absent" in run["ErrorMessage"]
    assert not marker.exists(), "the script never ran"

    glue.create_connection(ConnectionInput=jdbc_input("absent"))
    run_id = glue.start_job_run(JobName="needs-db")["JobRunId"]
    assert wait_job_run(glue, "needs-db", run_id)["JobRunState"] == "SUCCEEDED"
    assert marker.read_text() == "ran\n"


def test_scripts_read_a_connections_jdbc_settings(glue, scripts, tmp_path):
    out = tmp_path / "conf.json"
    script = scripts.write("jdbc_conf", f"""
        from awsglue import _weir  # GlueContext.extract_jdbc_conf, without Spark
        with open({str(out)!r}, "w") as f:
            json.dump(_weir.jdbc_conf("pg"), f)
    """)
    glue.create_connection(ConnectionInput=jdbc_input("pg"))
    create_job(glue, "reads-conf", script, Connections={"Connections": ["pg"]})
    run_id = glue.start_job_run(JobName="reads-conf")["JobRunId"]
    run = wait_job_run(glue, "reads-conf", run_id)
    assert run["JobRunState"] == "SUCCEEDED", run.get("ErrorMessage")
    conf = json.loads(out.read_text())
    assert conf["fullUrl"] == URL
    assert conf["url"] == "jdbc:postgresql://db.example:5432"
    assert conf["vendor"] == "postgresql"
    assert (conf["user"], conf["password"]) == ("etl", "s3cret")
