"""Glue ETL pipelines as AWS's developer guide writes them, through the real server on
real Spark: crawled CSV → a glueetl job (from_catalog, ApplyMapping, Filter) writing
partitioned Parquet → a crawler over its output → a second job reading that table back;
getSink with enableUpdateCatalog making a table and its partitions without a crawler;
job bookmarks across runs and ResetJobBookmark."""

from __future__ import annotations

import json
import textwrap

import pytest

from runs_helpers import wait_for, wait_job_run
from spark_helpers import SPARK_ARGS, SPARK_DEADLINE, read_json_lines, s3_client


@pytest.fixture
def weir_args():
    return list(SPARK_ARGS)


SALES = [
    # order id, region, amount, day
    (1, "north", 5.0, "2026-12-01"),
    (2, "north", 12.5, "2026-12-01"),
    (3, "south", 30.0, "2026-12-02"),
    (4, "east", 7.25, "2026-12-02"),
    (5, "east", 10.0, "2026-12-03"),
    (6, "south", 99.0, "2026-12-03"),
]

TRANSFORM = textwrap.dedent("""\
    import sys
    from awsglue.context import GlueContext
    from awsglue.job import Job
    from awsglue.transforms import ApplyMapping, Filter
    from awsglue.utils import getResolvedOptions
    from pyspark.context import SparkContext

    args = getResolvedOptions(sys.argv, ["JOB_NAME"])
    sc = SparkContext()
    glueContext = GlueContext(sc)
    spark = glueContext.spark_session
    job = Job(glueContext)
    job.init(args["JOB_NAME"], args)

    sales = glueContext.create_dynamic_frame.from_catalog(
        database="raw", table_name="sales", transformation_ctx="sales")
    mapped = ApplyMapping.apply(frame=sales, mappings=[
        ("order_id", "long", "id", "long"),
        ("region", "string", "region", "string"),
        ("amount", "double", "amount", "double"),
        ("day", "string", "day", "string"),
    ], transformation_ctx="mapped")
    large = Filter.apply(frame=mapped, f=lambda row: row["amount"] >= 10,
                         transformation_ctx="large")
    glueContext.write_dynamic_frame.from_options(
        frame=large, connection_type="s3",
        connection_options={"path": "s3://lake/curated/sales/", "partitionKeys": ["region"]},
        format="parquet", transformation_ctx="curated")
    sink = glueContext.getSink(
        connection_type="s3", path="s3://lake/sunk/sales/", enableUpdateCatalog=True,
        updateBehavior="UPDATE_IN_DATABASE", partitionKeys=["region"],
        transformation_ctx="sunk")
    sink.setCatalogInfo(catalogDatabase="curated", catalogTableName="sunk_sales")
    sink.setFormat("glueparquet")
    sink.writeFrame(large)
    job.commit()
""")

VERIFY = textwrap.dedent("""\
    import sys
    from awsglue.context import GlueContext
    from awsglue.job import Job
    from awsglue.utils import getResolvedOptions
    from pyspark.context import SparkContext

    args = getResolvedOptions(sys.argv, ["JOB_NAME", "TABLE", "OUTPUT"])
    glueContext = GlueContext(SparkContext.getOrCreate())
    job = Job(glueContext)
    job.init(args["JOB_NAME"], args)
    frame = glueContext.create_dynamic_frame.from_catalog(
        database="curated", table_name=args["TABLE"])
    frame.toDF().select("id", "region", "amount", "day").coalesce(1) \\
        .write.mode("overwrite").json(args["OUTPUT"])
    job.commit()
""")


def run_job(glue, name: str, arguments: dict | None = None) -> str:
    run_id = glue.start_job_run(JobName=name, **({"Arguments": arguments} if arguments else {}))[
        "JobRunId"]
    job_run = wait_job_run(glue, name, run_id, deadline=SPARK_DEADLINE)
    assert job_run["JobRunState"] == "SUCCEEDED", job_run.get("ErrorMessage")
    return run_id


def crawl(glue, name: str, database: str, path: str) -> None:
    glue.create_crawler(Name=name, Role="r", DatabaseName=database,
                        Targets={"S3Targets": [{"Path": path}]})
    glue.start_crawler(Name=name)

    def done():
        crawler = glue.get_crawler(Name=name)["Crawler"]
        return crawler["State"] == "READY" and crawler.get("LastCrawl")

    last = wait_for(done, f"crawler {name} to finish", SPARK_DEADLINE)
    assert last["Status"] == "SUCCEEDED", last


def test_crawled_csv_to_partitioned_parquet_and_back(weir, glue):
    s3 = s3_client(weir)
    s3.create_bucket(Bucket="lake")
    body = "order_id,region,amount,day\n" + "".join(
        f"{i},{r},{a},{d}\n" for i, r, a, d in SALES)
    s3.put_object(Bucket="lake", Key="raw/sales/orders.csv", Body=body.encode())
    s3.put_object(Bucket="lake", Key="scripts/transform.py", Body=TRANSFORM.encode())
    s3.put_object(Bucket="lake", Key="scripts/verify.py", Body=VERIFY.encode())
    glue.create_database(DatabaseInput={"Name": "curated"})
    crawl(glue, "raw", "raw", "s3://lake/raw/")
    columns = [c["Name"] for c in glue.get_table(DatabaseName="raw", Name="sales")["Table"]
               ["StorageDescriptor"]["Columns"]]
    assert columns == ["order_id", "region", "amount", "day"]

    glue.create_job(Name="transform", Role="r", GlueVersion="5.0",
                    Command={"Name": "glueetl", "ScriptLocation": "s3://lake/scripts/transform.py"})
    run_job(glue, "transform")
    expected = [{"id": i, "region": r, "amount": a, "day": d}
                for i, r, a, d in SALES if a >= 10]

    # The job's output is crawlable: a partitioned table whose rows a second job reads.
    crawl(glue, "curated", "curated", "s3://lake/curated/")
    table = glue.get_table(DatabaseName="curated", Name="sales")["Table"]
    assert [k["Name"] for k in table["PartitionKeys"]] == ["region"]
    assert table["Parameters"]["classification"] == "parquet"
    crawled = glue.get_partitions(DatabaseName="curated", TableName="sales")["Partitions"]
    assert sorted(p["Values"][0] for p in crawled) == ["east", "north", "south"]

    # getSink made its table and partitions itself, no crawler involved.
    sunk = glue.get_table(DatabaseName="curated", Name="sunk_sales")["Table"]
    assert [k["Name"] for k in sunk["PartitionKeys"]] == ["region"]
    assert sunk["StorageDescriptor"]["Location"].rstrip("/") == "s3://lake/sunk/sales"
    sunk_parts = glue.get_partitions(DatabaseName="curated", TableName="sunk_sales")["Partitions"]
    assert sorted(p["Values"][0] for p in sunk_parts) == ["east", "north", "south"]

    glue.create_job(Name="verify", Role="r", GlueVersion="6.0",
                    Command={"Name": "glueetl", "ScriptLocation": "s3://lake/scripts/verify.py"})
    for table_name in ("sales", "sunk_sales"):
        output = f"verify/{table_name}/"
        run_job(glue, "verify", {"--TABLE": table_name, "--OUTPUT": f"s3://lake/{output}"})
        rows = sorted(read_json_lines(s3, "lake", output), key=lambda row: row["id"])
        assert rows == expected, (table_name, rows)


INCREMENTAL = textwrap.dedent("""\
    import json, sys
    from awsglue.context import GlueContext
    from awsglue.job import Job
    from awsglue.utils import getResolvedOptions
    from pyspark.context import SparkContext
    from pyspark.sql.functions import input_file_name

    args = getResolvedOptions(sys.argv, ["JOB_NAME"])
    glueContext = GlueContext(SparkContext.getOrCreate())
    job = Job(glueContext)
    job.init(args["JOB_NAME"], args)
    events = glueContext.create_dynamic_frame.from_options(
        connection_type="s3", connection_options={"paths": ["s3://inc/events/"]},
        format="csv", format_options={"withHeader": True}, transformation_ctx="events")
    files = sorted({row[0].rsplit("/", 1)[-1]
                    for row in events.toDF().select(input_file_name()).collect()})
    print("FILES " + json.dumps(files))
    job.commit()
""")


def files_read(weir, run_id: str) -> list[str]:
    stdout = (weir.data_dir / "job-runs" / run_id / "stdout").read_text()
    [line] = [line for line in stdout.splitlines() if line.startswith("FILES ")]
    return json.loads(line[len("FILES "):])


def test_bookmarks_read_only_new_files_until_reset(weir, glue):
    s3 = s3_client(weir)
    s3.create_bucket(Bucket="inc")
    s3.put_object(Bucket="inc", Key="job.py", Body=INCREMENTAL.encode())
    for name in ("a.csv", "b.csv"):
        s3.put_object(Bucket="inc", Key=f"events/{name}", Body=f"id\n{name}\n".encode())
    glue.create_job(Name="incremental", Role="r", GlueVersion="5.0",
                    Command={"Name": "glueetl", "ScriptLocation": "s3://inc/job.py"},
                    DefaultArguments={"--job-bookmark-option": "job-bookmark-enable"})
    with pytest.raises(glue.exceptions.EntityNotFoundException):
        glue.get_job_bookmark(JobName="incremental")

    first = run_job(glue, "incremental")
    assert files_read(weir, first) == ["a.csv", "b.csv"]
    s3.put_object(Bucket="inc", Key="events/c.csv", Body=b"id\nc\n")
    second = run_job(glue, "incremental")
    assert files_read(weir, second) == ["c.csv"], "the second run reads only the new file"

    entry = glue.get_job_bookmark(JobName="incremental")["JobBookmarkEntry"]
    assert (entry["JobName"], entry["Run"], entry["RunId"], entry["PreviousRunId"]) == (
        "incremental", 2, second, first)
    assert "c.csv" in entry["JobBookmark"]

    # A run with bookmarks disabled reads everything and leaves the bookmark alone.
    disabled = run_job(glue, "incremental", {"--job-bookmark-option": "job-bookmark-disable"})
    assert files_read(weir, disabled) == ["a.csv", "b.csv", "c.csv"]
    assert glue.get_job_bookmark(JobName="incremental")["JobBookmarkEntry"]["RunId"] == second

    reset = glue.reset_job_bookmark(JobName="incremental")["JobBookmarkEntry"]
    assert reset["JobName"] == "incremental" and "JobBookmark" not in reset
    third = run_job(glue, "incremental")
    assert files_read(weir, third) == ["a.csv", "b.csv", "c.csv"], "after a reset, every file"
