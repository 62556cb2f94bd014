"""Acceptance checks for Weir's ``awsglue`` library (no Glue server needed).

A glueetl-style job script: run it with spark-submit as Weir launches jobs
(see README.md), with ``--BASE s3://bucket/prefix``.  It writes its inputs
under BASE, exercises the library on them, asserts exact rows and schemas,
prints ``CHECK <name> ok`` per check and raises on the first mismatch.
"""

import json
import os
import sys
import time

from pyspark.context import SparkContext
from pyspark.sql import Row
from pyspark.sql import types as T

from awsglue import _weir
from awsglue.context import GlueContext
from awsglue.dynamicframe import DynamicFrame, DynamicFrameCollection
from awsglue.job import Job
from awsglue.transforms import *  # noqa: F401,F403 - as Glue scripts do
from awsglue.utils import getResolvedOptions

args = getResolvedOptions(sys.argv, ["JOB_NAME", "BASE", "JSON_ARG", "EQ_ARG"])
sc = SparkContext.getOrCreate()
glueContext = GlueContext(sc)
spark = glueContext.spark_session
logger = glueContext.get_logger()
job = Job(glueContext)
job.init(args["JOB_NAME"], args)

BASE = args["BASE"].rstrip("/")
RUN = args.get("JOB_RUN_ID") or str(int(time.time() * 1000))
ROOT = "%s/%s" % (BASE, RUN)
passed = []


def check(name, actual, expected):
    if actual != expected:
        raise AssertionError("CHECK %s FAILED\n  expected: %r\n  actual:   %r" % (name, expected, actual))


def ok(name):
    passed.append(name)
    print("CHECK %s ok" % name, flush=True)


def put(path, text):
    """Write an input object (test scaffolding: straight into the S3 root)."""
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


# ------------------------------------------------------------------ options
check("args", (args["JSON_ARG"], args["EQ_ARG"], args["JOB_NAME"] != ""), ('{"a": [1, 2], "b": "x y"}', "k=v=w", True))
logger.info("library checks start under %s" % ROOT)
logger.warn("a warning line")
ok("getResolvedOptions")

# ------------------------------------------------------------------ CSV
put(ROOT + "/csv/people/part1.csv", "id,name,age,zip\n1,Alice,30,75001\n2,Bob,25,\n")
put(ROOT + "/csv/people/sub/part2.csv", "id,name,age,zip\n3,\"Carol, Jr\",41,69001\n")
people = glueContext.create_dynamic_frame.from_options(
    connection_type="s3", connection_options={"paths": [ROOT + "/csv/people/"], "recurse": True},
    format="csv", format_options={"withHeader": True, "separator": ","}, transformation_ctx="people_src")
check("csv.types", types(people), [("id", "bigint"), ("name", "string"), ("age", "bigint"), ("zip", "bigint")])
check("csv.rows", rows(people, key=lambda d: d["id"]), [
    {"id": 1, "name": "Alice", "age": 30, "zip": 75001},
    {"id": 2, "name": "Bob", "age": 25, "zip": None},
    {"id": 3, "name": "Carol, Jr", "age": 41, "zip": 69001}])
check("csv.count", people.count(), 3)
ok("from_options_csv_header")

nonrec = glueContext.create_dynamic_frame_from_options(
    "s3", {"paths": [ROOT + "/csv/people/"], "recurse": False}, "csv", {"withHeader": True})
check("csv.nonrecursive", nonrec.count(), 2)
ok("from_options_recurse_false")

put(ROOT + "/csv/mixed/m.txt", "1;'a;b';10\n2;'c''d';n/a\n3;'e';7\n")
mixed = glueContext.create_dynamic_frame.from_options(
    "s3", {"paths": [ROOT + "/csv/mixed/m.txt"]}, format="csv",
    format_options={"separator": ";", "quoteChar": "'"})
check("csvopt.types", types(mixed), [("col0", "bigint"), ("col1", "string"),
                                      ("col2", "struct<long:bigint,string:string>")])
check("csvopt.col1", [r["col1"] for r in rows(mixed, key=lambda d: d["col0"])], ["a;b", "c'd", "e"])
mc = mixed.resolveChoice(specs=[("col2", "make_cols")])
check("make_cols.rows", rows(mc, key=lambda d: d["col0"]), [
    {"col0": 1, "col1": "a;b", "col2_long": 10, "col2_string": None},
    {"col0": 2, "col1": "c'd", "col2_long": None, "col2_string": "n/a"},
    {"col0": 3, "col1": "e", "col2_long": 7, "col2_string": None}])
ok("resolveChoice_make_cols")
cast = mixed.resolveChoice(specs=[("col2", "cast:long")])
check("cast.types", types(cast)[2], ("col2", "bigint"))
check("cast.rows", [r["col2"] for r in rows(cast, key=lambda d: d["col0"])], [10, None, 7])
ok("resolveChoice_cast")
proj = mixed.resolveChoice(specs=[("col2", "project:string")])
check("project.rows", [r["col2"] for r in rows(proj, key=lambda d: d["col0"])], [None, "n/a", None])
ok("resolveChoice_project")
ms = mixed.resolveChoice(choice="make_struct")
check("make_struct.rows", [r["col2"] for r in rows(ms, key=lambda d: d["col0"])],
      [{"long": 10, "string": None}, {"long": None, "string": "n/a"}, {"long": 7, "string": None}])
plain = people.resolveChoice(specs=[("age", "make_cols"), ("name", "make_struct"), ("zip", "cast:string")])
check("plain.types", types(plain), [("id", "bigint"), ("name", "struct<string:string>"), ("age", "bigint"),
                                    ("zip", "string")])
check("plain.zip", sorted(str(r["zip"]) for r in rows(plain)), ["69001", "75001", "None"])
ok("resolveChoice_make_struct_and_plain")
rc = ResolveChoice.apply(frame=mixed, specs=[("col2", "project:long")])
check("ResolveChoice.apply", [r["col2"] for r in rows(rc, key=lambda d: d["col0"])], [10, None, 7])
ok("ResolveChoice_transform")

# ------------------------------------------------------------------ JSON
put(ROOT + "/json/lines/a.json",
    '{"id": 1, "name": "pen", "price": 10, "info": {"color": "red", "size": {"w": 1, "h": 2}}, "tags": ["x", "y"]}\n'
    '{"id": 2, "name": "ink", "price": "12.5", "info": {"color": "blue", "size": {"w": 3, "h": 4}}, "tags": []}\n')
put(ROOT + "/json/lines/b.json",
    '{"id": 3, "name": "cap", "price": 7, "info": {"color": null, "size": {"w": 5, "h": 6}}, "tags": ["z"]}\n')
prod = glueContext.create_dynamic_frame.from_options(
    connection_type="s3", connection_options={"paths": [ROOT + "/json/lines/"]}, format="json",
    transformation_ctx="prod_src")
check("json.types", types(prod), [
    ("id", "bigint"), ("info", "struct<color:string,size:struct<h:bigint,w:bigint>>"), ("name", "string"),
    ("price", "struct<int:bigint,string:string>"), ("tags", "array<string>")])
check("json.choice", prod._choices, {"price": ["int", "string"]})
pmc = prod.resolveChoice(specs=[("price", "make_cols")])
check("json.make_cols", [(r["id"], r["price_int"], r["price_string"]) for r in rows(pmc, key=lambda d: d["id"])],
      [(1, 10, None), (2, None, "12.5"), (3, 7, None)])
pcast = prod.resolveChoice(specs=[("price", "cast:double")])
check("json.cast", [(r["id"], r["price"]) for r in rows(pcast, key=lambda d: d["id"])],
      [(1, 10.0), (2, 12.5), (3, 7.0)])
check("json.cast.type", dict(types(pcast))["price"], "double")
ok("from_options_json_choice")

put(ROOT + "/json/multi/m.json", '[\n {"k": "a",\n  "v": 1},\n {"k": "b", "v": 2}\n]\n')
multi = glueContext.create_dynamic_frame.from_options(
    "s3", {"paths": [ROOT + "/json/multi/"]}, format="json", format_options={"multiline": True})
check("json.multiline", rows(multi), [{"k": "a", "v": 1}, {"k": "b", "v": 2}])
ok("from_options_json_multiline")

# ------------------------------------------------------------------ field transforms
base = pcast
sel = base.select_fields(["id", "info.color"])
check("select.types", types(sel), [("id", "bigint"), ("info", "struct<color:string>")])
check("select.rows", rows(sel, key=lambda d: d["id"])[0], {"id": 1, "info": {"color": "red"}})
sel2 = SelectFields.apply(frame=base, paths=["name"])
check("SelectFields", types(sel2), [("name", "string")])
ok("select_fields")

dropped = base.drop_fields(["info.size.w", "tags"])
check("drop.types", types(dropped), [("id", "bigint"), ("info", "struct<color:string,size:struct<h:bigint>>"),
                                     ("name", "string"), ("price", "double")])
dropped2 = DropFields.apply(frame=base, paths=["info", "price", "tags"])
check("DropFields", rows(dropped2, key=lambda d: d["id"])[0], {"id": 1, "name": "pen"})
ok("drop_fields")

ren = base.rename_field("info.color", "info.colour").rename_field("name", "product name")
check("rename.types", types(ren), [
    ("id", "bigint"), ("info", "struct<colour:string,size:struct<h:bigint,w:bigint>>"), ("product name", "string"),
    ("price", "double"), ("tags", "array<string>")])
check("rename.rows", rows(ren, key=lambda d: d["id"])[1]["info"]["colour"], "blue")
dotted = DynamicFrame.fromDF(spark.createDataFrame([Row(**{"a.b": 1, "c": 2})]), glueContext, "dotted")
ren2 = RenameField.apply(frame=dotted, old_name="`a.b`", new_name="ab")
check("rename.backticks", rows(ren2), [{"ab": 1, "c": 2}])
ren3 = base.rename_field("info.size.h", "height")
check("rename.move", types(ren3)[1:2] + types(ren3)[-1:],
      [("info", "struct<color:string,size:struct<w:bigint>>"), ("height", "bigint")])
ok("rename_field")

mapped = base.apply_mapping([
    ("id", "long", "key", "string"),
    ("info.size.h", "long", "dims.height", "int"),
    ("info.color", "string", "dims.colour", "string"),
    ("name", "string", "name", "string"),
    ("missing", "string", "nothing", "int"),
])
check("apply_mapping.types", types(mapped), [("key", "string"), ("dims", "struct<height:int,colour:string>"),
                                             ("name", "string"), ("nothing", "int")])
check("apply_mapping.rows", rows(mapped, key=lambda d: d["key"])[0],
      {"key": "1", "dims": {"height": 2, "colour": "red"}, "name": "pen", "nothing": None})
am2 = ApplyMapping.apply(frame=people, mappings=[("age", "long", "age", "string"), ("name", "string", "who", "string")])
check("ApplyMapping", rows(am2, key=lambda d: d["who"]),
      [{"age": "30", "who": "Alice"}, {"age": "25", "who": "Bob"}, {"age": "41", "who": "Carol, Jr"}])
ok("apply_mapping")

unn = base.unnest()
check("unnest.types", types(unn), [("id", "bigint"), ("info.color", "string"), ("info.size.h", "bigint"),
                                   ("info.size.w", "bigint"), ("name", "string"), ("price", "double"),
                                   ("tags", "array<string>")])
check("UnnestFrame", types(UnnestFrame.apply(frame=base)), types(unn))
ok("unnest")

# ------------------------------------------------------------------ filter / map
flt = people.filter(lambda r: r["age"] > 26 and r.name != "nobody")
check("filter.rows", [r["name"] for r in rows(flt, key=lambda d: d["id"])], ["Alice", "Carol, Jr"])
check("filter.errors", flt.errorsCount(), 0)
flt2 = Filter.apply(frame=people, f=lambda r: r["zip"] > 70000)  # None > int raises for Bob
check("Filter.rows", [r["name"] for r in rows(flt2)], ["Alice"])
check("Filter.errors", (flt2.errorsCount(), flt2.stageErrorsCount()), (1, 1))
check("Filter.errors.downstream", flt2.select_fields(["name"]).errorsCount(), 1)
ok("filter")


def add_fields(rec):
    rec["name_len"] = len(rec["name"])
    rec["label"] = "%s-%d" % (rec["name"], rec["id"])
    rec["info"]["size"]["area"] = rec["info"]["size"]["w"] * rec["info"]["size"]["h"]
    del rec["tags"]
    return rec


mp = base.map(add_fields)
check("map.types", types(mp), [
    ("id", "bigint"), ("info", "struct<color:string,size:struct<h:bigint,w:bigint,area:bigint>>"),
    ("name", "string"), ("price", "double"), ("name_len", "bigint"), ("label", "string")])
check("map.rows", rows(mp, key=lambda d: d["id"])[1],
      {"id": 2, "info": {"color": "blue", "size": {"h": 4, "w": 3, "area": 12}}, "name": "ink", "price": 12.5,
       "name_len": 3, "label": "ink-2"})


def fail_bob(rec):
    if rec["name"] == "Bob":
        raise ValueError("no Bobs")
    rec["age"] = rec["age"] + 0.5
    return rec


mp2 = Map.apply(frame=people, f=fail_bob)
check("Map.rows", [(r["name"], r["age"]) for r in rows(mp2, key=lambda d: d["id"])],
      [("Alice", 30.5), ("Carol, Jr", 41.5)])
check("Map.types", dict(types(mp2))["age"], "double")
check("Map.errors", mp2.errorsCount(), 1)
ok("map")

# ------------------------------------------------------------------ join
persons = DynamicFrame.fromDF(spark.createDataFrame(
    [(1, "Ann"), (2, "Ben"), (3, "Cid")], "id long, name string"), glueContext, "persons")
members = DynamicFrame(spark.createDataFrame(
    [(1, "org1"), (1, "org2"), (3, "org1"), (4, "org9")], "person_id long, org string"), glueContext, "members")
j = Join.apply(persons, members, "id", "person_id")
check("join.types", types(j), [("id", "bigint"), ("name", "string"), ("person_id", "bigint"), ("org", "string")])
check("join.rows", [(r["name"], r["org"]) for r in rows(j, key=lambda d: (d["id"], d["org"]))],
      [("Ann", "org1"), ("Ann", "org2"), ("Cid", "org1")])
j2 = persons.join(["id"], ["id"], DynamicFrame.fromDF(
    spark.createDataFrame([(2, 9)], "id long, score int"), glueContext, "s"))
check("join.samekey", rows(j2), [{"id": 2, "name": "Ben", "score": 9}])
ok("join")

# ------------------------------------------------------------------ relationalize
nested = DynamicFrame.fromDF(spark.createDataFrame([
    Row(pid=1, person=Row(name="Ann", addr=Row(city="Oslo")), phones=[Row(kind="home", num="1"), Row(kind="work", num="2")], tags=["a"]),
    Row(pid=2, person=Row(name="Ben", addr=Row(city="Rome")), phones=[], tags=["b", "c"]),
]), glueContext, "nested")
rel = nested.relationalize("root", ROOT + "/staging/")
check("relationalize.keys", sorted(rel.keys()), ["root", "root_phones", "root_tags"])
root = rel.select("root")
check("relationalize.root.types", types(root), [("pid", "bigint"), ("person.name", "string"),
                                                 ("person.addr.city", "string"), ("phones", "bigint"),
                                                 ("tags", "bigint")])
phones = rel["root_phones"]
check("relationalize.child.types", types(phones), [("id", "bigint"), ("index", "int"),
                                                   ("phones.val.kind", "string"), ("phones.val.num", "string")])
joined = root.toDF().join(phones.toDF(), root.toDF()["phones"] == phones.toDF()["id"])
check("relationalize.phones", sorted((r["pid"], r["index"], r["phones.val.kind"]) for r in joined.collect()),
      [(1, 0, "home"), (1, 1, "work")])
tags = rel["root_tags"].toDF()
jt = root.toDF().join(tags, root.toDF()["tags"] == tags["id"])
check("relationalize.tags", sorted((r["pid"], r["index"], r["tags.val"]) for r in jt.collect()),
      [(1, 0, "a"), (2, 0, "b"), (2, 1, "c")])
rel2 = Relationalize.apply(frame=nested, staging_path=None, name="r2")
check("Relationalize", sorted(rel2.keys()), ["r2", "r2_phones", "r2_tags"])
ok("relationalize")

# ------------------------------------------------------------------ collections, nulls, unbox, split
check("collection.values", len(list(rel.values())), 3)
counts = rel.map(lambda frame, ctx: frame.select_fields([frame.toDF().columns[0]]))
check("collection.map", sorted((k, len(v.toDF().columns)) for k, v in counts.items()),
      [("root", 1), ("root_phones", 1), ("root_tags", 1)])
check("SelectFromCollection", SelectFromCollection.apply(dfc=rel, key="root_tags").count(), 3)
ok("DynamicFrameCollection")

nulls = DynamicFrame.fromDF(spark.createDataFrame([(1, None, "x"), (2, None, None)], "a int, b string, c string"),
                            glueContext, "nulls")
check("DropNullFields", types(DropNullFields.apply(frame=nulls)), [("a", "int"), ("c", "string")])
ok("DropNullFields")

boxed = DynamicFrame.fromDF(spark.createDataFrame(
    [(1, '{"x": 1, "y": {"z": "q"}}', "a,b,c"), (2, '{"x": 2}', "d,e")], "id int, js string, cs string"),
    glueContext, "boxed")
ub = Unbox.apply(frame=boxed, path="js", format="json")
check("Unbox.json.types", dict(types(ub))["js"], "struct<x:bigint,y:struct<z:string>>")
check("Unbox.json.rows", [r["js"] for r in rows(ub, key=lambda d: d["id"])],
      [{"x": 1, "y": {"z": "q"}}, {"x": 2, "y": None}])
ub2 = Unbox.apply(frame=boxed, path="cs", format="csv", separator=",")
check("Unbox.csv.rows", [r["cs"] for r in rows(ub2, key=lambda d: d["id"])],
      [{"col0": "a", "col1": "b", "col2": "c"}, {"col0": "d", "col1": "e", "col2": None}])
ok("Unbox")

sf = SplitFields.apply(frame=people, paths=["id", "name"], name1="ids", name2="rest")
check("SplitFields", (sorted(sf.keys()), types(sf["ids"]), [c for c, _ in types(sf["rest"])]),
      (["ids", "rest"], [("id", "bigint"), ("name", "string")], ["age", "zip"]))
sr = SplitRows.apply(frame=people, comparison_dict={"age": {">": 26}}, name1="old", name2="young")
check("SplitRows", (sorted(r["id"] for r in rows(sr["old"])), [r["id"] for r in rows(sr["young"])]), ([1, 3], [2]))
ok("SplitFields_SplitRows")

check("repartition", people.repartition(3).getNumPartitions(), 3)
check("coalesce", people.repartition(3).coalesce(1).getNumPartitions(), 1)
check("schema", [f.name for f in people.schema().fields], ["id", "name", "age", "zip"])
people.printSchema()
people.show(2)
ok("partitions_schema_show")

# ------------------------------------------------------------------ writing
out_csv = ROOT + "/out/csv/"
glueContext.write_dynamic_frame.from_options(
    frame=people, connection_type="s3",
    connection_options={"path": out_csv, "partitionKeys": ["age"], "compression": "gzip"},
    format="csv", format_options={"separator": "|"})
written = sorted(u for u, _, _ in _weir.list_files(out_csv))
check("write.csv.layout", sorted({u[len(out_csv):].split("/")[0] for u in written}), ["age=25", "age=30", "age=41"])
check("write.csv.gzip", all(u.endswith(".csv.gz") for u in written), True)
back = glueContext.create_dynamic_frame.from_options(
    "s3", {"paths": [out_csv + "age=41/"]}, "csv", {"withHeader": True, "separator": "|"})
check("write.csv.back", rows(back), [{"id": 3, "name": "Carol, Jr", "zip": 69001}])
ok("write_from_options_csv_partitioned_gzip")

newbucket = "weir-lib-new-%s" % "".join(ch for ch in RUN.lower() if ch.isalnum())[-12:]
out_pq = "s3://%s/parquet/" % newbucket
people.write(connection_type="s3", connection_options={"path": out_pq}, format="parquet")
glueContext.write_dynamic_frame_from_options(frame=base, connection_type="s3",
                                             connection_options={"path": "s3://%s/orc/" % newbucket}, format="orc")
pq = glueContext.create_dynamic_frame.from_options("s3", {"paths": [out_pq]}, format="parquet")
check("write.parquet.back", rows(pq), rows(people))
direct = spark.read.parquet("s3://%s/parquet/" % newbucket)  # the library mounted the new bucket
check("mount.new_bucket", sorted(r["id"] for r in direct.collect()), [1, 2, 3])
orc = glueContext.create_dynamic_frame.from_options("s3", {"paths": ["s3://%s/orc/" % newbucket]}, format="orc")
check("write.orc.back", rows(orc), rows(base))
js_out = ROOT + "/out/json/"
glueContext.write_dynamic_frame.from_options(frame=mp2, connection_type="s3", connection_options={"path": js_out},
                                             format="json")
check("write.json.back", rows(glueContext.create_dynamic_frame.from_options("s3", {"paths": [js_out]}, "json")),
      [{"age": 30.5, "id": 1, "name": "Alice", "zip": 75001}, {"age": 41.5, "id": 3, "name": "Carol, Jr", "zip": 69001}])
ok("write_parquet_orc_json_new_bucket")

try:
    _weir.local_path("s3://bucket/../../etc/passwd")
    raise AssertionError("path escape not rejected")
except _weir.WeirPathError:
    pass
try:
    _weir.split("s3://.hidden/x")
    raise AssertionError("dot bucket not rejected")
except _weir.WeirPathError:
    pass
ok("path_safety")

# ------------------------------------------------------------------ other entry points
src = glueContext.getSource("s3", paths=[ROOT + "/csv/people/"], recurse=True)
src.setFormat("csv", withHeader=True)
check("getSource", rows(src.getFrame()), rows(people))
cdf = glueContext.create_data_frame.from_options("s3", {"paths": [ROOT + "/json/multi/"]}, "json",
                                                 {"multiline": True})
check("create_data_frame", sorted(r["k"] for r in cdf.collect()), ["a", "b"])
rdd_frame = glueContext.create_dynamic_frame.from_rdd(sc.parallelize([Row(a=1, b="x")]), "rdd")
check("from_rdd", rows(rdd_frame), [{"a": 1, "b": "x"}])
jframe = DynamicFrame(people.toDF()._jdf, glueContext, "from_java")
check("java_df_constructor", jframe.count(), 3)
check("printSchema.choice", mixed.printSchemaString().splitlines()[3:6],
      ["|-- col2: choice", "|    |-- long", "|    |-- string"])
empty = DynamicFrame.fromDF(spark.createDataFrame([], T.StructType([])), glueContext, "empty")
em = ApplyMapping.apply(frame=empty, mappings=[("a", "string", "a", "int")])
check("empty.apply_mapping", (types(em), em.count()), ([("a", "int")], 0))
glueContext.write_dynamic_frame.from_options(frame=empty, connection_type="s3",
                                             connection_options={"path": ROOT + "/out/empty/"}, format="json")
check("empty.write.skipped", _weir.list_files(ROOT + "/out/empty/"), [])
put(ROOT + "/purge/old.txt", "x")
put(ROOT + "/purge/sub/new.txt", "y")
old_local = _weir.local_path(ROOT + "/purge/old.txt")
os.utime(old_local, (time.time() - 7200, time.time() - 7200))
glueContext.purge_s3_path(ROOT + "/purge/", options={"retentionPeriod": 1})
check("purge_s3_path", [u[len(ROOT):] for u, _, _ in _weir.list_files(ROOT + "/purge/")], ["/purge/sub/new.txt"])
stage = DynamicFrame.fromDF(spark.createDataFrame([(2, "Bobby", 26, None), (9, "Zed", 50, 10000)],
                                                  "id long, name string, age long, zip long"), glueContext, "stage")
merged = people.mergeDynamicFrame(stage, ["id"])
check("mergeDynamicFrame", [(r["id"], r["name"]) for r in rows(merged, key=lambda d: d["id"])],
      [(1, "Alice"), (2, "Bobby"), (3, "Carol, Jr"), (9, "Zed")])
people.spigot(ROOT + "/spigot/", options={"topk": 2})
check("spigot", sum(1 for u, _, _ in _weir.list_files(ROOT + "/spigot/")
                    for _line in open(_weir.local_path(u))), 2)
from awsglue.gluetypes import NullType as GNull, StringType as GString, StructType as GStruct  # noqa: E402
gs = nulls.schema()
check("gluetypes", (isinstance(gs, GStruct), [f.name for f in gs], isinstance(gs["c"].dataType, GString),
                    isinstance(DynamicFrame.fromDF(spark.sql("select null as n"), glueContext, "n").schema()["n"].dataType, GNull)),
      (True, ["a", "b", "c"], True, True))
check("add_ingestion_time_columns", glueContext.add_ingestion_time_columns(people.toDF(), "day").columns[-3:],
      ["ingest_year", "ingest_month", "ingest_day"])
ok("other_entry_points")

# ------------------------------------------------------------------ bookmarks
bm = ROOT + "/bm/"
out_state = os.environ.get("WEIR_BOOKMARK_OUT")
check("bookmark.option", sys.argv[sys.argv.index("--job-bookmark-option") + 1] if "--job-bookmark-option" in sys.argv else None,
      "job-bookmark-enable")
put(bm + "f1.json", '{"n": 1}\n')
put(bm + "d/f2.json", '{"n": 2}\n')


def read_bm(ctx="bm_src"):
    f = glueContext.create_dynamic_frame.from_options("s3", {"paths": [bm], "recurse": True}, "json",
                                                      transformation_ctx=ctx)
    return sorted(r["n"] for r in f.toDF().collect()) if f.toDF().columns else []


check("bookmark.first", read_bm(), [1, 2])
check("bookmark.no_ctx", sorted(r["n"] for r in glueContext.create_dynamic_frame.from_options(
    "s3", {"paths": [bm]}, "json").toDF().collect()), [1, 2])
job.commit()
state = json.load(open(out_state))
check("bookmark.state", (state["version"], state["job"], sorted(state["contexts"]["bm_src"]["files"])),
      (1, args["JOB_NAME"], [bm + "d/f2.json", bm + "f1.json"]))
check("bookmark.none_new", read_bm(), [])
time.sleep(0.01)
put(bm + "f3.json", '{"n": 3}\n')
check("bookmark.incremental", read_bm(), [3])
# a later run: the state written above comes back in; pause reads new files, writes nothing
os.environ["WEIR_BOOKMARK_IN"] = out_state
Job(glueContext).init(args["JOB_NAME"], {"job-bookmark-option": "job-bookmark-pause"})
before = open(out_state).read()
put(bm + "f4.json", '{"n": 4}\n')
check("bookmark.pause", read_bm(), [3, 4])
Job(glueContext).commit()
check("bookmark.pause.nowrite", open(out_state).read(), before)
Job(glueContext).init(args["JOB_NAME"], {"job-bookmark-option": "job-bookmark-disable"})
check("bookmark.disable", read_bm(), [1, 2, 3, 4])
job.init(args["JOB_NAME"], args)  # enable again, state from the commit above
check("bookmark.enable.again", read_bm(), [3, 4])
job.commit()
check("bookmark.state2", sorted(json.load(open(out_state))["contexts"]["bm_src"]["files"]),
      [bm + "d/f2.json", bm + "f1.json", bm + "f3.json", bm + "f4.json"])
ok("job_bookmarks")

print("ALL %d CHECKS PASSED" % len(passed), flush=True)
job.commit()
