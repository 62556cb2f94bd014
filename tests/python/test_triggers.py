"""Triggers as resources through boto3 (spec §4.1, §5, Appendix A.3; server:
operations/triggers.rs, resources/trigger.rs, resources/graph.rs): CreateTrigger with its
initial state, UpdateTrigger as a whole replacement (Type and WorkflowName fixed),
idempotent DeleteTrigger, GetTrigger/GetTriggers/ListTriggers/BatchGetTriggers, tags on
trigger ARNs, DeleteWorkflow taking its triggers along, and every validation rule."""

import pytest

from weirtest import ACCOUNT_ID, REGION, expect_error

ROLE = "arn:aws:iam::123456789012:role/Glue"
CRON = "cron(15 12 * * ? *)"


def trigger_arn(name: str) -> str:
    return f"arn:aws:glue:{REGION}:{ACCOUNT_ID}:trigger/{name}"


def job_arn(name: str) -> str:
    return f"arn:aws:glue:{REGION}:{ACCOUNT_ID}:job/{name}"


def make_jobs(glue, *names: str) -> None:
    for name in names:
        glue.create_job(Name=name, Role=ROLE, Command={"Name": "pythonshell", "ScriptLocation": f"s3://b/{name}.py"})


def make_crawlers(glue, *names: str) -> None:
    for name in names:
        glue.create_crawler(Name=name, Role=ROLE, Targets={"S3Targets": [{"Path": f"s3://b/{name}/"}]})


def on_job(job: str, state: str = "SUCCEEDED") -> dict:
    return {"LogicalOperator": "EQUALS", "JobName": job, "State": state}


def on_crawler(crawler: str, state: str = "SUCCEEDED") -> dict:
    return {"LogicalOperator": "EQUALS", "CrawlerName": crawler, "CrawlState": state}


def run(job: str) -> dict:
    return {"JobName": job}


def get_trigger(glue, name: str) -> dict:
    return glue.get_trigger(Name=name)["Trigger"]


@pytest.fixture
def world(glue):
    """A workflow `wf`, jobs j1..j5 and crawlers c1..c3."""
    glue.create_workflow(Name="wf")
    make_jobs(glue, "j1", "j2", "j3", "j4", "j5")
    make_crawlers(glue, "c1", "c2", "c3")
    return glue


# -- CreateTrigger / GetTrigger ----------------------------------------------------------------------
def test_create_on_demand_start_trigger_echoes_every_member(world):
    glue = world
    actions = [
        {
            "JobName": "j1",
            "Arguments": {"--day": "2024-01-01", "--mode": "full"},
            "Timeout": 30,
            "SecurityConfiguration": "sec",
            "NotificationProperty": {"NotifyDelayAfter": 5},
        },
        {"CrawlerName": "c1"},
    ]
    out = glue.create_trigger(
        Name="start",
        WorkflowName="wf",
        Type="ON_DEMAND",
        Actions=actions,
        Description="Starts\nthe run",
        Tags={"team": "data"},
    )
    assert out == {"Name": "start", "ResponseMetadata": out["ResponseMetadata"]}
    trigger = get_trigger(glue, "start")
    assert trigger["Name"] == "start"
    assert trigger["WorkflowName"] == "wf"
    assert trigger["Type"] == "ON_DEMAND"
    assert trigger["State"] == "CREATED"
    assert trigger["Actions"] == actions
    assert trigger["Description"] == "Starts\nthe run"
    for absent in ("Id", "Predicate", "Schedule", "EventBatchingCondition", "Tags"):
        assert absent not in trigger, f"{absent}: {trigger}"


def test_create_conditional_trigger_echoes_its_predicate(world):
    glue = world
    predicate = {
        "Logical": "ANY",
        "Conditions": [on_job("j1", "FAILED"), on_job("j2", "TIMEOUT"), on_crawler("c1", "CANCELLED")],
    }
    glue.create_trigger(Name="t", WorkflowName="wf", Type="CONDITIONAL", Predicate=predicate,
                        Actions=[run("j3"), run("j4")], StartOnCreation=True)
    trigger = get_trigger(glue, "t")
    assert trigger["Type"] == "CONDITIONAL"
    assert trigger["Predicate"] == predicate
    assert trigger["Actions"] == [run("j3"), run("j4")]
    assert trigger["State"] == "ACTIVATED"


def test_single_condition_needs_no_logical(world):
    glue = world
    glue.create_trigger(Name="t", WorkflowName="wf", Type="CONDITIONAL",
                        Predicate={"Conditions": [on_job("j1")]}, Actions=[run("j2")])
    assert get_trigger(glue, "t")["Predicate"] == {"Conditions": [on_job("j1")]}


@pytest.mark.parametrize(
    "kind, extra, start_on_creation, state",
    [
        ("ON_DEMAND", {}, None, "CREATED"),
        ("ON_DEMAND", {}, False, "CREATED"),
        ("SCHEDULED", {"Schedule": CRON}, None, "CREATED"),
        ("SCHEDULED", {"Schedule": CRON}, False, "CREATED"),
        ("SCHEDULED", {"Schedule": CRON}, True, "ACTIVATED"),
        ("CONDITIONAL", {"Predicate": {"Conditions": [on_job("j1")]}}, None, "CREATED"),
        ("CONDITIONAL", {"Predicate": {"Conditions": [on_job("j1")]}}, True, "ACTIVATED"),
        ("EVENT", {}, None, "CREATED"),
        ("EVENT", {"EventBatchingCondition": {"BatchSize": 5, "BatchWindow": 60}}, False, "CREATED"),
    ],
)
def test_state_after_create_follows_start_on_creation(world, kind, extra, start_on_creation, state):
    glue = world
    request = dict(Name="t", WorkflowName="wf", Type=kind, Actions=[run("j2")], **extra)
    if start_on_creation is not None:
        request["StartOnCreation"] = start_on_creation
    glue.create_trigger(**request)
    trigger = get_trigger(glue, "t")
    assert trigger["State"] == state
    assert trigger["Type"] == kind
    for key, value in extra.items():
        assert trigger[key] == value


def test_standalone_triggers_have_no_workflow(world):
    glue = world
    glue.create_trigger(Name="nightly", Type="SCHEDULED", Schedule="cron(0 2 * * ? *)",
                        Actions=[run("j1")], StartOnCreation=True)
    glue.create_trigger(Name="manual", Type="ON_DEMAND", Actions=[run("j1")])
    # Several standalone start triggers are fine: the one-start-trigger rule is per workflow.
    glue.create_trigger(Name="manual-2", Type="ON_DEMAND", Actions=[run("j2")])
    nightly = get_trigger(glue, "nightly")
    assert "WorkflowName" not in nightly
    assert nightly["State"] == "ACTIVATED"
    assert nightly["Schedule"] == "cron(0 2 * * ? *)"
    assert get_trigger(glue, "manual")["State"] == "CREATED"


def test_blueprint_style_start_trigger_without_actions_is_accepted(world):
    glue = world
    glue.create_trigger(Name="empty-start", WorkflowName="wf", Type="ON_DEMAND", Actions=[])
    assert get_trigger(glue, "empty-start")["Actions"] == []


def test_duplicate_name_is_already_exists_and_keeps_the_original(world):
    glue = world
    glue.create_trigger(Name="t", WorkflowName="wf", Type="ON_DEMAND", Actions=[run("j1")], Description="original")
    glue.create_workflow(Name="wf2")
    err = expect_error("AlreadyExistsException", glue.create_trigger, Name="t", WorkflowName="wf2",
                       Type="ON_DEMAND", Actions=[run("j2")])
    assert "t" in err.response["Error"]["Message"]
    trigger = get_trigger(glue, "t")
    assert trigger["Description"] == "original"
    assert trigger["WorkflowName"] == "wf"


def test_get_missing_trigger_is_entity_not_found(glue):
    err = expect_error("EntityNotFoundException", glue.get_trigger, Name="ghost")
    assert "ghost" in err.response["Error"]["Message"]


# -- UpdateTrigger --------------------------------------------------------------------------------------
def test_update_replaces_the_whole_definition(world):
    glue = world
    glue.create_trigger(Name="start", WorkflowName="wf", Type="ON_DEMAND", Actions=[run("j1")])
    glue.create_trigger(
        Name="t",
        WorkflowName="wf",
        Type="CONDITIONAL",
        Description="old description",
        Predicate={"Logical": "AND", "Conditions": [on_job("j1"), on_job("j2")]},
        Actions=[{"JobName": "j3", "Arguments": {"--a": "1"}}, run("j4")],
        StartOnCreation=True,
        Tags={"team": "data"},
    )
    update = {
        "Name": "ignored-reserved-for-future-use",
        "Predicate": {"Conditions": [on_job("j1", "FAILED")]},
        "Actions": [{"JobName": "j5", "Timeout": 9}],
    }
    out = glue.update_trigger(Name="t", TriggerUpdate=update)
    trigger = out["Trigger"]
    assert trigger == get_trigger(glue, "t"), "UpdateTrigger answers the resulting trigger"
    assert trigger["Name"] == "t"
    assert trigger["Type"] == "CONDITIONAL", "Type is fixed at creation"
    assert trigger["WorkflowName"] == "wf", "membership is fixed at creation"
    assert trigger["State"] == "ACTIVATED", "the state is kept"
    assert trigger["Predicate"] == {"Conditions": [on_job("j1", "FAILED")]}
    assert trigger["Actions"] == [{"JobName": "j5", "Timeout": 9}]
    assert "Description" not in trigger, "a member the update leaves out is cleared"
    assert glue.get_tags(ResourceArn=trigger_arn("t"))["Tags"] == {"team": "data"}
    expect_error("EntityNotFoundException", glue.get_trigger, Name="ignored-reserved-for-future-use")


def test_update_scheduled_trigger_schedule_and_description(world):
    glue = world
    glue.create_trigger(Name="s", WorkflowName="wf", Type="SCHEDULED", Schedule=CRON, Actions=[run("j1")])
    out = glue.update_trigger(
        Name="s",
        TriggerUpdate={"Schedule": "cron(0 6 ? * MON-FRI *)", "Actions": [run("j2")], "Description": "weekday mornings"},
    )
    trigger = out["Trigger"]
    assert trigger["Schedule"] == "cron(0 6 ? * MON-FRI *)"
    assert trigger["Description"] == "weekday mornings"
    assert trigger["Actions"] == [run("j2")]
    assert trigger["Type"] == "SCHEDULED"
    assert trigger["State"] == "CREATED"


def test_update_event_trigger_batching_condition(world):
    glue = world
    glue.create_trigger(Name="e", WorkflowName="wf", Type="EVENT", Actions=[run("j1")],
                        EventBatchingCondition={"BatchSize": 10, "BatchWindow": 300})
    trigger = glue.update_trigger(
        Name="e", TriggerUpdate={"Actions": [run("j1")], "EventBatchingCondition": {"BatchSize": 2}}
    )["Trigger"]
    assert trigger["EventBatchingCondition"] == {"BatchSize": 2}
    trigger = glue.update_trigger(Name="e", TriggerUpdate={"Actions": [run("j1")]})["Trigger"]
    assert "EventBatchingCondition" not in trigger


def test_update_missing_trigger_is_entity_not_found(glue):
    err = expect_error("EntityNotFoundException", glue.update_trigger, Name="ghost",
                       TriggerUpdate={"Actions": [{"JobName": "j"}]})
    assert "ghost" in err.response["Error"]["Message"]


@pytest.mark.parametrize(
    "code, update",
    [
        # A SCHEDULED trigger cannot lose its Schedule (the update replaces everything).
        ("InvalidInputException", {"Actions": [{"JobName": "j1"}]}),
        ("InvalidInputException", {"Schedule": "cron(nope)", "Actions": [{"JobName": "j1"}]}),
        ("EntityNotFoundException", {"Schedule": CRON, "Actions": [{"JobName": "ghost"}]}),
        ("InvalidInputException", {"Schedule": CRON, "Actions": [{"JobName": "j1"}],
                                   "Predicate": {"Conditions": [on_job("j2")]}}),
    ],
)
def test_invalid_update_changes_nothing(world, code, update):
    glue = world
    glue.create_trigger(Name="s", WorkflowName="wf", Type="SCHEDULED", Schedule=CRON, Actions=[run("j1")],
                        Description="kept")
    before = get_trigger(glue, "s")
    expect_error(code, glue.update_trigger, Name="s", TriggerUpdate=update)
    assert get_trigger(glue, "s") == before


# -- DeleteTrigger ----------------------------------------------------------------------------------------
def test_delete_is_idempotent(world):
    glue = world
    glue.create_trigger(Name="t", WorkflowName="wf", Type="ON_DEMAND", Actions=[run("j1")], Tags={"k": "v"})
    assert glue.delete_trigger(Name="t")["Name"] == "t"
    expect_error("EntityNotFoundException", glue.get_trigger, Name="t")
    expect_error("EntityNotFoundException", glue.get_tags, ResourceArn=trigger_arn("t"))
    assert glue.delete_trigger(Name="t")["Name"] == "t"
    assert glue.delete_trigger(Name="never-existed")["Name"] == "never-existed"
    # The workflow's start-trigger slot is free again; the jobs stay.
    glue.create_trigger(Name="t2", WorkflowName="wf", Type="ON_DEMAND", Actions=[run("j2")])
    assert glue.get_job(JobName="j1")["Job"]["Name"] == "j1"


# -- GetTriggers / ListTriggers / BatchGetTriggers -----------------------------------------------------------
@pytest.fixture
def triggers(world):
    """Five triggers: t-a starts j1; t-b starts j2, j3; t-c starts j2 (standalone);
    t-d starts c1; t-e starts j4 (standalone, tagged)."""
    glue = world
    glue.create_trigger(Name="t-a", WorkflowName="wf", Type="ON_DEMAND", Actions=[run("j1")],
                        Tags={"team": "data", "env": "prod"})
    glue.create_trigger(Name="t-b", WorkflowName="wf", Type="CONDITIONAL",
                        Predicate={"Conditions": [on_job("j1")]}, Actions=[run("j2"), run("j3")],
                        Tags={"team": "data", "env": "dev"})
    glue.create_trigger(Name="t-c", Type="ON_DEMAND", Actions=[run("j2")], Tags={"team": "ml"})
    glue.create_trigger(Name="t-d", WorkflowName="wf", Type="CONDITIONAL",
                        Predicate={"Conditions": [on_job("j3")]}, Actions=[{"CrawlerName": "c1"}])
    glue.create_trigger(Name="t-e", Type="SCHEDULED", Schedule=CRON, Actions=[run("j4")],
                        Tags={"team": "data", "env": "prod"})
    return glue


ALL = ["t-a", "t-b", "t-c", "t-d", "t-e"]


def test_get_triggers_pages_with_the_paginator(triggers):
    glue = triggers
    pages = list(glue.get_paginator("get_triggers").paginate(PaginationConfig={"PageSize": 2}))
    assert [[t["Name"] for t in p["Triggers"]] for p in pages] == [["t-a", "t-b"], ["t-c", "t-d"], ["t-e"]]
    assert "NextToken" not in pages[-1]
    everything = glue.get_triggers()
    assert [t["Name"] for t in everything["Triggers"]] == ALL
    assert "NextToken" not in everything
    # Full Trigger shapes, equal to GetTrigger's.
    for t in everything["Triggers"]:
        assert t == get_trigger(glue, t["Name"])


def test_get_triggers_by_dependent_job_name(triggers):
    glue = triggers
    names = lambda out: [t["Name"] for t in out["Triggers"]]  # noqa: E731
    assert names(glue.get_triggers(DependentJobName="j2")) == ["t-b", "t-c"]
    assert names(glue.get_triggers(DependentJobName="j1")) == ["t-a"]
    assert names(glue.get_triggers(DependentJobName="j4")) == ["t-e"]
    # Watching a job does not make a trigger "start" it; a job no trigger starts
    # answers all triggers (the model's documented rule).
    assert names(glue.get_triggers(DependentJobName="j5")) == ALL
    assert names(glue.get_triggers(DependentJobName="no-such-job")) == ALL
    pages = list(glue.get_paginator("get_triggers").paginate(DependentJobName="j2",
                                                              PaginationConfig={"PageSize": 1}))
    assert [[t["Name"] for t in p["Triggers"]] for p in pages] == [["t-b"], ["t-c"]]


def test_list_triggers_by_dependent_job_name_and_tags(triggers):
    glue = triggers
    assert glue.list_triggers()["TriggerNames"] == ALL
    assert glue.list_triggers(DependentJobName="j2")["TriggerNames"] == ["t-b", "t-c"]
    assert glue.list_triggers(DependentJobName="j5")["TriggerNames"] == ALL
    assert glue.list_triggers(Tags={"team": "data"})["TriggerNames"] == ["t-a", "t-b", "t-e"]
    assert glue.list_triggers(Tags={"team": "data", "env": "prod"})["TriggerNames"] == ["t-a", "t-e"]
    assert glue.list_triggers(Tags={"team": "nobody"}).get("TriggerNames", []) == []
    assert glue.list_triggers(DependentJobName="j2", Tags={"team": "ml"})["TriggerNames"] == ["t-c"]
    pages = list(glue.get_paginator("list_triggers").paginate(PaginationConfig={"PageSize": 2}))
    assert [p["TriggerNames"] for p in pages] == [["t-a", "t-b"], ["t-c", "t-d"], ["t-e"]]
    pages = list(glue.get_paginator("list_triggers").paginate(Tags={"team": "data"},
                                                               PaginationConfig={"PageSize": 1}))
    assert [p["TriggerNames"] for p in pages] == [["t-a"], ["t-b"], ["t-e"]]


def test_trigger_page_size_bounds(glue_unvalidated):
    expect_error("InvalidInputException", glue_unvalidated.get_triggers, MaxResults=0)
    expect_error("InvalidInputException", glue_unvalidated.get_triggers, MaxResults=201)
    expect_error("InvalidInputException", glue_unvalidated.list_triggers, MaxResults=201)
    expect_error("InvalidInputException", glue_unvalidated.list_triggers, NextToken="garbage")


def test_batch_get_triggers_reports_the_missing_ones(triggers):
    glue = triggers
    out = glue.batch_get_triggers(TriggerNames=["t-b", "ghost", "t-a"])
    assert sorted(t["Name"] for t in out["Triggers"]) == ["t-a", "t-b"]
    for t in out["Triggers"]:
        assert t == get_trigger(glue, t["Name"])
    assert out["TriggersNotFound"] == ["ghost"]
    all_found = glue.batch_get_triggers(TriggerNames=ALL)
    assert len(all_found["Triggers"]) == 5
    assert all_found.get("TriggersNotFound", []) == []
    none_found = glue.batch_get_triggers(TriggerNames=["x"])
    assert none_found.get("Triggers", []) == []
    assert none_found["TriggersNotFound"] == ["x"]


# -- tags on trigger ARNs -------------------------------------------------------------------------------------
def test_tags_on_trigger_arns(world):
    glue = world
    glue.create_trigger(Name="t", WorkflowName="wf", Type="ON_DEMAND", Actions=[run("j1")],
                        Tags={"team": "data", "tier": "gold"})
    arn = trigger_arn("t")
    assert glue.get_tags(ResourceArn=arn)["Tags"] == {"team": "data", "tier": "gold"}
    glue.tag_resource(ResourceArn=arn, TagsToAdd={"team": "ml", "owner": "carol"})
    assert glue.get_tags(ResourceArn=arn)["Tags"] == {"team": "ml", "tier": "gold", "owner": "carol"}
    glue.untag_resource(ResourceArn=arn, TagsToRemove=["tier"])
    assert glue.get_tags(ResourceArn=arn)["Tags"] == {"team": "ml", "owner": "carol"}
    # Tagging does not change the definition.
    assert "Tags" not in get_trigger(glue, "t")
    glue.create_trigger(Name="plain", Type="ON_DEMAND", Actions=[run("j1")])
    assert glue.get_tags(ResourceArn=trigger_arn("plain")).get("Tags", {}) == {}
    expect_error("EntityNotFoundException", glue.get_tags, ResourceArn=trigger_arn("ghost"))
    expect_error("EntityNotFoundException", glue.tag_resource, ResourceArn=trigger_arn("ghost"), TagsToAdd={"k": "v"})


# -- DeleteWorkflow ------------------------------------------------------------------------------------------
def test_delete_workflow_removes_its_triggers_and_keeps_jobs_and_crawlers(world):
    glue = world
    glue.create_workflow(Name="other")
    glue.create_trigger(Name="start", WorkflowName="wf", Type="ON_DEMAND", Actions=[run("j1")], Tags={"k": "v"})
    glue.create_trigger(Name="next", WorkflowName="wf", Type="CONDITIONAL",
                        Predicate={"Conditions": [on_job("j1")]}, Actions=[run("j2"), {"CrawlerName": "c1"}])
    glue.create_trigger(Name="other-start", WorkflowName="other", Type="ON_DEMAND", Actions=[run("j1")])
    glue.create_trigger(Name="standalone", Type="ON_DEMAND", Actions=[run("j2")])

    assert glue.delete_workflow(Name="wf")["Name"] == "wf"
    expect_error("EntityNotFoundException", glue.get_workflow, Name="wf")
    for name in ("start", "next"):
        expect_error("EntityNotFoundException", glue.get_trigger, Name=name)
    expect_error("EntityNotFoundException", glue.get_tags, ResourceArn=trigger_arn("start"))
    assert sorted(glue.list_triggers()["TriggerNames"]) == ["other-start", "standalone"]
    # Jobs and crawlers are independent resources.
    assert sorted(j["Name"] for j in glue.batch_get_jobs(JobNames=["j1", "j2"])["Jobs"]) == ["j1", "j2"]
    assert glue.get_crawler(Name="c1")["Crawler"]["Name"] == "c1"
    # Re-creating the workflow gives it no triggers: the old names are free again.
    glue.create_workflow(Name="wf")
    graph = glue.get_workflow(Name="wf", IncludeGraph=True)["Workflow"]["Graph"]
    assert graph.get("Nodes", []) == [] and graph.get("Edges", []) == []
    glue.create_trigger(Name="start", WorkflowName="wf", Type="ON_DEMAND", Actions=[run("j3")])
    assert glue.get_tags(ResourceArn=trigger_arn("start")).get("Tags", {}) == {}


def test_deleting_a_referenced_job_leaves_the_trigger(world):
    glue = world
    glue.create_trigger(Name="start", WorkflowName="wf", Type="ON_DEMAND", Actions=[run("j1")])
    glue.delete_job(JobName="j1")
    # The trigger keeps the dangling name (as on AWS).
    assert get_trigger(glue, "start")["Actions"] == [run("j1")]


# -- validation -------------------------------------------------------------------------------------------------
def conditional(conditions, actions, logical=None, **extra) -> dict:
    predicate = {"Conditions": conditions}
    if logical:
        predicate["Logical"] = logical
    return dict(Name="t", WorkflowName="wf", Type="CONDITIONAL", Predicate=predicate, Actions=actions, **extra)


INVALID_TRIGGERS = {
    "condition without LogicalOperator": (
        "InvalidInputException",
        conditional([{"JobName": "j1", "State": "SUCCEEDED"}], [run("j2")]),
        "Logical operator cannot be null or empty",
    ),
    "crawler condition with State instead of CrawlState": (
        "InvalidInputException",
        conditional([{"LogicalOperator": "EQUALS", "CrawlerName": "c1", "State": "SUCCEEDED"}], [run("j2")]),
        "State cannot be null or empty, choose from one of the following crawler state: [SUCCEEDED, FAILED, CANCELLED]",
    ),
    "job condition without State": (
        "InvalidInputException",
        conditional([{"LogicalOperator": "EQUALS", "JobName": "j1"}], [run("j2")]),
        "job state",
    ),
    "job condition on an unsupported state": (
        "InvalidInputException",
        conditional([on_job("j1", "RUNNING")], [run("j2")]),
        "SUCCEEDED, STOPPED, FAILED, TIMEOUT",
    ),
    "condition naming both a job and a crawler": (
        "InvalidInputException",
        conditional([{"LogicalOperator": "EQUALS", "JobName": "j1", "State": "SUCCEEDED",
                      "CrawlerName": "c1", "CrawlState": "SUCCEEDED"}], [run("j2")]),
        "exactly one of JobName and CrawlerName",
    ),
    "several conditions without Logical": (
        "InvalidInputException",
        conditional([on_job("j1"), on_job("j2")], [run("j3")]),
        "Logical (AND or ANY) is required",
    ),
    "job both predicate and action": (
        "InvalidInputException",
        conditional([on_job("j1", "FAILED")], [run("j1")]),
        "Job cannot be a Predicate and Action for Conditional Trigger.",
    ),
    "crawler both predicate and action": (
        "InvalidInputException",
        conditional([on_crawler("c1", "FAILED")], [{"CrawlerName": "c1"}]),
        "Crawler cannot be a Predicate and Action for Conditional Trigger.",
    ),
    "three crawler actions": (
        "InvalidInputException",
        dict(Name="t", WorkflowName="wf", Type="ON_DEMAND",
             Actions=[{"CrawlerName": "c1"}, {"CrawlerName": "c2"}, {"CrawlerName": "c3"}]),
        "Actions cannot contain more than two crawlers",
    ),
    "action naming both a job and a crawler": (
        "InvalidInputException",
        dict(Name="t", WorkflowName="wf", Type="ON_DEMAND", Actions=[{"JobName": "j1", "CrawlerName": "c1"}]),
        "exactly one of JobName and CrawlerName",
    ),
    "action naming neither a job nor a crawler": (
        "InvalidInputException",
        dict(Name="t", WorkflowName="wf", Type="ON_DEMAND", Actions=[{"Arguments": {"--a": "b"}}]),
        "exactly one of JobName and CrawlerName",
    ),
    "action naming a missing job": (
        "EntityNotFoundException",
        dict(Name="t", WorkflowName="wf", Type="ON_DEMAND", Actions=[run("j1"), run("ghost-job")]),
        "ghost-job",
    ),
    "action naming a missing crawler": (
        "EntityNotFoundException",
        dict(Name="t", WorkflowName="wf", Type="ON_DEMAND", Actions=[{"CrawlerName": "ghost-crawler"}]),
        "ghost-crawler",
    ),
    "condition naming a missing job": (
        "EntityNotFoundException",
        conditional([on_job("ghost-job")], [run("j2")]),
        "ghost-job",
    ),
    "condition naming a missing crawler": (
        "EntityNotFoundException",
        conditional([on_crawler("ghost-crawler")], [run("j2")]),
        "ghost-crawler",
    ),
    "missing workflow": (
        "EntityNotFoundException",
        dict(Name="t", WorkflowName="ghost-wf", Type="ON_DEMAND", Actions=[run("j1")]),
        "ghost-wf",
    ),
    "SCHEDULED without Schedule": (
        "InvalidInputException",
        dict(Name="t", WorkflowName="wf", Type="SCHEDULED", Actions=[run("j1")]),
        "Schedule cannot be null or empty",
    ),
    "SCHEDULED with an empty Schedule": (
        "InvalidInputException",
        dict(Name="t", WorkflowName="wf", Type="SCHEDULED", Schedule="", Actions=[run("j1")]),
        "Schedule cannot be null or empty",
    ),
    "SCHEDULED with a non-cron Schedule": (
        "InvalidInputException",
        dict(Name="t", WorkflowName="wf", Type="SCHEDULED", Schedule="every day at noon", Actions=[run("j1")]),
        "Invalid schedule expression",
    ),
    "SCHEDULED with both day fields set": (
        "InvalidInputException",
        dict(Name="t", WorkflowName="wf", Type="SCHEDULED", Schedule="cron(0 12 * * * *)", Actions=[run("j1")]),
        "Invalid schedule expression",
    ),
    "SCHEDULED with five cron fields": (
        "InvalidInputException",
        dict(Name="t", WorkflowName="wf", Type="SCHEDULED", Schedule="cron(0 12 * * ?)", Actions=[run("j1")]),
        "Invalid schedule expression",
    ),
    "SCHEDULED with an hour out of range": (
        "InvalidInputException",
        dict(Name="t", WorkflowName="wf", Type="SCHEDULED", Schedule="cron(0 24 * * ? *)", Actions=[run("j1")]),
        "Invalid schedule expression",
    ),
    "CONDITIONAL without Predicate": (
        "InvalidInputException",
        dict(Name="t", WorkflowName="wf", Type="CONDITIONAL", Actions=[run("j1")]),
        "Predicate cannot be null or empty",
    ),
    "CONDITIONAL with an empty condition list": (
        "InvalidInputException",
        conditional([], [run("j1")]),
        "Predicate cannot be null or empty",
    ),
    "ON_DEMAND with a predicate": (
        "InvalidInputException",
        dict(Name="t", WorkflowName="wf", Type="ON_DEMAND", Predicate={"Conditions": [on_job("j1")]},
             Actions=[run("j2")]),
        "Only CONDITIONAL triggers",
    ),
    "EventBatchingCondition BatchSize 101": (
        "InvalidInputException",
        dict(Name="t", WorkflowName="wf", Type="EVENT", Actions=[run("j1")],
             EventBatchingCondition={"BatchSize": 101}),
        "batchSize",
    ),
    "EventBatchingCondition BatchWindow 901": (
        "InvalidInputException",
        dict(Name="t", WorkflowName="wf", Type="EVENT", Actions=[run("j1")],
             EventBatchingCondition={"BatchSize": 1, "BatchWindow": 901}),
        "batchWindow",
    ),
    "EVENT outside a workflow": (
        "InvalidInputException",
        dict(Name="t", Type="EVENT", Actions=[run("j1")]),
        "WorkflowName is required",
    ),
    "StartOnCreation on ON_DEMAND": (
        "InvalidInputException",
        dict(Name="t", WorkflowName="wf", Type="ON_DEMAND", Actions=[run("j1")], StartOnCreation=True),
        "StartOnCreation is not supported for ON_DEMAND triggers.",
    ),
    "StartOnCreation on EVENT": (
        "InvalidInputException",
        dict(Name="t", WorkflowName="wf", Type="EVENT", Actions=[run("j1")], StartOnCreation=True),
        "StartOnCreation is not supported for EVENT triggers.",
    ),
    "unknown Type": (
        "InvalidInputException",
        dict(Name="t", WorkflowName="wf", Type="MANUAL", Actions=[run("j1")]),
        "type",
    ),
    "unknown Logical": (
        "InvalidInputException",
        conditional([on_job("j1"), on_job("j2")], [run("j3")], logical="OR"),
        "logical",
    ),
    "more than 50 job actions": (
        "ResourceNumberLimitExceededException",
        dict(Name="t", WorkflowName="wf", Type="ON_DEMAND", Actions=[run("j1")] * 51),
        "more than 50 jobs",
    ),
}


@pytest.mark.parametrize("case", list(INVALID_TRIGGERS), ids=list(INVALID_TRIGGERS))
def test_invalid_trigger_is_rejected_with_a_clear_message(world, case):
    glue = world
    code, request, fragment = INVALID_TRIGGERS[case]
    err = expect_error(code, glue.create_trigger, **request)
    message = err.response["Error"]["Message"]
    assert fragment in message, f"{case}: {message!r}"
    expect_error("EntityNotFoundException", glue.get_trigger, Name=request["Name"])
    assert glue.list_triggers().get("TriggerNames", []) == []


@pytest.mark.parametrize(
    "batching, fragment",
    [
        ({"BatchSize": 0}, "batchSize"),
        ({"BatchSize": 1, "BatchWindow": 0}, "batchWindow"),
        ({"BatchWindow": 60}, "batchSize"),  # BatchSize is required inside the structure
    ],
)
def test_event_batching_below_minimum_is_invalid_input(glue_unvalidated, batching, fragment):
    # botocore itself refuses these (min 1, required); the server must as well.
    glue = glue_unvalidated
    glue.create_workflow(Name="wf")
    make_jobs(glue, "j1")
    err = expect_error("InvalidInputException", glue.create_trigger, Name="t", WorkflowName="wf", Type="EVENT",
                       Actions=[run("j1")], EventBatchingCondition=batching)
    assert fragment in err.response["Error"]["Message"]


@pytest.mark.parametrize("second", ["ON_DEMAND", "SCHEDULED", "EVENT"])
@pytest.mark.parametrize("first", ["ON_DEMAND", "SCHEDULED", "EVENT"])
def test_a_second_start_trigger_in_a_workflow_is_invalid_input(world, first, second):
    glue = world
    schedule = lambda kind: {"Schedule": CRON} if kind == "SCHEDULED" else {}  # noqa: E731
    glue.create_trigger(Name="first", WorkflowName="wf", Type=first, Actions=[run("j1")], **schedule(first))
    err = expect_error("InvalidInputException", glue.create_trigger, Name="second", WorkflowName="wf",
                       Type=second, Actions=[run("j2")], **schedule(second))
    message = err.response["Error"]["Message"]
    assert "wf" in message and "first" in message and "start trigger" in message, message
    expect_error("EntityNotFoundException", glue.get_trigger, Name="second")
    # Other workflows and conditional triggers are unaffected.
    glue.create_workflow(Name="wf2")
    glue.create_trigger(Name="second", WorkflowName="wf2", Type=second, Actions=[run("j2")], **schedule(second))
    glue.create_trigger(Name="cond", WorkflowName="wf", Type="CONDITIONAL",
                        Predicate={"Conditions": [on_job("j1")]}, Actions=[run("j3")])


def test_a_trigger_closing_a_cycle_is_invalid_input_naming_the_cycle(world):
    glue = world
    glue.create_trigger(Name="start", WorkflowName="wf", Type="ON_DEMAND", Actions=[run("j1")])
    glue.create_trigger(Name="t2", WorkflowName="wf", Type="CONDITIONAL",
                        Predicate={"Conditions": [on_job("j1")]}, Actions=[run("j2")])
    glue.create_trigger(Name="t3", WorkflowName="wf", Type="CONDITIONAL",
                        Predicate={"Conditions": [on_job("j2")]}, Actions=[run("j3")])
    err = expect_error("InvalidInputException", glue.create_trigger, Name="back", WorkflowName="wf",
                       Type="CONDITIONAL", Predicate={"Conditions": [on_job("j3")]}, Actions=[run("j1")])
    message = err.response["Error"]["Message"]
    assert "cycle" in message
    for part in ("trigger back", "job j1", "trigger t2", "job j2", "trigger t3", "job j3"):
        assert part in message, message
    expect_error("EntityNotFoundException", glue.get_trigger, Name="back")

    # The same loop through a crawler, and closing it by UpdateTrigger, are refused too.
    glue.create_trigger(Name="t4", WorkflowName="wf", Type="CONDITIONAL",
                        Predicate={"Conditions": [on_job("j3")]}, Actions=[{"CrawlerName": "c1"}])
    err = expect_error("InvalidInputException", glue.create_trigger, Name="back2", WorkflowName="wf",
                       Type="CONDITIONAL", Predicate={"Conditions": [on_crawler("c1")]}, Actions=[run("j2")])
    assert "crawler c1" in err.response["Error"]["Message"]
    before = get_trigger(glue, "t2")
    err = expect_error("InvalidInputException", glue.update_trigger, Name="t2",
                       TriggerUpdate={"Predicate": {"Conditions": [on_job("j3")]}, "Actions": [run("j2")]})
    assert "cycle" in err.response["Error"]["Message"]
    assert get_trigger(glue, "t2") == before


def test_the_same_loop_across_two_workflows_is_not_a_cycle(world):
    glue = world
    glue.create_workflow(Name="wf2")
    glue.create_trigger(Name="a", WorkflowName="wf", Type="CONDITIONAL",
                        Predicate={"Conditions": [on_job("j1")]}, Actions=[run("j2")])
    # Cycles are per workflow: another workflow may run j2 → j1.
    glue.create_trigger(Name="b", WorkflowName="wf2", Type="CONDITIONAL",
                        Predicate={"Conditions": [on_job("j2")]}, Actions=[run("j1")])


def test_update_rules_match_create_rules(world):
    glue = world
    glue.create_trigger(Name="start", WorkflowName="wf", Type="ON_DEMAND", Actions=[run("j1")])
    glue.create_trigger(Name="t", WorkflowName="wf", Type="CONDITIONAL",
                        Predicate={"Conditions": [on_job("j1")]}, Actions=[run("j2")])
    before = get_trigger(glue, "t")
    cases = [
        ("InvalidInputException", {"Predicate": {"Conditions": [{"JobName": "j1", "State": "SUCCEEDED"}]},
                                   "Actions": [run("j2")]}, "Logical operator"),
        ("InvalidInputException", {"Predicate": {"Conditions": [on_job("j1"), on_job("j3")]},
                                   "Actions": [run("j2")]}, "Logical"),
        ("InvalidInputException", {"Predicate": {"Conditions": [on_job("j2")]}, "Actions": [run("j2")]},
         "Job cannot be a Predicate and Action"),
        ("InvalidInputException", {"Actions": [run("j2")]}, "Predicate cannot be null or empty"),
        ("InvalidInputException", {"Predicate": {"Conditions": [on_job("j1")]},
                                   "Actions": [{"CrawlerName": c} for c in ("c1", "c2", "c3")]},
         "more than two crawlers"),
        ("EntityNotFoundException", {"Predicate": {"Conditions": [on_job("j1")]}, "Actions": [run("nope")]}, "nope"),
    ]
    for code, update, fragment in cases:
        err = expect_error(code, glue.update_trigger, Name="t", TriggerUpdate=update)
        assert fragment in err.response["Error"]["Message"], (update, err.response["Error"])
        assert get_trigger(glue, "t") == before


# -- races: the workflow-wide rules hold under concurrent requests ------------------------------------------
def race(weir, calls):
    """Runs each `call(client)` on its own thread and client at once; returns for each call
    None (success) or the error code."""
    import threading

    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def worker(i, call):
        client = weir.client()
        barrier.wait()
        try:
            call(client)
        except Exception as e:  # noqa: BLE001 - the code is what matters
            results[i] = getattr(e, "response", {}).get("Error", {}).get("Code", repr(e))

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_concurrent_start_triggers_leave_exactly_one(weir, world):
    glue = world
    calls = [
        (lambda n: lambda c: c.create_trigger(Name=f"start-{n}", WorkflowName="wf", Type="ON_DEMAND",
                                              Actions=[run("j1")]))(n)
        for n in range(8)
    ]
    results = race(weir, calls)
    assert results.count(None) == 1, results
    assert set(results) - {None} == {"InvalidInputException"}, results
    assert len(glue.list_triggers()["TriggerNames"]) == 1


def test_concurrent_halves_of_a_cycle_leave_exactly_one(weir, world):
    glue = world
    results = race(weir, [
        lambda c: c.create_trigger(Name="forward", WorkflowName="wf", Type="CONDITIONAL",
                                   Predicate={"Conditions": [on_job("j1")]}, Actions=[run("j2")]),
        lambda c: c.create_trigger(Name="backward", WorkflowName="wf", Type="CONDITIONAL",
                                   Predicate={"Conditions": [on_job("j2")]}, Actions=[run("j1")]),
    ])
    assert sorted(results, key=str) == sorted([None, "InvalidInputException"], key=str), results
    assert len(glue.list_triggers()["TriggerNames"]) == 1


def test_concurrent_creates_of_one_name_leave_one_trigger(weir, world):
    glue = world
    calls = [
        (lambda n: lambda c: c.create_trigger(Name="same", Type="ON_DEMAND", Actions=[run("j1")],
                                              Description=f"writer {n}"))(n)
        for n in range(6)
    ]
    results = race(weir, calls)
    assert results.count(None) == 1, results
    assert set(results) - {None} == {"AlreadyExistsException"}, results
    winner = results.index(None)
    assert get_trigger(glue, "same")["Description"] == f"writer {winner}"
