"""Crawls through boto3 (spec §7; server: crawler/, operations/crawls.rs, the
orchestrator's crawl effect): a crawler over a local S3 tree creates exactly the tables
of its folders (CSV with header and types, Hive partitions, JSON lines), re-crawls
update changed tables and deprecate vanished ones, StartCrawler/StopCrawler errors and
states, ListCrawls history and filters, GetCrawlerMetrics, and crawler nodes in
workflows (success, busy crawler, stopped run).

Crawls that must be observed while running use a server started with the test hook
WEIR_CRAWL_FILE_DELAY_MS (every sampled file waits that long); every wait is a bounded
poll of the API."""

import json
import pathlib
import sys

import pytest

import weirtest
from runs_helpers import (  # noqa: F401  (weir_args is a fixture)
    SERVER_ARGS,
    create_job,
    nodes_by_name,
    wait_for,
    wait_run,
    weir_args,
)
from weirtest import expect_error

ROLE = "arn:aws:iam::123456789012:role/GlueCrawlerRole"
DEADLINE = 60.0


def put(weir, rel: str, text: str) -> None:
    path = pathlib.Path(weir.data_dir) / "s3" / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def make_lake(weir) -> None:
    put(weir, "lake/data/customers/part-0.csv", "id,name,vip,signup\n1,Ann,true,2024-01-02 10:00:00\n2,Bob,false,2024-02-03 11:30:00\n")
    put(weir, "lake/data/customers/part-1.csv", "id,name,vip,signup\n3,Cy,true,2024-03-04 12:00:00\n")
    put(weir, "lake/data/sales/year=2024/month=01/a.csv", "order_id,amount\n10,9.5\n11,3\n")
    put(weir, "lake/data/sales/year=2024/month=02/b.csv", "order_id,amount\n12,4.25\n")
    put(weir, "lake/data/sales/year=2023/month=12/c.csv", "order_id,amount\n9,1\n")
    put(weir, "lake/data/events/e1.jsonl",
        '{"id": 1, "kind": "click", "user": {"name": "a", "age": 30}}\n{"id": 2, "kind": "view", "tags": ["x", "y"]}\n')
    put(weir, "lake/data/events/_SUCCESS", "")


def crawler(glue, name="lake", path="s3://lake/data/", **members) -> None:
    members.setdefault("DatabaseName", "lakedb")
    glue.create_crawler(Name=name, Role=ROLE, Targets={"S3Targets": [{"Path": path}]}, **members)


def wait_ready(glue, name: str, runs: int = 1) -> dict:
    """Polls until the crawler is READY with `runs` finished crawls."""
    def ready():
        c = glue.get_crawler(Name=name)["Crawler"]
        done = [x for x in glue.list_crawls(CrawlerName=name)["Crawls"] if x["State"] != "RUNNING"]
        return c if c["State"] == "READY" and len(done) >= runs else None
    return wait_for(ready, f"crawler {name} READY after {runs} crawls", DEADLINE)


def crawl(glue, name: str, runs: int = 1) -> dict:
    glue.start_crawler(Name=name)
    return wait_ready(glue, name, runs)


def columns(table: dict) -> list:
    return [(c["Name"], c["Type"]) for c in table["StorageDescriptor"]["Columns"]]


@pytest.fixture
def slow_weir(tmp_path, monkeypatch):
    """A server whose crawls wait 200 ms before each sampled file."""
    monkeypatch.setenv("WEIR_CRAWL_FILE_DELAY_MS", "200")
    data = tmp_path / "slow-data"
    data.mkdir()
    server = weirtest.WeirServer(data, tmp_path / "slow.log", extra_args=SERVER_ARGS)
    server.start()
    monkeypatch.delenv("WEIR_CRAWL_FILE_DELAY_MS")
    try:
        yield server
    finally:
        server.stop()
        sys.stderr.write("---- slow weir log ----\n" + server.log_text()[-20000:])


def big_tree(weir, files: int = 60) -> None:
    for i in range(files):
        put(weir, f"big/t/f{i:03d}.csv", "a,b\n1,x\n")


# -- the crawl -------------------------------------------------------------------------------
def test_a_crawl_creates_the_tables_of_the_tree(weir, glue):
    make_lake(weir)
    crawler(glue, TablePrefix="raw_")
    c = crawl(glue, "lake")
    assert c["LastCrawl"]["Status"] == "SUCCEEDED", c
    assert c["LastCrawl"]["LogGroup"] == "/aws-glue/crawlers"
    assert c["LastCrawl"]["LogStream"] == "lake"
    assert c["CrawlElapsedTime"] == 0

    assert glue.get_database(Name="lakedb")["Database"]["Name"] == "lakedb", "created by the crawl"
    tables = {t["Name"]: t for t in glue.get_tables(DatabaseName="lakedb")["TableList"]}
    assert sorted(tables) == ["raw_customers", "raw_events", "raw_sales"]

    customers = tables["raw_customers"]
    assert customers["TableType"] == "EXTERNAL_TABLE"
    assert columns(customers) == [("id", "bigint"), ("name", "string"), ("vip", "boolean"),
                                  ("signup", "timestamp")]
    assert customers["PartitionKeys"] == []
    assert customers["Parameters"]["classification"] == "csv"
    assert customers["Parameters"]["skip.header.line.count"] == "1"
    assert customers["Parameters"]["UPDATED_BY_CRAWLER"] == "lake"
    assert customers["Parameters"]["objectCount"] == "2"
    sd = customers["StorageDescriptor"]
    assert sd["Location"] == "s3://lake/data/customers/"
    assert sd["InputFormat"] == "org.apache.hadoop.mapred.TextInputFormat"
    assert sd["OutputFormat"] == "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"
    assert sd["SerdeInfo"] == {"SerializationLibrary": "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
                               "Parameters": {"field.delim": ","}}

    sales = tables["raw_sales"]
    assert columns(sales) == [("order_id", "bigint"), ("amount", "double")]
    assert [(k["Name"], k["Type"]) for k in sales["PartitionKeys"]] == [("year", "string"), ("month", "string")]
    partitions = glue.get_partitions(DatabaseName="lakedb", TableName="raw_sales")["Partitions"]
    assert [p["Values"] for p in partitions] == [["2023", "12"], ["2024", "01"], ["2024", "02"]]
    assert partitions[1]["StorageDescriptor"]["Location"] == "s3://lake/data/sales/year=2024/month=01/"
    assert partitions[1]["TableName"] == "raw_sales" and partitions[1]["DatabaseName"] == "lakedb"
    picked = glue.get_partitions(DatabaseName="lakedb", TableName="raw_sales",
                                 Expression="year = '2024' AND month > '01'")["Partitions"]
    assert [p["Values"] for p in picked] == [["2024", "02"]]
    paged = glue.get_partitions(DatabaseName="lakedb", TableName="raw_sales", MaxResults=2)
    assert len(paged["Partitions"]) == 2 and paged["NextToken"]
    rest = glue.get_partitions(DatabaseName="lakedb", TableName="raw_sales", NextToken=paged["NextToken"])
    assert [p["Values"] for p in rest["Partitions"]] == [["2024", "02"]]

    events = tables["raw_events"]
    assert events["Parameters"]["classification"] == "json"
    assert columns(events) == [("id", "int"), ("kind", "string"), ("user", "struct<name:string,age:int>"),
                               ("tags", "array<string>")]
    assert events["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"] == "org.openx.data.jsonserde.JsonSerDe"

    crawls = glue.list_crawls(CrawlerName="lake")["Crawls"]
    assert len(crawls) == 1
    assert crawls[0]["State"] == "COMPLETED"
    assert json.loads(crawls[0]["Summary"]) == {"TABLE": {"ADD": {"Count": 3}}, "PARTITION": {"ADD": {"Count": 3}}}
    assert crawls[0]["CrawlId"] == c["LastCrawl"]["MessagePrefix"]
    metrics = glue.get_crawler_metrics(CrawlerNameList=["lake"])["CrawlerMetricsList"]
    assert metrics[0]["TablesCreated"] == 3
    assert (metrics[0]["TablesUpdated"], metrics[0]["TablesDeleted"]) == (0, 0)
    assert metrics[0]["StillEstimating"] is False


def test_a_recrawl_updates_changed_tables_and_deprecates_vanished_ones(weir, glue):
    make_lake(weir)
    crawler(glue)
    crawl(glue, "lake")
    before = glue.get_table(DatabaseName="lakedb", Name="customers")["Table"]
    untouched = glue.get_table(DatabaseName="lakedb", Name="events")["Table"]

    put(weir, "lake/data/customers/part-0.csv", "id,name,vip,signup,score\n1,Ann,true,2024-01-02 10:00:00,1.5\n")
    put(weir, "lake/data/customers/part-1.csv", "id,name,vip,signup,score\n3,Cy,true,2024-03-04 12:00:00,2\n")
    put(weir, "lake/data/sales/year=2024/month=03/d.csv", "order_id,amount\n13,7\n")
    for path in (pathlib.Path(weir.data_dir) / "s3/lake/data/events").iterdir():
        path.unlink()
    c = crawl(glue, "lake", runs=2)
    assert c["LastCrawl"]["Status"] == "SUCCEEDED"

    after = glue.get_table(DatabaseName="lakedb", Name="customers")["Table"]
    assert columns(after)[-1] == ("score", "double")
    assert after["VersionId"] == "1"
    assert after["CreateTime"] == before["CreateTime"]
    values = [p["Values"] for p in glue.get_partitions(DatabaseName="lakedb", TableName="sales")["Partitions"]]
    assert ["2024", "03"] in values and len(values) == 4
    gone = glue.get_table(DatabaseName="lakedb", Name="events")["Table"]
    assert int(gone["Parameters"]["DEPRECATED_BY_CRAWLER"]) > 0
    assert columns(gone) == columns(untouched)

    newest = glue.list_crawls(CrawlerName="lake")["Crawls"][0]
    assert json.loads(newest["Summary"]) == {"TABLE": {"UPDATE": {"Count": 1}, "DELETE": {"Count": 1}},
                                             "PARTITION": {"ADD": {"Count": 1}}}
    metrics = glue.get_crawler_metrics()["CrawlerMetricsList"][0]
    assert (metrics["TablesCreated"], metrics["TablesUpdated"], metrics["TablesDeleted"]) == (0, 1, 1)
    assert metrics["MedianRuntimeSeconds"] >= 0


def test_log_update_behavior_leaves_tables_and_delete_behavior_deletes(weir, glue):
    make_lake(weir)
    crawler(glue, SchemaChangePolicy={"UpdateBehavior": "LOG", "DeleteBehavior": "DELETE_FROM_DATABASE"})
    crawl(glue, "lake")
    put(weir, "lake/data/customers/part-0.csv", "id,name,extra\n1,Ann,9\n")
    for path in (pathlib.Path(weir.data_dir) / "s3/lake/data/events").iterdir():
        path.unlink()
    crawl(glue, "lake", runs=2)
    customers = glue.get_table(DatabaseName="lakedb", Name="customers")["Table"]
    assert "extra" not in [n for n, _ in columns(customers)], "LOG leaves the table as it was"
    expect_error("EntityNotFoundException", glue.get_table, DatabaseName="lakedb", Name="events")


def test_failing_and_empty_crawls(weir, glue):
    crawler(glue, "nobucket", path="s3://missing-bucket/x/")
    c = crawl(glue, "nobucket")
    assert c["LastCrawl"]["Status"] == "FAILED"
    assert c["LastCrawl"]["ErrorMessage"] == "S3 bucket missing-bucket does not exist."
    assert glue.list_crawls(CrawlerName="nobucket")["Crawls"][0]["State"] == "FAILED"

    put(weir, "empty/readme/.keep", "")
    crawler(glue, "empty", path="s3://empty/nothing-here/")
    assert crawl(glue, "empty")["LastCrawl"]["Status"] == "SUCCEEDED"
    assert glue.get_tables(DatabaseName="lakedb")["TableList"] == []

    glue.create_crawler(Name="nodb", Role=ROLE, Targets={"S3Targets": [{"Path": "s3://empty/"}]})
    c = crawl(glue, "nodb")
    assert c["LastCrawl"]["Status"] == "FAILED"
    assert "DatabaseName" in c["LastCrawl"]["ErrorMessage"]

    err = expect_error("EntityNotFoundException", glue.start_crawler, Name="ghost")
    assert err.response["Error"]["Message"] == "Crawler with name ghost does not exist"
    expect_error("EntityNotFoundException", glue.stop_crawler, Name="ghost")
    expect_error("EntityNotFoundException", glue.list_crawls, CrawlerName="ghost")
    expect_error("CrawlerNotRunningException", glue.stop_crawler, Name="empty")


def test_catalog_targets_recrawl_the_named_tables_in_place(weir, glue):
    put(weir, "wh/orders/day=1/a.csv", "order_id,amount\n1,2.5\n")
    put(weir, "wh/other/x.csv", "a,b\n1,2\n")
    glue.create_database(DatabaseInput={"Name": "curated"})
    for name, location in (("orders", "s3://wh/orders"), ("other", "s3://wh/other")):
        glue.create_table(DatabaseName="curated", TableInput={
            "Name": name, "Description": f"kept {name}", "Owner": "data-team",
            "Parameters": {"mine": "yes"},
            "StorageDescriptor": {"Location": location, "Columns": [{"Name": "old", "Type": "int"}]},
        })
    # No DatabaseName: a catalog target names the database of its tables.
    glue.create_crawler(Name="recrawl", Role=ROLE, Targets={
        "CatalogTargets": [{"DatabaseName": "curated", "Tables": ["orders"]}]})
    c = crawl(glue, "recrawl")
    assert c["LastCrawl"]["Status"] == "SUCCEEDED", c["LastCrawl"]

    orders = glue.get_table(DatabaseName="curated", Name="orders")["Table"]
    assert columns(orders) == [("order_id", "bigint"), ("amount", "double")]
    assert [k["Name"] for k in orders["PartitionKeys"]] == ["day"]
    assert orders["StorageDescriptor"]["Location"] == "s3://wh/orders"
    assert orders["Description"] == "kept orders" and orders["Owner"] == "data-team"
    assert orders["Parameters"]["classification"] == "csv"
    assert orders["Parameters"]["UPDATED_BY_CRAWLER"] == "recrawl"
    parts = glue.get_partitions(DatabaseName="curated", TableName="orders")["Partitions"]
    assert [p["Values"] for p in parts] == [["1"]]
    # Only the named table changed; no table was added.
    other = glue.get_table(DatabaseName="curated", Name="other")["Table"]
    assert columns(other) == [("old", "int")]
    assert sorted(t["Name"] for t in glue.get_tables(DatabaseName="curated")["TableList"]) == \
        ["orders", "other"]
    assert glue.list_crawls(CrawlerName="recrawl")["Crawls"][0]["State"] == "COMPLETED"

    put(weir, "wh/orders/day=2/b.csv", "order_id,amount,note\n2,1.0,x\n")
    crawl(glue, "recrawl", runs=2)
    orders = glue.get_table(DatabaseName="curated", Name="orders")["Table"]
    assert ("note", "string") in columns(orders)
    parts = glue.get_partitions(DatabaseName="curated", TableName="orders")["Partitions"]
    assert sorted(p["Values"] for p in parts) == [["1"], ["2"]]


def test_list_crawls_filters_and_pages(weir, glue):
    make_lake(weir)
    crawler(glue)
    for runs in (1, 2, 3):
        crawl(glue, "lake", runs=runs)
    crawls = glue.list_crawls(CrawlerName="lake")["Crawls"]
    assert [c["State"] for c in crawls] == ["COMPLETED"] * 3
    starts = [c["StartTime"] for c in crawls]
    assert starts == sorted(starts, reverse=True), "newest first"

    def listed(*filters, **kwargs):
        out = glue.list_crawls(CrawlerName="lake", Filters=[
            {"FieldName": f, "FilterOperator": o, "FieldValue": v} for f, o, v in filters], **kwargs)
        return [c["CrawlId"] for c in out["Crawls"]]

    ids = [c["CrawlId"] for c in crawls]
    assert listed(("STATE", "EQ", "COMPLETED")) == ids
    assert listed(("STATE", "NE", "COMPLETED")) == []
    assert listed(("CRAWL_ID", "EQ", ids[1])) == [ids[1]]
    middle = str(round(crawls[1]["StartTime"].timestamp() * 1000))
    assert listed(("START_TIME", "GE", middle)) == ids[:2]
    assert listed(("START_TIME", "LT", middle)) == ids[2:]
    assert listed(("END_TIME", "GT", "2000-01-01T00:00:00Z"), ("STATE", "EQ", "COMPLETED")) == ids
    expect_error("InvalidInputException", glue.list_crawls, CrawlerName="lake",
                 Filters=[{"FieldName": "STATE", "FilterOperator": "GT", "FieldValue": "RUNNING"}])
    expect_error("InvalidInputException", glue.list_crawls, CrawlerName="lake",
                 Filters=[{"FieldName": "START_TIME", "FilterOperator": "GT", "FieldValue": "soon"}])
    first = glue.list_crawls(CrawlerName="lake", MaxResults=2)
    second = glue.list_crawls(CrawlerName="lake", MaxResults=2, NextToken=first["NextToken"])
    assert [c["CrawlId"] for c in first["Crawls"] + second["Crawls"]] == ids
    assert "NextToken" not in second


@pytest.mark.parametrize("value", [
    "2024-01-01T00:00:00\u00e9:abc",  # a 2-byte character where the offset's sign would be
    "2024-01-01T00:00:00+0\u00e9:0",
    "2024-01-01T00:00:00.\u00e9",
    "2024-\u00e9-01",
    "2024-01-01T25:00:00Z",
])
def test_list_crawls_rejects_malformed_times(glue, value):
    """A malformed time is InvalidInputException naming the value, never a dropped
    connection (the time parser once sliced inside a multi-byte character)."""
    crawler(glue)
    err = expect_error("InvalidInputException", glue.list_crawls, CrawlerName="lake",
                       Filters=[{"FieldName": "START_TIME", "FilterOperator": "GT", "FieldValue": value}])
    assert value in err.response["Error"]["Message"]
    assert glue.list_crawls(CrawlerName="lake")["Crawls"] == []


# -- running crawls --------------------------------------------------------------------------
def test_start_twice_and_stop(slow_weir):
    glue = slow_weir.client()
    big_tree(slow_weir)
    crawler(glue, "big", path="s3://big/")
    glue.start_crawler(Name="big")
    running = glue.get_crawler(Name="big")["Crawler"]
    assert running["State"] == "RUNNING"
    err = expect_error("CrawlerRunningException", glue.start_crawler, Name="big")
    assert err.response["Error"]["Message"] == "Crawler with name big has already started"
    expect_error("CrawlerRunningException", glue.delete_crawler, Name="big")
    expect_error("InvalidInputException", glue.update_crawler, Name="big", Description="x")
    listed = glue.list_crawls(CrawlerName="big")["Crawls"]
    assert [c["State"] for c in listed] == ["RUNNING"]
    assert "EndTime" not in listed[0]
    wait_for(lambda: glue.get_crawler(Name="big")["Crawler"]["CrawlElapsedTime"] > 0,
             "CrawlElapsedTime to grow", DEADLINE)
    metrics = glue.get_crawler_metrics(CrawlerNameList=["big"])["CrawlerMetricsList"][0]
    assert metrics["StillEstimating"] is True

    glue.stop_crawler(Name="big")
    state = glue.get_crawler(Name="big")["Crawler"]["State"]
    assert state in ("STOPPING", "READY")
    if state == "STOPPING":
        try:
            glue.stop_crawler(Name="big")
        except glue.exceptions.ClientError as e:
            assert e.response["Error"]["Code"] in ("CrawlerStoppingException", "CrawlerNotRunningException")
    c = wait_ready(glue, "big")
    assert c["LastCrawl"]["Status"] == "CANCELLED"
    assert glue.list_crawls(CrawlerName="big")["Crawls"][0]["State"] == "STOPPED"
    expect_error("EntityNotFoundException", glue.get_tables, DatabaseName="lakedb")
    expect_error("CrawlerNotRunningException", glue.stop_crawler, Name="big")


# -- workflows -------------------------------------------------------------------------------
def test_a_workflow_runs_job_crawler_job(weir, glue, tmp_path):
    out = tmp_path / "after.txt"
    data = pathlib.Path(weir.data_dir) / "s3" / "wf" / "orders" / "part-0.csv"
    produce = tmp_path / "produce.py"
    produce.write_text(
        "import os\n"
        f"os.makedirs({str(data.parent)!r}, exist_ok=True)\n"
        f"open({str(data)!r}, 'w').write('order_id,total\\n1,2.5\\n')\n")
    after = tmp_path / "after.py"
    after.write_text(f"open({str(out)!r}, 'w').write('crawled')\n")
    (pathlib.Path(weir.data_dir) / "s3" / "wf").mkdir(parents=True, exist_ok=True)
    create_job(glue, "produce", str(produce))
    create_job(glue, "after", str(after))
    crawler(glue, "orders", path="s3://wf/")
    glue.create_workflow(Name="etl")
    glue.create_trigger(Name="start", WorkflowName="etl", Type="ON_DEMAND", Actions=[{"JobName": "produce"}])
    glue.create_trigger(Name="then-crawl", WorkflowName="etl", Type="CONDITIONAL", StartOnCreation=True,
                        Predicate={"Conditions": [{"LogicalOperator": "EQUALS", "JobName": "produce",
                                                   "State": "SUCCEEDED"}]},
                        Actions=[{"CrawlerName": "orders"}])
    glue.create_trigger(Name="then-after", WorkflowName="etl", Type="CONDITIONAL", StartOnCreation=True,
                        Predicate={"Conditions": [{"LogicalOperator": "EQUALS", "CrawlerName": "orders",
                                                   "CrawlState": "SUCCEEDED"}]},
                        Actions=[{"JobName": "after"}])
    run_id = glue.start_workflow_run(Name="etl")["RunId"]
    run = wait_run(glue, "etl", run_id)
    assert run["Status"] == "COMPLETED", run
    assert run["Statistics"]["SucceededActions"] == 3, run["Statistics"]
    assert out.read_text() == "crawled"
    crawl_node = nodes_by_name(run, "CRAWLER")["orders"]
    assert crawl_node["CrawlerDetails"]["Crawls"][0]["State"] == "SUCCEEDED"
    table = glue.get_table(DatabaseName="lakedb", Name="orders")["Table"]
    assert columns(table) == [("order_id", "bigint"), ("total", "double")]
    c = glue.get_crawler(Name="orders")["Crawler"]
    assert (c["State"], c["LastCrawl"]["Status"]) == ("READY", "SUCCEEDED")
    history = glue.list_crawls(CrawlerName="orders")["Crawls"]
    assert [h["State"] for h in history] == ["COMPLETED"], "the workflow's crawl is the crawler's crawl"


def crawl_workflow(glue, workflow: str, crawler_name: str) -> None:
    glue.create_workflow(Name=workflow)
    glue.create_trigger(Name=f"{workflow}-start", WorkflowName=workflow, Type="ON_DEMAND",
                        Actions=[{"CrawlerName": crawler_name}])


def crawl_of(glue, workflow: str, run_id: str, crawler_name: str) -> dict:
    run = glue.get_workflow_run(Name=workflow, RunId=run_id, IncludeGraph=True)["Run"]
    details = nodes_by_name(run, "CRAWLER")[crawler_name].get("CrawlerDetails") or {}
    crawls = details.get("Crawls") or [{}]
    return crawls[0]


def test_a_busy_crawler_fails_the_workflow_crawl(slow_weir):
    glue = slow_weir.client()
    big_tree(slow_weir)
    crawler(glue, "big", path="s3://big/")
    crawl_workflow(glue, "w", "big")
    glue.start_crawler(Name="big")
    run_id = glue.start_workflow_run(Name="w")["RunId"]
    run = wait_run(glue, "w", run_id)
    assert run["Status"] == "COMPLETED"
    crawl_state = crawl_of(glue, "w", run_id, "big")
    assert crawl_state["State"] == "FAILED"
    assert crawl_state["ErrorMessage"] == "Crawler with name big has already started"
    glue.stop_crawler(Name="big")
    assert wait_ready(glue, "big")["LastCrawl"]["Status"] == "CANCELLED"


def test_stopping_the_run_cancels_its_crawl(slow_weir):
    glue = slow_weir.client()
    big_tree(slow_weir)
    crawler(glue, "big", path="s3://big/")
    crawl_workflow(glue, "w", "big")
    run_id = glue.start_workflow_run(Name="w")["RunId"]
    wait_for(lambda: glue.get_crawler(Name="big")["Crawler"]["State"] == "RUNNING", "the crawl to run", DEADLINE)
    glue.stop_workflow_run(Name="w", RunId=run_id)
    run = wait_run(glue, "w", run_id)
    assert run["Status"] == "STOPPED"
    assert crawl_of(glue, "w", run_id, "big")["State"] == "CANCELLED"
    c = wait_ready(glue, "big")
    assert c["LastCrawl"]["Status"] == "CANCELLED"
    assert glue.list_crawls(CrawlerName="big")["Crawls"][0]["State"] == "STOPPED"


def test_a_crawl_interrupted_by_a_restart_is_failed(slow_weir):
    glue = slow_weir.client()
    big_tree(slow_weir, files=20)
    crawler(glue, "big", path="s3://big/")
    glue.start_crawler(Name="big")
    slow_weir.kill9()
    slow_weir.restart()  # without the delay hook: crawls run at full speed now
    glue = slow_weir.client()
    interrupted = glue.list_crawls(CrawlerName="big")["Crawls"]
    assert [c["State"] for c in interrupted] == ["FAILED"]
    assert "interrupted" in interrupted[0]["ErrorMessage"]
    glue.start_crawler(Name="big")  # the stale RUNNING state does not block a new crawl
    c = wait_ready(glue, "big", runs=2)
    assert c["LastCrawl"]["Status"] == "SUCCEEDED"
    states = [x["State"] for x in glue.list_crawls(CrawlerName="big")["Crawls"]]
    assert states == ["COMPLETED", "FAILED"]
    assert [t["Name"] for t in glue.get_tables(DatabaseName="lakedb")["TableList"]] == ["t"]
