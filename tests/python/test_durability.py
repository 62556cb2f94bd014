"""Acknowledged writes survive SIGKILL; SIGTERM stops cleanly (DESIGN: durable before
acknowledged)."""

from weirtest import expect_error, workflow_arn


def test_acknowledged_writes_survive_sigkill(weir, glue):
    glue.create_workflow(
        Name="durable",
        Description="must survive",
        DefaultRunProperties={"k": "v"},
        MaxConcurrentRuns=3,
        Tags={"team": "data"},
    )
    glue.create_workflow(Name="updated", Description="old")
    glue.update_workflow(Name="updated", Description="new")
    glue.create_workflow(Name="deleted")
    glue.delete_workflow(Name="deleted")
    before = glue.get_workflow(Name="durable")["Workflow"]

    weir.kill9()
    weir.restart()
    glue = weir.client()

    assert glue.get_workflow(Name="durable")["Workflow"] == before
    assert glue.get_workflow(Name="updated")["Workflow"]["Description"] == "new"
    expect_error("EntityNotFoundException", glue.get_workflow, Name="deleted")
    assert glue.get_tags(ResourceArn=workflow_arn("durable"))["Tags"] == {"team": "data"}
    assert sorted(glue.list_workflows()["Workflows"]) == ["durable", "updated"]


def test_sigterm_is_clean_and_keeps_data(weir, glue):
    glue.create_workflow(Name="kept")
    assert weir.terminate() == 0
    weir.restart()
    assert weir.client().get_workflow(Name="kept")["Workflow"]["Name"] == "kept"
