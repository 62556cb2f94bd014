"""Jobs as resources through boto3 (spec §6.1, Appendix A.4; server: operations/jobs.rs,
resources/job.rs): CreateJob with AWS's defaults, every member echoed, UpdateJob as a
whole replacement, idempotent DeleteJob, GetJob/GetJobs/ListJobs/BatchGetJobs with
pagination and tag filters, and tags on job ARNs."""

import datetime
import time

import pytest

from weirtest import ACCOUNT_ID, REGION, expect_error


@pytest.fixture
def weir_args():
    """A manual clock: updates are made distinct in time by advancing it, not by sleeping."""
    return ["--manual-clock", "now"]

ROLE = "arn:aws:iam::123456789012:role/GlueJobRole"
SCRIPT = "s3://scripts-bucket/etl/main.py"


def job_arn(name: str) -> str:
    return f"arn:aws:glue:{REGION}:{ACCOUNT_ID}:job/{name}"


def make_job(glue, name: str, command: str = "glueetl", **members) -> None:
    out = glue.create_job(
        Name=name,
        Role=ROLE,
        Command={"Name": command, "ScriptLocation": SCRIPT},
        **members,
    )
    assert out["Name"] == name


def get_job(glue, name: str) -> dict:
    return glue.get_job(JobName=name)["Job"]


def now(weir) -> datetime.datetime:
    """The server's (manual) clock: timestamps it writes read exactly this."""
    return datetime.datetime.fromtimestamp(weir.advance_clock(0) / 1000, datetime.timezone.utc)


# -- CreateJob / GetJob ----------------------------------------------------------------------
def test_create_with_required_members_only_fills_aws_defaults(weir, glue):
    before = now(weir) - datetime.timedelta(seconds=2)
    out = glue.create_job(Name="etl", Role=ROLE, Command={"Name": "glueetl", "ScriptLocation": SCRIPT})
    assert out["Name"] == "etl"
    job = get_job(glue, "etl")
    after = now(weir) + datetime.timedelta(seconds=2)

    assert job["Name"] == "etl"
    assert job["Role"] == ROLE
    assert job["Command"] == {"Name": "glueetl", "ScriptLocation": SCRIPT}
    # The server's documented defaults (resources/job.rs).
    assert job["JobMode"] == "SCRIPT"
    assert job["ExecutionProperty"] == {"MaxConcurrentRuns": 1}
    assert job["MaxRetries"] == 0
    assert job["GlueVersion"] == "6.0"
    assert job["Timeout"] == 480, "Glue 5.0+ jobs default to 480 minutes"
    assert before <= job["CreatedOn"] <= after
    assert job["LastModifiedOn"] == job["CreatedOn"]
    for absent in ("Description", "DefaultArguments", "NonOverridableArguments", "WorkerType",
                   "NumberOfWorkers", "MaxCapacity", "SecurityConfiguration"):
        assert absent not in job, f"{absent} was not set and must be omitted: {job}"


@pytest.mark.parametrize(
    "command, extra, glue_version, timeout, python_version",
    [
        # Glue 4.0 and earlier: Timeout 2880 minutes (48 hours).
        ("glueetl", {"GlueVersion": "4.0"}, "4.0", 2880, None),
        ("glueetl", {"GlueVersion": "3.0"}, "3.0", 2880, None),
        ("glueetl", {"GlueVersion": "5.0"}, "5.0", 480, None),
        # Python shell: PythonVersion 3 and Glue 1.0 unless 3.9 (then 3.0).
        ("pythonshell", {}, "1.0", 2880, "3"),
        ("glueray", {}, "4.0", 2880, None),
        # Streaming jobs have no timeout unless one is set.
        ("gluestreaming", {}, "6.0", None, None),
    ],
)
def test_defaults_per_command_and_glue_version(glue, command, extra, glue_version, timeout, python_version):
    make_job(glue, "j", command=command, **extra)
    job = get_job(glue, "j")
    assert job["Command"]["Name"] == command
    assert job["GlueVersion"] == glue_version
    assert job.get("Timeout") == timeout
    assert job["Command"].get("PythonVersion") == python_version
    assert job["MaxRetries"] == 0
    assert job["ExecutionProperty"]["MaxConcurrentRuns"] == 1


def test_pythonshell_39_defaults_to_glue_30(glue):
    glue.create_job(
        Name="shell39",
        Role=ROLE,
        Command={"Name": "pythonshell", "ScriptLocation": SCRIPT, "PythonVersion": "3.9"},
    )
    job = get_job(glue, "shell39")
    assert job["Command"]["PythonVersion"] == "3.9"
    assert job["GlueVersion"] == "3.0"


def test_every_member_a_user_sets_is_echoed(glue):
    members = dict(
        Name="full",
        JobMode="VISUAL",
        JobRunQueuingEnabled=True,
        Description="Loads the warehouse\nevery night",
        LogUri="s3://logs-bucket/full/",
        Role=ROLE,
        ExecutionProperty={"MaxConcurrentRuns": 4},
        Command={
            "Name": "pythonshell",
            "ScriptLocation": SCRIPT,
            "PythonVersion": "3.9",
            "Runtime": "Ray2.4",
        },
        DefaultArguments={"--env": "prod", "--batch size": "500"},
        NonOverridableArguments={"--mode": "strict"},
        Connections={"Connections": ["warehouse-jdbc", "s3-endpoint"]},
        MaxRetries=3,
        Timeout=75,
        MaxCapacity=0.0625,
        SecurityConfiguration="sec-config",
        NotificationProperty={"NotifyDelayAfter": 10},
        GlueVersion="3.0",
        ExecutionClass="STANDARD",
        SourceControlDetails={
            "Provider": "GITHUB",
            "Repository": "etl-scripts",
            "Owner": "data-team",
            "Branch": "main",
            "Folder": "jobs/full",
        },
        MaintenanceWindow="Sun:03",
    )
    glue.create_job(Tags={"team": "data"}, **members)
    job = get_job(glue, "full")
    for key, value in members.items():
        assert job[key] == value, f"{key}: sent {value!r}, got {job.get(key)!r}"
    assert "Tags" not in job, "tags live on the ARN, not in the Job shape"


def test_worker_type_and_number_of_workers_are_echoed(glue):
    make_job(glue, "workers", WorkerType="G.2X", NumberOfWorkers=10, GlueVersion="4.0")
    job = get_job(glue, "workers")
    assert job["WorkerType"] == "G.2X"
    assert job["NumberOfWorkers"] == 10
    assert "MaxCapacity" not in job


def test_duplicate_name_is_already_exists_and_keeps_the_original(glue):
    make_job(glue, "dup", Description="original")
    err = expect_error(
        "AlreadyExistsException",
        glue.create_job,
        Name="dup",
        Role=ROLE,
        Command={"Name": "pythonshell", "ScriptLocation": SCRIPT},
    )
    assert "dup" in err.response["Error"]["Message"]
    job = get_job(glue, "dup")
    assert job["Description"] == "original"
    assert job["Command"]["Name"] == "glueetl"


def test_get_missing_job_is_entity_not_found(glue):
    err = expect_error("EntityNotFoundException", glue.get_job, JobName="ghost")
    assert "ghost" in err.response["Error"]["Message"]


@pytest.mark.parametrize(
    "members, fragment",
    [
        ({"Timeout": 10081}, "Timeout"),
        ({"MaxRetries": -1}, "MaxRetries"),
        ({"ExecutionProperty": {"MaxConcurrentRuns": 0}}, "MaxConcurrentRuns"),
        ({"WorkerType": "G.1X"}, "NumberOfWorkers"),
        ({"WorkerType": "G.1X", "NumberOfWorkers": 2, "MaxCapacity": 2.0}, "Max Capacity"),
        ({"AllocatedCapacity": 2, "MaxCapacity": 2.0}, "Allocated Capacity or Max Capacity"),
        ({"Role": ""}, "Role"),
        # Model constraints (enum, pattern) are checked by the server, not by botocore.
        ({"WorkerType": "G.3X", "NumberOfWorkers": 2}, "workerType"),
        ({"GlueVersion": "latest"}, "glueVersion"),
        ({"JobMode": "MAGIC"}, "jobMode"),
        ({"MaintenanceWindow": "Sunday 3am"}, "maintenanceWindow"),
    ],
)
def test_invalid_job_definitions_are_invalid_input(glue, members, fragment):
    request = dict(Name="bad", Role=ROLE, Command={"Name": "glueetl", "ScriptLocation": SCRIPT})
    request.update(members)
    err = expect_error("InvalidInputException", glue.create_job, **request)
    assert fragment in err.response["Error"]["Message"], err.response["Error"]
    expect_error("EntityNotFoundException", glue.get_job, JobName="bad")


def test_any_command_name_is_stored_as_aws_stores_it(glue):
    # AWS keeps the command name it is given; a run of one Weir cannot run fails at its
    # start, naming it (test_job_run_details.py).
    glue.create_job(Name="odd", Role=ROLE, Command={"Name": "spark", "ScriptLocation": SCRIPT})
    assert get_job(glue, "odd")["Command"]["Name"] == "spark"


def test_timeout_below_one_is_invalid_input(glue_unvalidated):
    # botocore refuses Timeout=0 itself (min 1); the server must too.
    err = expect_error(
        "InvalidInputException",
        glue_unvalidated.create_job,
        Name="bad",
        Role=ROLE,
        Command={"Name": "glueetl", "ScriptLocation": SCRIPT},
        Timeout=0,
    )
    assert "timeout" in err.response["Error"]["Message"]


def test_missing_required_members_are_invalid_input(glue_unvalidated):
    expect_error("InvalidInputException", glue_unvalidated.create_job, Name="no-role",
                 Command={"Name": "glueetl", "ScriptLocation": SCRIPT})
    expect_error("InvalidInputException", glue_unvalidated.create_job, Name="no-command", Role=ROLE)
    expect_error("InvalidInputException", glue_unvalidated.create_job, Role=ROLE,
                 Command={"Name": "glueetl", "ScriptLocation": SCRIPT})


# -- UpdateJob ---------------------------------------------------------------------------------
def test_update_replaces_the_whole_definition(weir, glue):
    make_job(
        glue,
        "etl",
        Description="first version",
        MaxRetries=3,
        Timeout=60,
        DefaultArguments={"--env": "dev"},
        ExecutionProperty={"MaxConcurrentRuns": 5},
        GlueVersion="4.0",
        Tags={"team": "data"},
    )
    created = get_job(glue, "etl")
    weir.advance_clock(20)
    out = glue.update_job(
        JobName="etl",
        JobUpdate={
            "Role": "arn:aws:iam::123456789012:role/Other",
            "Command": {"Name": "pythonshell", "ScriptLocation": "s3://b/other.py"},
            "NonOverridableArguments": {"--locked": "yes"},
        },
    )
    assert out["JobName"] == "etl"
    job = get_job(glue, "etl")
    assert job["Name"] == "etl"
    assert job["Role"] == "arn:aws:iam::123456789012:role/Other"
    assert job["Command"] == {"Name": "pythonshell", "ScriptLocation": "s3://b/other.py", "PythonVersion": "3"}
    assert job["NonOverridableArguments"] == {"--locked": "yes"}
    # Members the update leaves out are not carried over: they are gone or back to defaults.
    assert "Description" not in job
    assert "DefaultArguments" not in job
    assert job["MaxRetries"] == 0
    assert job["ExecutionProperty"] == {"MaxConcurrentRuns": 1}
    assert job["GlueVersion"] == "1.0"
    assert job["Timeout"] == 2880
    assert job["CreatedOn"] == created["CreatedOn"]
    assert job["LastModifiedOn"] > created["LastModifiedOn"]
    # Tags are not part of the definition and survive the update.
    assert glue.get_tags(ResourceArn=job_arn("etl"))["Tags"] == {"team": "data"}


def test_update_echoes_every_member(glue):
    make_job(glue, "etl")
    update = dict(
        JobMode="NOTEBOOK",
        Description="v2",
        LogUri="s3://logs/v2/",
        Role=ROLE,
        ExecutionProperty={"MaxConcurrentRuns": 2},
        Command={"Name": "glueetl", "ScriptLocation": "s3://b/v2.py", "PythonVersion": "3"},
        DefaultArguments={"--a": "1"},
        NonOverridableArguments={"--b": "2"},
        Connections={"Connections": ["conn"]},
        MaxRetries=1,
        Timeout=30,
        WorkerType="G.1X",
        NumberOfWorkers=2,
        SecurityConfiguration="sec",
        NotificationProperty={"NotifyDelayAfter": 3},
        GlueVersion="4.0",
        ExecutionClass="FLEX",
    )
    glue.update_job(JobName="etl", JobUpdate=update)
    job = get_job(glue, "etl")
    for key, value in update.items():
        assert job[key] == value, f"{key}: sent {value!r}, got {job.get(key)!r}"


def test_update_missing_job_is_entity_not_found(glue):
    err = expect_error(
        "EntityNotFoundException",
        glue.update_job,
        JobName="ghost",
        JobUpdate={"Role": ROLE, "Command": {"Name": "glueetl", "ScriptLocation": SCRIPT}},
    )
    assert "ghost" in err.response["Error"]["Message"]


@pytest.mark.parametrize(
    "update",
    [
        {},  # no Role, no Command: the job could not run
        {"Command": {"Name": "glueetl", "ScriptLocation": SCRIPT}},
        {"Role": ROLE},
        {"Role": ROLE, "Command": {"Name": "glueetl"}, "Timeout": 20000},
        {"Role": ROLE, "Command": {"Name": "glueetl"}, "AllocatedCapacity": 2, "MaxCapacity": 2.0},
    ],
)
def test_invalid_update_is_invalid_input_and_changes_nothing(glue, update):
    make_job(glue, "etl", Description="kept")
    before = get_job(glue, "etl")
    expect_error("InvalidInputException", glue.update_job, JobName="etl", JobUpdate=update)
    assert get_job(glue, "etl") == before


# -- DeleteJob ---------------------------------------------------------------------------------
def test_delete_is_idempotent(glue):
    make_job(glue, "etl", Tags={"k": "v"})
    assert glue.delete_job(JobName="etl")["JobName"] == "etl"
    expect_error("EntityNotFoundException", glue.get_job, JobName="etl")
    # Deleting again, or a job that never existed, succeeds and echoes the name.
    assert glue.delete_job(JobName="etl")["JobName"] == "etl"
    assert glue.delete_job(JobName="never-existed")["JobName"] == "never-existed"
    # Its tags went with it; a new job of the same name starts clean.
    expect_error("EntityNotFoundException", glue.get_tags, ResourceArn=job_arn("etl"))
    make_job(glue, "etl")
    assert glue.get_tags(ResourceArn=job_arn("etl")).get("Tags", {}) == {}
    assert get_job(glue, "etl")["MaxRetries"] == 0


# -- GetJobs / ListJobs / BatchGetJobs -----------------------------------------------------------
def test_get_jobs_pages_with_the_paginator(glue):
    names = [f"job-{i:02d}" for i in range(7)]
    for name in reversed(names):
        make_job(glue, name, Description=name)
    pages = list(glue.get_paginator("get_jobs").paginate(PaginationConfig={"PageSize": 3}))
    assert [len(p["Jobs"]) for p in pages] == [3, 3, 1]
    assert [j["Name"] for p in pages for j in p["Jobs"]] == names
    assert all(j["Description"] == j["Name"] for p in pages for j in p["Jobs"])
    assert all(j["MaxRetries"] == 0 for p in pages for j in p["Jobs"]), "full Job shapes"
    assert "NextToken" in pages[0] and "NextToken" in pages[1]
    assert "NextToken" not in pages[-1]

    everything = glue.get_jobs()
    assert [j["Name"] for j in everything["Jobs"]] == names
    assert "NextToken" not in everything

    # MaxItems stops mid-page and resumes from the paginator's own token.
    first = glue.get_paginator("get_jobs").paginate(
        PaginationConfig={"PageSize": 2, "MaxItems": 3}
    ).build_full_result()
    assert [j["Name"] for j in first["Jobs"]] == names[:3]
    rest = glue.get_paginator("get_jobs").paginate(
        PaginationConfig={"PageSize": 2, "StartingToken": first["NextToken"]}
    ).build_full_result()
    assert [j["Name"] for j in rest["Jobs"]] == names[3:]


def test_get_jobs_on_an_empty_server(glue):
    out = glue.get_jobs()
    assert out.get("Jobs", []) == []
    assert "NextToken" not in out
    assert glue.list_jobs().get("JobNames", []) == []


def test_list_jobs_pages_and_filters_by_tags(glue):
    make_job(glue, "a-data-prod", Tags={"team": "data", "env": "prod"})
    make_job(glue, "b-data-dev", Tags={"team": "data", "env": "dev"})
    make_job(glue, "c-ml-prod", Tags={"team": "ml", "env": "prod"})
    make_job(glue, "d-untagged")
    make_job(glue, "e-data-prod", Tags={"team": "data", "env": "prod", "extra": "x"})

    assert glue.list_jobs()["JobNames"] == ["a-data-prod", "b-data-dev", "c-ml-prod", "d-untagged", "e-data-prod"]
    assert glue.list_jobs(Tags={"team": "data"})["JobNames"] == ["a-data-prod", "b-data-dev", "e-data-prod"]
    assert glue.list_jobs(Tags={"team": "data", "env": "prod"})["JobNames"] == ["a-data-prod", "e-data-prod"]
    assert glue.list_jobs(Tags={"env": "prod"})["JobNames"] == ["a-data-prod", "c-ml-prod", "e-data-prod"]
    assert glue.list_jobs(Tags={"team": "ops"}).get("JobNames", []) == []
    assert glue.list_jobs(Tags={"team": ""}).get("JobNames", []) == [], "the value must match too"

    pages = list(glue.get_paginator("list_jobs").paginate(PaginationConfig={"PageSize": 2}))
    assert [p["JobNames"] for p in pages] == [["a-data-prod", "b-data-dev"], ["c-ml-prod", "d-untagged"], ["e-data-prod"]]
    filtered = list(
        glue.get_paginator("list_jobs").paginate(Tags={"env": "prod"}, PaginationConfig={"PageSize": 1})
    )
    assert [n for p in filtered for n in p["JobNames"]] == ["a-data-prod", "c-ml-prod", "e-data-prod"]
    assert all(len(p["JobNames"]) == 1 for p in filtered)
    assert "NextToken" not in filtered[-1]

    # Tags changed after creation count.
    glue.tag_resource(ResourceArn=job_arn("d-untagged"), TagsToAdd={"team": "data"})
    glue.untag_resource(ResourceArn=job_arn("a-data-prod"), TagsToRemove=["team"])
    assert glue.list_jobs(Tags={"team": "data"})["JobNames"] == ["b-data-dev", "d-untagged", "e-data-prod"]


def test_list_jobs_max_results_bounds(glue_unvalidated):
    make_job(glue_unvalidated, "a")
    expect_error("InvalidInputException", glue_unvalidated.list_jobs, MaxResults=0)
    expect_error("InvalidInputException", glue_unvalidated.list_jobs, MaxResults=1001)
    expect_error("InvalidInputException", glue_unvalidated.get_jobs, MaxResults=1001)
    assert glue_unvalidated.list_jobs(MaxResults=1000)["JobNames"] == ["a"]


def test_foreign_or_garbled_next_token_is_invalid_input(glue):
    for i in range(3):
        make_job(glue, f"j{i}")
    token = glue.list_jobs(MaxResults=1)["NextToken"]
    expect_error("InvalidInputException", glue.list_jobs, NextToken="not-a-token")
    expect_error("InvalidInputException", glue.get_jobs, NextToken="not-a-token")
    # A ListJobs token is not a GetJobs token.
    expect_error("InvalidInputException", glue.get_jobs, NextToken=token)
    assert glue.list_jobs(NextToken=token, MaxResults=1)["JobNames"] == ["j1"]


def test_batch_get_jobs_reports_the_missing_ones(glue):
    make_job(glue, "a", Description="A")
    make_job(glue, "b", Description="B")
    out = glue.batch_get_jobs(JobNames=["b", "ghost", "a", "phantom"])
    assert sorted(j["Name"] for j in out["Jobs"]) == ["a", "b"]
    assert {j["Name"]: j["Description"] for j in out["Jobs"]} == {"a": "A", "b": "B"}
    assert sorted(out["JobsNotFound"]) == ["ghost", "phantom"]
    # Each Job is the full shape GetJob answers.
    assert {j["Name"]: j for j in out["Jobs"]}["a"] == get_job(glue, "a")

    all_found = glue.batch_get_jobs(JobNames=["a"])
    assert [j["Name"] for j in all_found["Jobs"]] == ["a"]
    assert all_found.get("JobsNotFound", []) == []

    none_found = glue.batch_get_jobs(JobNames=["x"])
    assert none_found.get("Jobs", []) == []
    assert none_found["JobsNotFound"] == ["x"]


# -- tags on job ARNs ----------------------------------------------------------------------------
def test_tags_on_job_arns(glue):
    make_job(glue, "tagged", Tags={"team": "data", "Cost-Center": "42"})
    arn = job_arn("tagged")
    assert glue.get_tags(ResourceArn=arn)["Tags"] == {"team": "data", "Cost-Center": "42"}
    assert set(glue.tag_resource(ResourceArn=arn, TagsToAdd={"team": "ml", "owner": "alice"})) == {"ResponseMetadata"}
    assert glue.get_tags(ResourceArn=arn)["Tags"] == {"team": "ml", "Cost-Center": "42", "owner": "alice"}
    glue.untag_resource(ResourceArn=arn, TagsToRemove=["Cost-Center", "not-there"])
    assert glue.get_tags(ResourceArn=arn)["Tags"] == {"team": "ml", "owner": "alice"}

    make_job(glue, "untagged")
    assert glue.get_tags(ResourceArn=job_arn("untagged")).get("Tags", {}) == {}

    for call, kwargs in [
        (glue.get_tags, {}),
        (glue.tag_resource, {"TagsToAdd": {"k": "v"}}),
        (glue.untag_resource, {"TagsToRemove": ["k"]}),
    ]:
        expect_error("EntityNotFoundException", call, ResourceArn=job_arn("ghost"), **kwargs)
    # A job ARN does not name a workflow of the same name and vice versa.
    glue.create_workflow(Name="only-a-workflow")
    expect_error("EntityNotFoundException", glue.get_tags, ResourceArn=job_arn("only-a-workflow"))


def test_create_job_with_too_many_tags_is_invalid_input(glue):
    tags = {f"k{i}": "v" for i in range(51)}
    expect_error("InvalidInputException", glue.create_job, Name="j", Role=ROLE,
                 Command={"Name": "glueetl", "ScriptLocation": SCRIPT}, Tags=tags)
    expect_error("EntityNotFoundException", glue.get_job, JobName="j")
