"""Acknowledged writes survive SIGKILL; SIGTERM stops cleanly (DESIGN: durable before
acknowledged)."""

import threading

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


def test_writes_acknowledged_together_survive_sigkill(weir, glue):
    """Sixteen writers at once (their commits are grouped); the server is killed while
    writes are in flight: every write that was answered is there after the restart."""
    acknowledged = []
    lock = threading.Lock()
    enough = threading.Event()

    def writer(index):
        client = weir.client()
        sequence = 0
        while True:
            name = f"w{index}-{sequence}"
            sequence += 1
            try:
                client.create_workflow(Name=name, DefaultRunProperties={"writer": str(index)})
            except Exception:  # the server died under this call: not acknowledged
                return
            with lock:
                acknowledged.append(name)
                if len(acknowledged) >= 400:
                    enough.set()

    threads = [threading.Thread(target=writer, args=(i,), daemon=True) for i in range(16)]
    for thread in threads:
        thread.start()
    assert enough.wait(timeout=120), "the writers were answered"
    weir.kill9()
    for thread in threads:
        thread.join(timeout=60)
    weir.restart()
    glue = weir.client()

    stored = set()
    for page in glue.get_paginator("list_workflows").paginate():
        stored.update(page["Workflows"])
    with lock:
        missing = [name for name in acknowledged if name not in stored]
    assert not missing, f"acknowledged but lost: {missing[:5]} of {len(missing)}"
    for name in acknowledged[:: max(1, len(acknowledged) // 20)]:
        workflow = glue.get_workflow(Name=name)["Workflow"]
        assert workflow["DefaultRunProperties"] == {"writer": name[1:].split("-")[0]}
