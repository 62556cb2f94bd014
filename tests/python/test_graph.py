"""The static workflow graph through boto3 (spec §4.2; server: resources/graph.rs):
GetWorkflow and BatchGetWorkflows with IncludeGraph=true for a chain, a diamond, a crawler
node and a trigger watching FAILED — node types and names, TriggerDetails equal to
GetTrigger's answer, edges by UniqueId, UniqueIds `wnode_` + 64 hex, stable across calls
and across a SIGKILL + restart."""

import re

from weirtest import expect_error

ROLE = "arn:aws:iam::123456789012:role/Glue"
UNIQUE_ID = re.compile(r"^wnode_[0-9a-f]{64}$")


def make_jobs(glue, *names: str) -> None:
    for name in names:
        glue.create_job(Name=name, Role=ROLE, Command={"Name": "pythonshell", "ScriptLocation": f"s3://b/{name}.py"})


def on_job(job: str, state: str = "SUCCEEDED") -> dict:
    return {"LogicalOperator": "EQUALS", "JobName": job, "State": state}


def conditional(glue, name, workflow, conditions, jobs=(), crawlers=(), logical=None) -> None:
    predicate = {"Conditions": conditions}
    if logical:
        predicate["Logical"] = logical
    glue.create_trigger(
        Name=name,
        WorkflowName=workflow,
        Type="CONDITIONAL",
        Predicate=predicate,
        Actions=[{"JobName": j} for j in jobs] + [{"CrawlerName": c} for c in crawlers],
        StartOnCreation=True,
    )


def graph_of(glue, workflow: str) -> dict:
    graph = glue.get_workflow(Name=workflow, IncludeGraph=True)["Workflow"]["Graph"]
    check_shape(graph)
    return graph


def check_shape(graph: dict) -> None:
    """Every node has a type, a name and a well-formed, unique UniqueId; every edge joins two
    nodes of the graph; only trigger nodes carry details in the static view."""
    nodes = graph.get("Nodes", [])
    ids = [n["UniqueId"] for n in nodes]
    assert len(set(ids)) == len(ids), f"duplicate UniqueIds: {ids}"
    for node in nodes:
        assert UNIQUE_ID.match(node["UniqueId"]), node["UniqueId"]
        assert node["Type"] in ("TRIGGER", "JOB", "CRAWLER"), node
        assert node["Name"]
        if node["Type"] == "TRIGGER":
            assert node["TriggerDetails"]["Trigger"]["Name"] == node["Name"]
        else:
            assert "TriggerDetails" not in node, node
        assert "JobDetails" not in node and "CrawlerDetails" not in node, "run details only in run graphs"
    for edge in graph.get("Edges", []):
        assert edge["SourceId"] in ids and edge["DestinationId"] in ids, edge


def nodes(graph: dict) -> dict:
    """(Type, Name) -> node."""
    return {(n["Type"], n["Name"]): n for n in graph.get("Nodes", [])}


def named_edges(graph: dict) -> set:
    """Edges as ((type, name), (type, name)) pairs, resolved through the UniqueIds."""
    by_id = {n["UniqueId"]: (n["Type"], n["Name"]) for n in graph.get("Nodes", [])}
    return {(by_id[e["SourceId"]], by_id[e["DestinationId"]]) for e in graph.get("Edges", [])}


def T(name):  # noqa: N802
    return ("TRIGGER", name)


def J(name):  # noqa: N802
    return ("JOB", name)


def C(name):  # noqa: N802
    return ("CRAWLER", name)


def assert_trigger_details_match(glue, graph: dict) -> None:
    for node in graph["Nodes"]:
        if node["Type"] == "TRIGGER":
            assert node["TriggerDetails"]["Trigger"] == glue.get_trigger(Name=node["Name"])["Trigger"]


def build_diamond(glue, workflow: str = "diamond") -> None:
    """start → J1; J1 → T2 → J2, J3; J2 AND J3 → T3 → J4."""
    glue.create_workflow(Name=workflow)
    make_jobs(glue, "J1", "J2", "J3", "J4")
    glue.create_trigger(Name="start", WorkflowName=workflow, Type="ON_DEMAND", Actions=[{"JobName": "J1"}])
    conditional(glue, "T2", workflow, [on_job("J1")], jobs=["J2", "J3"])
    conditional(glue, "T3", workflow, [on_job("J2"), on_job("J3")], jobs=["J4"], logical="AND")


DIAMOND_EDGES = {
    (T("start"), J("J1")),
    (J("J1"), T("T2")),
    (T("T2"), J("J2")),
    (T("T2"), J("J3")),
    (J("J2"), T("T3")),
    (J("J3"), T("T3")),
    (T("T3"), J("J4")),
}


# -- shapes -----------------------------------------------------------------------------------------
def test_chain(glue):
    glue.create_workflow(Name="chain")
    make_jobs(glue, "J1", "J2")
    conditional(glue, "T", "chain", [on_job("J1")], jobs=["J2"])
    graph = graph_of(glue, "chain")
    assert set(nodes(graph)) == {T("T"), J("J1"), J("J2")}
    assert len(graph["Nodes"]) == 3
    assert named_edges(graph) == {(J("J1"), T("T")), (T("T"), J("J2"))}
    assert len(graph["Edges"]) == 2
    assert_trigger_details_match(glue, graph)


def test_diamond_has_seven_nodes_and_seven_edges(glue):
    build_diamond(glue)
    graph = graph_of(glue, "diamond")
    assert set(nodes(graph)) == {T("start"), T("T2"), T("T3"), J("J1"), J("J2"), J("J3"), J("J4")}
    assert len(graph["Nodes"]) == 7
    assert len(graph["Edges"]) == 7
    assert named_edges(graph) == DIAMOND_EDGES
    assert_trigger_details_match(glue, graph)
    t3 = nodes(graph)[T("T3")]["TriggerDetails"]["Trigger"]
    assert t3["Predicate"] == {"Logical": "AND", "Conditions": [on_job("J2"), on_job("J3")]}
    assert t3["State"] == "ACTIVATED"
    assert nodes(graph)[T("start")]["TriggerDetails"]["Trigger"]["Type"] == "ON_DEMAND"


def test_crawler_node(glue):
    glue.create_workflow(Name="crawl")
    make_jobs(glue, "load")
    glue.create_crawler(Name="raw-crawler", Role=ROLE, Targets={"S3Targets": [{"Path": "s3://b/raw/"}]})
    glue.create_trigger(Name="start", WorkflowName="crawl", Type="ON_DEMAND",
                        Actions=[{"CrawlerName": "raw-crawler"}])
    conditional(
        glue, "after-crawl", "crawl",
        [{"LogicalOperator": "EQUALS", "CrawlerName": "raw-crawler", "CrawlState": "SUCCEEDED"}],
        jobs=["load"],
    )
    graph = graph_of(glue, "crawl")
    assert set(nodes(graph)) == {T("start"), T("after-crawl"), C("raw-crawler"), J("load")}
    assert named_edges(graph) == {
        (T("start"), C("raw-crawler")),
        (C("raw-crawler"), T("after-crawl")),
        (T("after-crawl"), J("load")),
    }
    assert_trigger_details_match(glue, graph)


def test_trigger_watching_failed(glue):
    glue.create_workflow(Name="recover")
    make_jobs(glue, "etl", "report", "cleanup")
    glue.create_trigger(Name="start", WorkflowName="recover", Type="ON_DEMAND", Actions=[{"JobName": "etl"}])
    conditional(glue, "on-success", "recover", [on_job("etl", "SUCCEEDED")], jobs=["report"])
    conditional(glue, "on-failure", "recover", [on_job("etl", "FAILED"), on_job("etl", "TIMEOUT")],
                jobs=["cleanup"], logical="ANY")
    graph = graph_of(glue, "recover")
    assert named_edges(graph) == {
        (T("start"), J("etl")),
        (J("etl"), T("on-success")),
        (T("on-success"), J("report")),
        (J("etl"), T("on-failure")),  # one edge although two conditions watch etl
        (T("on-failure"), J("cleanup")),
    }
    assert len(graph["Edges"]) == 5
    failure = nodes(graph)[T("on-failure")]["TriggerDetails"]["Trigger"]
    assert [c["State"] for c in failure["Predicate"]["Conditions"]] == ["FAILED", "TIMEOUT"]
    assert_trigger_details_match(glue, graph)


def test_a_job_in_one_node_per_workflow_only(glue):
    # J1 is started by one trigger and watched by two: a single JOB node.
    glue.create_workflow(Name="fan")
    make_jobs(glue, "J1", "J2", "J3")
    glue.create_trigger(Name="start", WorkflowName="fan", Type="ON_DEMAND", Actions=[{"JobName": "J1"}])
    conditional(glue, "a", "fan", [on_job("J1")], jobs=["J2"])
    conditional(glue, "b", "fan", [on_job("J1", "FAILED")], jobs=["J3"])
    graph = graph_of(glue, "fan")
    assert [n["Name"] for n in graph["Nodes"] if n["Type"] == "JOB"].count("J1") == 1
    assert len(graph["Nodes"]) == 6
    assert len(graph["Edges"]) == 5


def test_empty_workflow_and_graph_only_on_request(glue):
    glue.create_workflow(Name="empty")
    graph = glue.get_workflow(Name="empty", IncludeGraph=True)["Workflow"]["Graph"]
    assert graph.get("Nodes", []) == [] and graph.get("Edges", []) == []
    build_diamond(glue)
    assert "Graph" not in glue.get_workflow(Name="diamond")["Workflow"]
    assert "Graph" not in glue.get_workflow(Name="diamond", IncludeGraph=False)["Workflow"]
    out = glue.batch_get_workflows(Names=["diamond"])
    assert "Graph" not in out["Workflows"][0]


def test_standalone_and_other_workflows_triggers_stay_out(glue):
    build_diamond(glue)
    glue.create_workflow(Name="other")
    make_jobs(glue, "X")
    glue.create_trigger(Name="other-start", WorkflowName="other", Type="ON_DEMAND", Actions=[{"JobName": "J1"}])
    glue.create_trigger(Name="standalone", Type="ON_DEMAND", Actions=[{"JobName": "X"}])
    graph = graph_of(glue, "diamond")
    assert named_edges(graph) == DIAMOND_EDGES
    assert named_edges(graph_of(glue, "other")) == {(T("other-start"), J("J1"))}


# -- UniqueIds --------------------------------------------------------------------------------------
def unique_ids(graph: dict) -> dict:
    return {(n["Type"], n["Name"]): n["UniqueId"] for n in graph["Nodes"]}


def test_batch_get_workflows_graph_equals_get_workflow(glue):
    build_diamond(glue)
    glue.create_workflow(Name="chain")
    conditional(glue, "T", "chain", [on_job("J1")], jobs=["J2"])
    out = glue.batch_get_workflows(Names=["diamond", "ghost", "chain"], IncludeGraph=True)
    assert out["MissingWorkflows"] == ["ghost"]
    by_name = {w["Name"]: w for w in out["Workflows"]}
    assert set(by_name) == {"diamond", "chain"}
    for name, workflow in by_name.items():
        check_shape(workflow["Graph"])
        assert workflow["Graph"] == graph_of(glue, name)
    assert len(by_name["diamond"]["Graph"]["Edges"]) == 7


def test_unique_ids_are_stable_and_scoped_by_workflow(glue):
    build_diamond(glue)
    first = graph_of(glue, "diamond")
    assert graph_of(glue, "diamond") == first, "the same graph on every call"
    ids = unique_ids(first)
    # Edits elsewhere in the workflow do not renumber existing nodes.
    make_jobs(glue, "J5")
    conditional(glue, "T4", "diamond", [on_job("J4")], jobs=["J5"])
    grown = unique_ids(graph_of(glue, "diamond"))
    assert {k: grown[k] for k in ids} == ids
    assert len(grown) == 9
    # The same job in another workflow is another node with another id.
    glue.create_workflow(Name="elsewhere")
    glue.create_trigger(Name="e-start", WorkflowName="elsewhere", Type="ON_DEMAND", Actions=[{"JobName": "J1"}])
    assert unique_ids(graph_of(glue, "elsewhere"))[J("J1")] != ids[J("J1")]


def test_graph_survives_kill9_and_restart(weir, glue):
    build_diamond(glue)
    glue.create_crawler(Name="C1", Role=ROLE, Targets={"S3Targets": [{"Path": "s3://b/c1/"}]})
    conditional(glue, "T4", "diamond", [on_job("J4", "FAILED")], crawlers=["C1"])
    before = graph_of(glue, "diamond")
    batch_before = glue.batch_get_workflows(Names=["diamond"], IncludeGraph=True)["Workflows"][0]["Graph"]
    assert batch_before == before

    weir.kill9()
    weir.restart()
    glue = weir.client()
    after = graph_of(glue, "diamond")
    assert after == before, "same nodes, UniqueIds, trigger details and edges after a restart"
    assert unique_ids(after) == unique_ids(before)
    assert glue.batch_get_workflows(Names=["diamond"], IncludeGraph=True)["Workflows"][0]["Graph"] == before
    assert len(after["Edges"]) == 9
    assert_trigger_details_match(glue, after)


# -- the graph follows trigger changes ----------------------------------------------------------------
def test_graph_follows_update_and_delete_trigger(glue):
    build_diamond(glue)
    ids = unique_ids(graph_of(glue, "diamond"))
    # T3 now waits only for J2 (still starting J4).
    glue.update_trigger(Name="T3", TriggerUpdate={"Predicate": {"Conditions": [on_job("J2")]},
                                                  "Actions": [{"JobName": "J4"}]})
    graph = graph_of(glue, "diamond")
    assert named_edges(graph) == DIAMOND_EDGES - {(J("J3"), T("T3"))}
    assert nodes(graph)[T("T3")]["TriggerDetails"]["Trigger"] == glue.get_trigger(Name="T3")["Trigger"]
    assert unique_ids(graph) == ids

    glue.delete_trigger(Name="T3")
    graph = graph_of(glue, "diamond")
    # J4 was only named by T3: it leaves the graph with it.
    assert set(nodes(graph)) == {T("start"), T("T2"), J("J1"), J("J2"), J("J3")}
    assert named_edges(graph) == {
        (T("start"), J("J1")), (J("J1"), T("T2")), (T("T2"), J("J2")), (T("T2"), J("J3")),
    }


def test_deleted_job_stays_as_a_dangling_node(glue):
    build_diamond(glue)
    ids = unique_ids(graph_of(glue, "diamond"))
    glue.delete_job(JobName="J4")
    expect_error("EntityNotFoundException", glue.get_job, JobName="J4")
    graph = graph_of(glue, "diamond")
    assert J("J4") in nodes(graph)
    assert unique_ids(graph)[J("J4")] == ids[J("J4")]
    assert named_edges(graph) == DIAMOND_EDGES


def test_missing_workflow_is_entity_not_found(glue):
    err = expect_error("EntityNotFoundException", glue.get_workflow, Name="ghost", IncludeGraph=True)
    assert "ghost" in err.response["Error"]["Message"]
