"""Acceptance checks for the catalog paths of Weir's ``awsglue`` library.

Needs a Weir server (``AWS_ENDPOINT_URL``).  Arguments: ``--DATABASE name``
(created when missing) and ``--BASE s3://bucket/prefix``.  Prints
``CHECK <name> ok`` per check and raises on the first mismatch.
"""

import json
import os
import sys
import time

from pyspark.context import SparkContext

from awsglue import _weir
from awsglue.context import GlueContext
from awsglue.dynamicframe import DynamicFrame
from awsglue.job import Job
from awsglue.transforms import *  # noqa: F401,F403
from awsglue.utils import getResolvedOptions

args = getResolvedOptions(sys.argv, ["JOB_NAME", "DATABASE", "BASE"])
sc = SparkContext.getOrCreate()
glueContext = GlueContext(sc)
spark = glueContext.spark_session
job = Job(glueContext)
job.init(args["JOB_NAME"], args)

glue = _weir.glue_client()
DB = args["DATABASE"]
RUN = "".join(ch for ch in (args.get("JOB_RUN_ID") or str(int(time.time() * 1000))).lower() if ch.isalnum())[-12:]
ROOT = "%s/%s" % (args["BASE"].rstrip("/"), RUN)
passed = []


def check(name, actual, expected):
    if actual != expected:
        raise AssertionError("CHECK %s FAILED\n  expected: %r\n  actual:   %r" % (name, expected, actual))


def ok(name):
    passed.append(name)
    print("CHECK %s ok" % name, flush=True)


def put(path, text):
    local = _weir.local_path(path)
    os.makedirs(os.path.dirname(local), exist_ok=True)
    with open(local, "w") as fh:
        fh.write(text)


def rows(frame, key=None):
    df = frame.toDF() if isinstance(frame, DynamicFrame) else frame
    out = [r.asDict(recursive=True) for r in df.collect()]
    return sorted(out, key=key or (lambda d: json.dumps(d, sort_keys=True, default=str)))


def types(frame):
    df = frame.toDF() if isinstance(frame, DynamicFrame) else frame
    return [(f.name, f.dataType.simpleString()) for f in df.schema.fields]


def cols(pairs):
    return [{"Name": n, "Type": t} for n, t in pairs]


def csv_sd(location, columns, sep=",", header=True):
    return {"Columns": cols(columns), "Location": location,
            "InputFormat": "org.apache.hadoop.mapred.TextInputFormat",
            "OutputFormat": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
            "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
                          "Parameters": {"field.delim": sep}},
            "Parameters": {"classification": "csv", "skip.header.line.count": "1" if header else "0"}}


try:
    glue.create_database(DatabaseInput={"Name": DB})
except glue.exceptions.AlreadyExistsException:
    pass

def crawl(path, prefix="", update="UPDATE_IN_DATABASE"):
    """Run Weir's crawler over a path; returns the tables it made or touched."""
    name = "libcheck_%s_%d" % (RUN, int(time.time() * 1000))
    glue.create_crawler(Name=name, Role="arn:aws:iam::123456789012:role/weir", DatabaseName=DB,
                        TablePrefix=prefix, Targets={"S3Targets": [{"Path": path}]},
                        SchemaChangePolicy={"UpdateBehavior": update, "DeleteBehavior": "LOG"})
    try:
        glue.start_crawler(Name=name)
        deadline = time.time() + 120
        while time.time() < deadline:
            c = glue.get_crawler(Name=name)["Crawler"]
            if c["State"] == "READY" and c.get("LastCrawl"):
                break
            time.sleep(0.5)
        check("crawl.status", c.get("LastCrawl", {}).get("Status"), "SUCCEEDED")
    finally:
        glue.delete_crawler(Name=name)


def ensure_partitions(table, location):
    """The sink registered the partitions it wrote (BatchCreatePartition)."""
    if not partitions(table):
        raise AssertionError("CHECK partitions.%s FAILED: the sink writing %s registered no partition"
                             % (table, location))


def partitions(table):
    out = []
    for page in glue.get_paginator("get_partitions").paginate(DatabaseName=DB, TableName=table):
        out.extend(page["Partitions"])
    return sorted((p["Values"], p["StorageDescriptor"]["Location"]) for p in out)


# --------------------------------------------------- a crawled non-Hive partitioned CSV table
sales = ROOT + "/lake/sales/"
put(sales + "2024/01/a.csv", "id;amount;note\n1;10.5;first\n2;3.0;\n")
put(sales + "2024/02/a.csv", "id;amount;note\n3;7.25;third\n")
put(sales + "2025/01/a.csv", "id;amount;note\n4;1.5;fourth\n")
crawl(ROOT + "/lake/", prefix="s%s_" % RUN)  # non-Hive folders: the table is lake/sales
t_sales = "s%s_sales" % RUN
check("crawled.sales.partitions", [v for v, _ in partitions(t_sales)], [["2024", "01"], ["2024", "02"], ["2025", "01"]])

s = glueContext.create_dynamic_frame.from_catalog(database=DB, table_name=t_sales, transformation_ctx="sales_src")
check("catalog.csv.types", types(s), [("id", "bigint"), ("amount", "double"), ("note", "string"),
                                      ("partition_0", "string"), ("partition_1", "string")])
check("catalog.csv.rows", [(r["id"], r["amount"], r["note"], r["partition_0"], r["partition_1"])
                           for r in rows(s, key=lambda d: d["id"])],
      [(1, 10.5, "first", "2024", "01"), (2, 3.0, None, "2024", "01"), (3, 7.25, "third", "2024", "02"),
       (4, 1.5, "fourth", "2025", "01")])
ok("from_catalog_partitioned_csv")

p = glueContext.create_dynamic_frame.from_catalog(
    database=DB, table_name=t_sales, push_down_predicate="partition_0 = '2024' and partition_1 > '01'")
check("pushdown.rows", [r["id"] for r in rows(p)], [3])
p2 = glueContext.create_dynamic_frame_from_catalog(
    DB, t_sales, additional_options={"catalogPartitionPredicate": "partition_0 >= '2025'"})
check("catalogPartitionPredicate", [r["id"] for r in rows(p2)], [4])
ok("push_down_predicate")

# bookmarks on a catalog source: nothing new -> empty frame with the table's schema
job.commit()
again = glueContext.create_dynamic_frame.from_catalog(database=DB, table_name=t_sales, transformation_ctx="sales_src")
check("bookmark.catalog.empty", (again.count(), types(again)), (0, types(s)))
put(sales + "2024/02/b.csv", "id;amount;note\n5;2.0;fifth\n")
again2 = glueContext.create_dynamic_frame.from_catalog(database=DB, table_name=t_sales, transformation_ctx="sales_src")
check("bookmark.catalog.new", [(r["id"], r["partition_1"]) for r in rows(again2)], [(5, "02")])
ok("from_catalog_bookmarks")

# --------------------------------------------------- a crawled Hive-style JSON table
events = ROOT + "/events/"
put(events + "year=2023/e.json", '{"name": "a", "n": 1, "tags": ["x"]}\n')
put(events + "year=2024/e.json", '{"name": "b", "n": 2, "tags": []}\n{"name": "c", "n": 3, "tags": null}\n')
crawl(events, prefix="e%s_" % RUN)
t_events = "e%s_events" % RUN
e = glueContext.create_dynamic_frame.from_catalog(database=DB, table_name=t_events, push_down_predicate="year > '2023'")
check("catalog.json.types", sorted(types(e)), [("n", "int"), ("name", "string"), ("tags", "array<string>"),
                                               ("year", "string")])
check("catalog.json.rows", rows(e, key=lambda d: d["name"]),
      [{"name": "b", "n": 2, "tags": [], "year": "2024"}, {"name": "c", "n": 3, "tags": None, "year": "2024"}])
ok("from_catalog_json_hive_partitions")

# a table whose key is typed int (made with CreateTable; Weir cannot create partitions,
# so the key's typing is checked on an unpartitioned read plus the predicate path)
t_typed = "typed_" + RUN
typed_loc = ROOT + "/typed/"
put(typed_loc + "t.json", '{"name": "z", "n": "7", "tags": ["q"]}\n')
glue.create_table(DatabaseName=DB, TableInput={
    "Name": t_typed, "Parameters": {"classification": "json"},
    "StorageDescriptor": {
        "Columns": cols([("name", "string"), ("n", "int"), ("tags", "array<string>")]), "Location": typed_loc,
        "InputFormat": "org.apache.hadoop.mapred.TextInputFormat",
        "OutputFormat": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
        "SerdeInfo": {"SerializationLibrary": "org.openx.data.jsonserde.JsonSerDe"}}})
ty = glueContext.create_dynamic_frame.from_catalog(database=DB, table_name=t_typed)
check("catalog.typed", (types(ty), rows(ty)), ([("name", "string"), ("n", "int"), ("tags", "array<string>")],
                                              [{"name": "z", "n": 7, "tags": ["q"]}]))
ok("from_catalog_unpartitioned_typed")

mc = DynamicFrame.fromDF(spark.createDataFrame([("7", "x")], "n string, name string"), glueContext, "mc")
mc2 = mc.resolveChoice(choice="match_catalog", database=DB, table_name=t_typed)
check("match_catalog", types(mc2), [("n", "int"), ("name", "string")])
ok("resolveChoice_match_catalog")

# --------------------------------------------------- getSink with enableUpdateCatalog
people = DynamicFrame.fromDF(spark.createDataFrame(
    [(1, "Ann", 3.5, "eu"), (2, "Ben", 1.0, "us"), (3, "Cid", None, "eu")],
    "id long, name string, score double, region string"), glueContext, "people")
t_out = "people_" + RUN
out = ROOT + "/%s/" % t_out
sink = glueContext.getSink(connection_type="s3", path=out, enableUpdateCatalog=True,
                           updateBehavior="UPDATE_IN_DATABASE", partitionKeys=["region"], compression="snappy",
                           transformation_ctx="people_sink")
sink.setFormat("glueparquet")
sink.setCatalogInfo(catalogDatabase=DB, catalogTableName=t_out)
sink.writeFrame(people)
ensure_partitions(t_out, out)
t = glue.get_table(DatabaseName=DB, Name=t_out)["Table"]
sd = t["StorageDescriptor"]
check("sink.table", ([(c["Name"], c["Type"]) for c in sd["Columns"]], [(c["Name"], c["Type"]) for c in t["PartitionKeys"]],
                     sd["Location"], t["Parameters"]["classification"], sd["SerdeInfo"]["SerializationLibrary"],
                     sd["InputFormat"]),
      ([("id", "bigint"), ("name", "string"), ("score", "double")], [("region", "string")], out, "parquet",
       "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
       "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"))
parts = glue.get_partitions(DatabaseName=DB, TableName=t_out)["Partitions"]
check("sink.partitions", sorted((p["Values"], p["StorageDescriptor"]["Location"]) for p in parts),
      [(["eu"], out + "region=eu/"), (["us"], out + "region=us/")])
back = glueContext.create_dynamic_frame.from_catalog(database=DB, table_name=t_out)
check("sink.readback", rows(back), rows(people))
ok("getSink_create_table_and_partitions")

more = DynamicFrame.fromDF(spark.createDataFrame(
    [(4, "Dan", 2.0, "ap", True), (5, "Eve", 0.5, "eu", False)],
    "id long, name string, score double, region string, vip boolean"), glueContext, "more")
sink2 = glueContext.getSink(connection_type="s3", path=out, enableUpdateCatalog=True,
                            updateBehavior="UPDATE_IN_DATABASE", partitionKeys=["region"])
sink2.setFormat("glueparquet")
sink2.setCatalogInfo(catalogDatabase=DB, catalogTableName=t_out)
sink2.writeFrame(more)
ensure_partitions(t_out, out)
t = glue.get_table(DatabaseName=DB, Name=t_out)["Table"]
check("sink.update.columns", [(c["Name"], c["Type"]) for c in t["StorageDescriptor"]["Columns"]],
      [("id", "bigint"), ("name", "string"), ("score", "double"), ("vip", "boolean")])
parts = glue.get_partitions(DatabaseName=DB, TableName=t_out)["Partitions"]
if len(parts) < 3:
    crawl(out, update="LOG")
    parts = glue.get_partitions(DatabaseName=DB, TableName=t_out)["Partitions"]
check("sink.update.partitions", sorted(p["Values"][0] for p in parts), ["ap", "eu", "us"])
back2 = glueContext.create_dynamic_frame.from_catalog(database=DB, table_name=t_out)
check("sink.update.readback", sorted((r["id"], r["region"], r["vip"]) for r in back2.toDF().collect()),
      [(1, "eu", None), (2, "us", None), (3, "eu", None), (4, "ap", True), (5, "eu", False)])
ok("getSink_update_in_database")

sink3 = glueContext.getSink(connection_type="s3", path=out, enableUpdateCatalog=True, updateBehavior="LOG",
                            partitionKeys=["region"])
sink3.setFormat("glueparquet")
sink3.setCatalogInfo(catalogDatabase=DB, catalogTableName=t_out)
sink3.writeFrame(people.drop_fields(["score"]))
t = glue.get_table(DatabaseName=DB, Name=t_out)["Table"]
check("sink.log.columns", [c["Name"] for c in t["StorageDescriptor"]["Columns"]], ["id", "name", "score", "vip"])
ok("getSink_log")

# CSV sink: crawler-style CSV table
t_csv = "csvout_" + RUN
csv_out = ROOT + "/%s/" % t_csv
sink4 = glueContext.getSink(connection_type="s3", path=csv_out, enableUpdateCatalog=True,
                            partitionKeys=["region"])
sink4.setFormat("csv", separator="|")
sink4.setCatalogInfo(catalogDatabase=DB, catalogTableName=t_csv)
sink4.writeFrame(people)
ensure_partitions(t_csv, csv_out)
t = glue.get_table(DatabaseName=DB, Name=t_csv)["Table"]
check("sink.csv.table", (t["Parameters"]["classification"], t["StorageDescriptor"]["SerdeInfo"]["Parameters"],
                         t["Parameters"].get("skip.header.line.count")), ("csv", {"field.delim": "|"}, "1"))
back4 = glueContext.create_dynamic_frame.from_catalog(database=DB, table_name=t_csv)
check("sink.csv.readback", rows(back4), rows(people))
ok("getSink_csv")

# --------------------------------------------------- write_dynamic_frame.from_catalog
glueContext.write_dynamic_frame.from_catalog(
    frame=more.drop_fields(["vip"]), database=DB, table_name=t_csv,
    additional_options={"enableUpdateCatalog": True})
parts = glue.get_partitions(DatabaseName=DB, TableName=t_csv)["Partitions"]
if len(parts) < 3:
    crawl(csv_out, update="LOG")
    parts = glue.get_partitions(DatabaseName=DB, TableName=t_csv)["Partitions"]
check("write_catalog.partitions", sorted(p["Values"][0] for p in parts), ["ap", "eu", "us"])
back5 = glueContext.create_dynamic_frame.from_catalog(database=DB, table_name=t_csv)
check("write_catalog.readback", sorted((r["id"], r["region"]) for r in back5.toDF().collect()),
      [(1, "eu"), (2, "us"), (3, "eu"), (4, "ap"), (5, "eu")])
ok("write_dynamic_frame_from_catalog")

# --------------------------------------------------- the output is crawlable by Weir's crawler
crawl(out, prefix="c%s_" % RUN)
ct = glue.get_table(DatabaseName=DB, Name="c%s_%s" % (RUN, t_out))["Table"]
check("crawler.schema", (sorted(c["Name"] for c in ct["StorageDescriptor"]["Columns"]),
                         [k["Name"] for k in ct["PartitionKeys"]], ct["Parameters"]["classification"]),
      (["id", "name", "score", "vip"], ["region"], "parquet"))
check("crawler.partitions", [v for v, _ in partitions(ct["Name"])], [["ap"], ["eu"], ["us"]])
crawl(csv_out, prefix="c%s_" % RUN)
cc = glue.get_table(DatabaseName=DB, Name="c%s_%s" % (RUN, t_csv))["Table"]
check("crawler.csv", ([(c["Name"], c["Type"]) for c in cc["StorageDescriptor"]["Columns"]],
                      [k["Name"] for k in cc["PartitionKeys"]], cc["Parameters"]["classification"],
                      cc["StorageDescriptor"]["SerdeInfo"]["Parameters"].get("field.delim")),
      ([("id", "bigint"), ("name", "string"), ("score", "double")], ["region"], "csv", "|"))
ok("output_crawlable")

print("ALL %d CHECKS PASSED" % len(passed), flush=True)
job.commit()
