"""``awsglue.context.GlueContext`` for Weir.

Sources and sinks support ``connection_type="s3"`` with the formats ``csv``,
``json``, ``parquet`` (also ``glueparquet``) and ``orc``; catalog tables are
read and written through Weir's Glue API (boto3, ``AWS_ENDPOINT_URL``).  S3
paths are mapped to files under ``$WEIR_S3_ROOT`` by :mod:`awsglue._weir`.

Behaviour worth knowing (see also :mod:`awsglue.dynamicframe`):

* ``from_options`` lists the files itself (``recurse`` defaults to true,
  ``exclusions`` are glob patterns on the S3 URI) so that job bookmarks can
  choose files; Hive-style partition directories are not turned into columns.
  CSV columns are named ``col0..`` without ``withHeader``; CSV values are
  typed long/double/string per column (a choice where numbers and text mix);
  JSON records are parsed once in Python to find fields with mixed types.
  ``groupFiles``/``groupSize``/``jsonPath``/``optimizePerformance`` are
  accepted and ignored.
* ``from_catalog`` reads a partitioned table partition by partition from each
  partition's own location, adds the partition columns (typed as the keys)
  and filters partitions with ``push_down_predicate`` or
  ``catalogPartitionPredicate`` (evaluated by Spark over the partition
  values).  Columns are cast to the table's types.
* Writes append, as AWS Glue's S3 sink does.  ``getSink(enableUpdateCatalog=
  True)`` creates a missing table (Hive type names, the SerDe and formats
  Weir's crawler uses), updates the schema of an existing one with
  ``updateBehavior="UPDATE_IN_DATABASE"`` and adds the partitions written.
* Spark's ANSI mode is switched off (as in the Spark versions AWS Glue runs),
  so failed casts give null rather than an error.
"""

import fnmatch
import json
import logging
import os
import sys
import time

from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from awsglue import _util as U
from awsglue import _weir
from awsglue.dynamicframe import DynamicFrame, DynamicFrameReader, DynamicFrameWriter
from awsglue.job import BOOKMARKS

HIVE_DEFAULT_PARTITION = "__HIVE_DEFAULT_PARTITION__"
TEXT_INPUT = "org.apache.hadoop.mapred.TextInputFormat"
TEXT_OUTPUT = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"


def _storage(fmt, format_options, columns, location):
    """Input/OutputFormat, SerDe and table parameters for a format, as Weir's
    crawler writes them."""
    fmt = _norm_format(fmt)
    params = {"classification": fmt, "typeOfData": "file"}
    if fmt == "csv":
        sep = format_options.get("separator", ",")
        params["delimiter"] = sep
        if _truthy(format_options.get("writeHeader", True)):
            params["skip.header.line.count"] = "1"
        serde = {"SerializationLibrary": "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
                 "Parameters": {"field.delim": sep}}
        io = (TEXT_INPUT, TEXT_OUTPUT)
    elif fmt == "json":
        serde = {"SerializationLibrary": "org.openx.data.jsonserde.JsonSerDe",
                 "Parameters": {"paths": ",".join(c["Name"] for c in columns)}}
        io = (TEXT_INPUT, TEXT_OUTPUT)
    elif fmt == "parquet":
        serde = {"SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
                 "Parameters": {"serialization.format": "1"}}
        io = ("org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
              "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat")
    elif fmt == "orc":
        serde = {"SerializationLibrary": "org.apache.hadoop.hive.ql.io.orc.OrcSerde",
                 "Parameters": {"serialization.format": "1"}}
        io = ("org.apache.hadoop.hive.ql.io.orc.OrcInputFormat",
              "org.apache.hadoop.hive.ql.io.orc.OrcOutputFormat")
    else:
        raise ValueError("unsupported format %r" % fmt)
    sd = {"Columns": columns, "Location": location, "InputFormat": io[0], "OutputFormat": io[1],
          "Compressed": False, "NumberOfBuckets": -1, "SerdeInfo": serde, "BucketColumns": [],
          "SortColumns": [], "Parameters": dict(params), "StoredAsSubDirectories": False}
    return sd, params


def _norm_format(fmt):
    fmt = (fmt or "").lower()
    return "parquet" if fmt == "glueparquet" else fmt


def _truthy(v):
    return v is True or str(v).lower() == "true"


_ESCAPE = set('"#%\'*/:=?\\\x7f{[]^')


def _escape_partition_value(v):
    return "".join("%%%02X" % ord(c) if c in _ESCAPE or ord(c) < 0x20 else c for c in v)


def _partition_string(v):
    if v is None:
        return HIVE_DEFAULT_PARTITION
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


class GlueLogger(object):
    """``glueContext.get_logger()``.

    spark-submit merges the Python driver's stderr into its stdout, so lines
    are logged through the JVM's log4j (logger ``GlueLogger``), whose console
    appender writes to spark-submit's stderr; without a JVM they go to
    Python's stderr."""

    def __init__(self, sc=None):
        self._jlog = None
        try:
            if sc is not None:
                self._jlog = sc._jvm.org.apache.logging.log4j.LogManager.getLogger("GlueLogger")
        except Exception:  # noqa: BLE001 - fall back to Python logging
            self._jlog = None
        log = logging.getLogger("GlueLogger")
        if not log.handlers:
            h = logging.StreamHandler(sys.stderr)
            h.setFormatter(logging.Formatter("%(asctime)s %(levelname)s GlueLogger: %(message)s"))
            log.addHandler(h)
            log.setLevel(logging.DEBUG)
            log.propagate = False
        self._log = log

    def _emit(self, level, message):
        message = str(message)
        if self._jlog is not None:
            try:
                getattr(self._jlog, level)(message)
                return
            except Exception:  # noqa: BLE001
                pass
        getattr(self._log, "warning" if level == "warn" else level)(message)

    def info(self, message):
        self._emit("info", message)

    def warn(self, message):
        self._emit("warn", message)

    warning = warn

    def error(self, message):
        self._emit("error", message)

    def debug(self, message):
        self._emit("debug", message)


class _DataFrameReader(object):
    """``glueContext.create_data_frame``."""

    def __init__(self, ctx):
        self._ctx = ctx

    def from_catalog(self, database=None, table_name=None, transformation_ctx="", push_down_predicate="",
                     additional_options={}, catalog_id=None, **kwargs):
        return self._ctx.create_dynamic_frame_from_catalog(
            database, table_name, "", transformation_ctx, push_down_predicate, additional_options,
            catalog_id).toDF()

    def from_options(self, connection_type, connection_options={}, format=None, format_options={},
                     transformation_ctx="", **kwargs):
        return self._ctx.create_dynamic_frame_from_options(
            connection_type, connection_options, format, format_options, transformation_ctx).toDF()


class DataSink(object):
    """What ``glueContext.getSink`` returns."""

    def __init__(self, ctx, connection_type, options):
        if connection_type != "s3":
            raise NotImplementedError("Weir sinks support connection_type='s3' only")
        self._ctx = ctx
        self._options = dict(options)
        self._format = None
        self._format_options = {}
        self._database = None
        self._table = None
        self._catalog_id = None

    def setFormat(self, format, **options):
        self._format = format
        self._format_options = options

    def setCatalogInfo(self, catalogDatabase, catalogTableName, catalogId=None):
        self._database = catalogDatabase
        self._table = catalogTableName
        self._catalog_id = catalogId

    def setAccumulableSize(self, size):
        pass

    def writeFrame(self, dynamic_frame, info=""):
        o = self._options
        path = o.get("path")
        keys = list(o.get("partitionKeys") or [])
        fmt = self._format or o.get("format")
        table = None
        if path is None and self._database:
            table = self._ctx._get_table(self._database, self._table, self._catalog_id)
            path = table["StorageDescriptor"]["Location"]
        if fmt is None:
            fmt = _classification(table) if table else "parquet"
        df = dynamic_frame.toDF()
        wrote = self._ctx._write(df, path, fmt, self._format_options, keys, o.get("compression"))
        if wrote is not False and _truthy(o.get("enableUpdateCatalog", False)) and self._database:
            self._ctx._update_catalog(self._database, self._table, df, keys, path, fmt, self._format_options,
                                      o.get("updateBehavior", "UPDATE_IN_DATABASE"), self._catalog_id)
        return dynamic_frame

    write = writeFrame


class DataSource(object):
    """What ``glueContext.getSource`` returns."""

    def __init__(self, ctx, connection_type, options):
        self._ctx = ctx
        self._type = connection_type
        self._options = dict(options)
        self._format = None
        self._format_options = {}

    def setFormat(self, format, **options):
        self._format = format
        self._format_options = options

    def getFrame(self, **kwargs):
        o = dict(self._options)
        ctx = o.pop("transformation_ctx", "")
        return self._ctx.create_dynamic_frame_from_options(self._type, o, self._format, self._format_options, ctx)


def _classification(table):
    sd = table.get("StorageDescriptor", {})
    c = (table.get("Parameters") or {}).get("classification") or (sd.get("Parameters") or {}).get("classification")
    if c:
        return _norm_format(c)
    lib = ((sd.get("SerdeInfo") or {}).get("SerializationLibrary") or "").lower()
    inp = (sd.get("InputFormat") or "").lower()
    for name in ("parquet", "orc", "json"):
        if name in lib or name in inp:
            return name
    if "csv" in lib or "lazysimpleserde" in lib:
        return "csv"
    raise ValueError("cannot tell the format of table %s" % table.get("Name"))


class GlueContext(object):
    def __init__(self, sparkContext, **options):
        self._sc = sparkContext
        self.spark_session = SparkSession.builder.getOrCreate()
        self.spark_session.conf.set("spark.sql.ansi.enabled", "false")
        self.create_dynamic_frame = DynamicFrameReader(self)
        self.write_dynamic_frame = DynamicFrameWriter(self)
        self.create_data_frame = _DataFrameReader(self)
        self._logger = None

    # GlueContext is a SQLContext in AWS Glue: delegate the rest to the session
    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.spark_session, name)

    @property
    def sparkSession(self):
        return self.spark_session

    def extract_jdbc_conf(self, connection_name, catalog_id=None):
        """The JDBC settings of a Data Catalog connection (read with GetConnection)."""
        return _weir.jdbc_conf(connection_name, catalog_id)

    def get_logger(self):
        if self._logger is None:
            self._logger = GlueLogger(self._sc)
        return self._logger

    def getSink(self, connection_type, format=None, transformation_ctx="", **options):
        if format:
            options["format"] = format
        return DataSink(self, connection_type, options)

    def getSource(self, connection_type, format=None, transformation_ctx="", push_down_predicate="", **options):
        src = DataSource(self, connection_type, dict(options, transformation_ctx=transformation_ctx))
        if format:
            src.setFormat(format)
        return src

    # ------------------------------------------------------------ reading
    def create_dynamic_frame_from_rdd(self, data, name, schema=None, sample_ratio=None, transformation_ctx=""):
        df = self.spark_session.createDataFrame(data, schema, sample_ratio)
        return DynamicFrame(df, self, name)

    def create_dynamic_frame_from_options(self, connection_type, connection_options={}, format=None,
                                          format_options={}, transformation_ctx="", push_down_predicate="",
                                          **kwargs):
        if connection_type != "s3":
            raise NotImplementedError("Weir reads connection_type='s3' only, not %r" % connection_type)
        o = connection_options or {}
        paths = o.get("paths") or o.get("path") or []
        if isinstance(paths, str):
            paths = [paths]
        recurse = _truthy(o.get("recurse", True))
        exclusions = o.get("exclusions") or []
        if isinstance(exclusions, str):
            exclusions = json.loads(exclusions)
        files, seen = [], set()
        for p in paths:
            for f in _weir.list_files(p, recurse=recurse):
                if f[0] in seen or any(fnmatch.fnmatch(f[0], pat) for pat in exclusions):
                    continue
                seen.add(f[0])
                files.append(f)
        files = BOOKMARKS.filter(transformation_ctx, files)
        if not files:
            empty = self.spark_session.createDataFrame([], T.StructType([]))
            return DynamicFrame(empty, self, transformation_ctx)
        df, choices = self._read_files([f[0] for f in files], format, format_options or {})
        return DynamicFrame(df, self, transformation_ctx, _choices=choices)

    def _paths(self, uris):
        return [_weir.spark_path(u, self._sc) for u in uris]

    def _read_files(self, uris, fmt, fo):
        fmt = _norm_format(fmt)
        spark = self.spark_session
        paths = self._paths(uris)
        if fmt == "csv":
            return self._read_csv(paths, fo)
        if fmt == "json":
            return self._read_json(paths, fo)
        if fmt == "parquet":
            return spark.read.option("mergeSchema", "true").parquet(*paths), {}
        if fmt == "orc":
            return spark.read.option("mergeSchema", "true").orc(paths), {}
        if fmt == "avro":
            return spark.read.format("avro").load(paths), {}
        raise NotImplementedError("format %r is not supported by Weir" % fmt)

    def _csv_reader(self, fo, header):
        quote = fo.get("quoteChar", '"')
        if quote in (-1, "-1", None, ""):
            quote = "\u0000"
        escape = fo.get("escaper") or quote
        r = (self.spark_session.read.option("sep", fo.get("separator", ","))
             .option("quote", quote).option("escape", escape)
             .option("header", header)
             .option("multiLine", _truthy(fo.get("multiLine", fo.get("multiline", False))))
             .option("inferSchema", False))
        return r

    def _read_csv(self, paths, fo):
        with_header = _truthy(fo.get("withHeader", False))
        skip_first = _truthy(fo.get("skipFirst", False))
        df = self._csv_reader(fo, with_header or skip_first).csv(paths)
        if not with_header:
            df = df.toDF(*["col%d" % i for i in range(len(df.columns))])
        return _type_csv_columns(df)

    def _read_json(self, paths, fo):
        spark = self.spark_session
        multiline = _truthy(fo.get("multiline", fo.get("multiLine", False)))
        if not _truthy(fo.get("weirDetectChoices", True)):
            return spark.read.json(paths, multiLine=multiline), {}
        if multiline:
            texts = self._sc.wholeTextFiles(",".join(paths)).map(lambda kv: kv[1])
        else:
            texts = spark.read.text(paths).rdd.map(lambda r: r[0])
        records = texts.flatMap(_json_records)
        seen = records.flatMap(lambda d: [(k, _json_type(v)) for k, v in d.items() if v is not None]) \
            .distinct().collect()
        by_field = {}
        for k, t in seen:
            by_field.setdefault(k, set()).add(t)
        mixed = {}
        for k, ts in by_field.items():
            if "int" in ts and "long" in ts:
                ts = (ts - {"int"})
            if len(ts) > 1:
                mixed[k] = ts
        if not mixed:
            return spark.read.json(paths, multiLine=multiline), {}
        mixed_keys = set(mixed)

        def wrap(d):
            out = {}
            for k, v in d.items():
                if k in mixed_keys and v is not None:
                    t = _json_type(v)
                    if t == "int" and "long" in mixed[k]:
                        t = "long"
                    v = {t: v}
                out[k] = v
            return json.dumps(out)

        df = spark.read.json(records.map(wrap))
        choices = {k: sorted(f.name for f in df.schema[k].dataType.fields) for k in mixed}
        return df, choices

    # ------------------------------------------------------------ catalog
    def _get_table(self, database, table_name, catalog_id=None):
        kw = {"DatabaseName": database, "Name": table_name}
        if catalog_id:
            kw["CatalogId"] = catalog_id
        return _weir.glue_client().get_table(**kw)["Table"]

    def _get_partitions(self, database, table_name, catalog_id=None):
        client = _weir.glue_client()
        kw = {"DatabaseName": database, "TableName": table_name}
        if catalog_id:
            kw["CatalogId"] = catalog_id
        out = []
        for page in client.get_paginator("get_partitions").paginate(**kw):
            out.extend(page.get("Partitions", []))
        return out

    def _catalog_column_types(self, database, table_name, catalog_id=None):
        t = self._get_table(database, table_name, catalog_id)
        cols = t["StorageDescriptor"].get("Columns", []) + t.get("PartitionKeys", [])
        return {c["Name"].lower(): c["Type"] for c in cols}

    def create_dynamic_frame_from_catalog(self, database, table_name, redshift_tmp_dir="", transformation_ctx="",
                                          push_down_predicate="", additional_options={}, catalog_id=None,
                                          **kwargs):
        additional_options = additional_options or {}
        table = self._get_table(database, table_name, catalog_id)
        sd = table["StorageDescriptor"]
        columns = sd.get("Columns", [])
        keys = table.get("PartitionKeys", []) or []
        fmt = _classification(table)
        if keys:
            parts = self._get_partitions(database, table_name, catalog_id)
            pred = push_down_predicate or additional_options.get("catalogPartitionPredicate")
            if pred and parts:
                parts = self._filter_partitions(parts, keys, pred)
            units = [(p["StorageDescriptor"]["Location"], p["Values"], p["StorageDescriptor"]) for p in parts]
        else:
            units = [(sd["Location"], [], sd)]
        frames = []
        for location, values, psd in units:
            files = BOOKMARKS.filter(transformation_ctx, _weir.list_files(location, recurse=True))
            if not files:
                continue
            df = self._read_table_files([f[0] for f in files], fmt, table, psd, columns)
            for key, value in zip(keys, values):
                v = None if value == HIVE_DEFAULT_PARTITION else value
                df = df.withColumn(key["Name"], F.lit(v).cast(U.spark_type_name(key["Type"])))
            frames.append(df)
        if not frames:
            ddl = ", ".join("%s %s" % (U.quote(c["Name"]), U.spark_type_name(c["Type"])) for c in columns + keys)
            schema = T._parse_datatype_string(ddl) if ddl else T.StructType([])
            df = self.spark_session.createDataFrame([], schema)
        else:
            df = frames[0]
            for other in frames[1:]:
                df = df.unionByName(other)
        return DynamicFrame(df, self, transformation_ctx or table_name)

    def _filter_partitions(self, parts, keys, predicate):
        schema = T.StructType([T.StructField("__weir_i", T.LongType())] +
                              [T.StructField(k["Name"], T.StringType()) for k in keys])
        rows = [tuple([i] + [None if v == HIVE_DEFAULT_PARTITION else v for v in p["Values"]])
                for i, p in enumerate(parts)]
        df = self.spark_session.createDataFrame(rows, schema)
        df = df.select("__weir_i", *[F.col(U.quote(k["Name"])).cast(U.spark_type_name(k["Type"])).alias(k["Name"])
                                     for k in keys])
        keep = {r[0] for r in df.where(predicate).select("__weir_i").collect()}
        return [p for i, p in enumerate(parts) if i in keep]

    def _read_table_files(self, uris, fmt, table, sd, columns):
        spark = self.spark_session
        paths = self._paths(uris)
        serde = (sd.get("SerdeInfo") or {}).get("Parameters") or {}
        params = dict(table.get("Parameters") or {})
        params.update(sd.get("Parameters") or {})
        primitive = lambda t: "<" not in t and not t.lower().startswith(("struct", "array", "map"))
        if fmt == "csv":
            sep = serde.get("field.delim") or serde.get("separatorChar") or params.get("delimiter") or ","
            header = int(params.get("skip.header.line.count") or serde.get("skip.header.line.count") or 0) > 0
            quote = serde.get("quoteChar") or '"'
            schema = T.StructType([T.StructField(c["Name"], T.StringType()) for c in columns])
            escape = serde.get("escapeChar") or quote
            df = (spark.read.schema(schema).option("sep", sep).option("quote", quote).option("escape", escape)
                  .option("header", header).csv(paths))
            return df.select(*[
                (F.col(U.quote(c["Name"])).cast(U.spark_type_name(c["Type"])) if primitive(c["Type"])
                 else F.col(U.quote(c["Name"]))).alias(c["Name"]) for c in columns])
        if fmt == "json":
            # primitive columns are read as their JSON text and cast, so "7" reads as int 7
            ddl = ", ".join("%s %s" % (U.quote(c["Name"]),
                                       "string" if primitive(c["Type"]) else U.spark_type_name(c["Type"]))
                            for c in columns)
            df = spark.read.schema(ddl).json(paths)
            return df.select(*[
                (F.col(U.quote(c["Name"])).cast(U.spark_type_name(c["Type"])) if primitive(c["Type"])
                 else F.col(U.quote(c["Name"]))).alias(c["Name"]) for c in columns])
        if fmt in ("parquet", "orc"):
            reader = spark.read.option("mergeSchema", "true")
            df = reader.parquet(*paths) if fmt == "parquet" else reader.orc(paths)
            have = {c.lower(): c for c in df.columns}
            out = []
            for c in columns:
                t = U.spark_type_name(c["Type"])
                src = have.get(c["Name"].lower())
                col = F.col(U.quote(src)).cast(t) if src else F.lit(None).cast(t)
                out.append(col.alias(c["Name"]))
            return df.select(*out)
        raise NotImplementedError("catalog format %r is not supported by Weir" % fmt)

    # ------------------------------------------------------------ writing
    def write_dynamic_frame_from_options(self, frame, connection_type="s3", connection_options={}, format=None,
                                         format_options={}, transformation_ctx=""):
        if connection_type != "s3":
            raise NotImplementedError("Weir writes connection_type='s3' only, not %r" % connection_type)
        o = connection_options or {}
        df = frame.toDF() if isinstance(frame, DynamicFrame) else frame
        self._write(df, o["path"], format, format_options or {}, list(o.get("partitionKeys") or []),
                    o.get("compression"))
        return frame

    def write_dynamic_frame_from_catalog(self, frame, database=None, table_name=None, redshift_tmp_dir="",
                                         transformation_ctx="", additional_options={}, catalog_id=None):
        additional_options = additional_options or {}
        table = self._get_table(database, table_name, catalog_id)
        sd = table["StorageDescriptor"]
        fmt = _classification(table)
        keys = [k["Name"] for k in table.get("PartitionKeys", []) or []] or \
            list(additional_options.get("partitionKeys") or [])
        df = frame.toDF() if isinstance(frame, DynamicFrame) else frame
        have = {c.lower(): c for c in df.columns}
        cols = []
        for c in sd.get("Columns", []):
            src = have.get(c["Name"].lower())
            t = U.spark_type_name(c["Type"])
            cols.append((F.col(U.quote(src)) if src else F.lit(None).cast(t)).alias(c["Name"]))
        for k in keys:
            cols.append(F.col(U.quote(have.get(k.lower(), k))).alias(k))
        out = df.select(*cols)
        serde = (sd.get("SerdeInfo") or {}).get("Parameters") or {}
        params = dict(table.get("Parameters") or {})
        fo = {}
        if fmt == "csv":
            fo["separator"] = serde.get("field.delim") or serde.get("separatorChar") or params.get("delimiter") or ","
            fo["writeHeader"] = int(params.get("skip.header.line.count") or 0) > 0
        if not df.columns:
            self.get_logger().info("no columns to write to %s.%s: skipped" % (database, table_name))
            return frame
        self._write(out, sd["Location"], fmt, fo, keys, additional_options.get("compression"))
        if _truthy(additional_options.get("enableUpdateCatalog", False)):
            self._update_catalog(database, table_name, out, keys, sd["Location"], fmt, fo,
                                 additional_options.get("updateBehavior", "UPDATE_IN_DATABASE"), catalog_id)
        return frame

    def _write(self, df, path, fmt, fo, keys, compression):
        fmt = _norm_format(fmt)
        if not df.columns:
            # e.g. a bookmarked source with no new files: nothing to write
            self.get_logger().info("no columns to write to %s: skipped" % path)
            return False
        target = _weir.spark_path(path, self._sc, write=True)
        w = df.write.mode("append")
        if keys:
            w = w.partitionBy(*keys)
        compression = compression or fo.get("compression")
        comp = {"uncompressed": "none", "gz": "gzip", "bz2": "bzip2"}.get(str(compression).lower(), compression)
        if fmt == "csv":
            quote = fo.get("quoteChar", '"')
            if quote in (-1, "-1"):
                quote = "\u0000"
            w = (w.option("sep", fo.get("separator", ",")).option("quote", quote)
                 .option("escape", fo.get("escaper") or quote)
                 .option("header", _truthy(fo.get("writeHeader", True))))
            if comp:
                w = w.option("compression", comp)
            w.csv(target)
        elif fmt == "json":
            if comp:
                w = w.option("compression", comp)
            w.json(target)
        elif fmt == "parquet":
            w.option("compression", comp or "snappy").parquet(target)
        elif fmt == "orc":
            if comp:
                w = w.option("compression", comp)
            w.orc(target)
        else:
            raise NotImplementedError("format %r is not supported by Weir" % fmt)

    def _update_catalog(self, database, table_name, df, keys, path, fmt, fo, behavior, catalog_id=None):
        client = _weir.glue_client()
        cid = {"CatalogId": catalog_id} if catalog_id else {}
        location = path if path.endswith("/") else path + "/"
        columns = [{"Name": f.name, "Type": U.hive_type(f.dataType)} for f in df.schema.fields if f.name not in keys]
        pkeys = [{"Name": k, "Type": U.hive_type(df.schema[k].dataType)} for k in keys]
        try:
            table = client.get_table(DatabaseName=database, Name=table_name, **cid)["Table"]
        except client.exceptions.EntityNotFoundException:
            table = None
        if table is None:
            sd, params = _storage(fmt, fo, columns, location)
            client.create_table(DatabaseName=database, TableInput={
                "Name": table_name, "StorageDescriptor": sd, "PartitionKeys": pkeys,
                "TableType": "EXTERNAL_TABLE", "Parameters": params}, **cid)
            table_keys = keys
            sd_for_parts = sd
        else:
            table_keys = [k["Name"] for k in table.get("PartitionKeys", []) or []]
            sd_for_parts = dict(table["StorageDescriptor"])
            if behavior == "UPDATE_IN_DATABASE":
                sd_new = dict(table["StorageDescriptor"])
                sd_new["Columns"] = columns
                ti = {k: table[k] for k in ("Name", "Description", "Owner", "Retention", "PartitionKeys",
                                            "TableType", "Parameters", "ViewOriginalText", "ViewExpandedText")
                      if k in table}
                ti["StorageDescriptor"] = sd_new
                client.update_table(DatabaseName=database, TableInput=ti, **cid)
                sd_for_parts = sd_new
        if not table_keys:
            return
        rows = df.select(*[F.col(U.quote(k)) for k in table_keys]).distinct().collect()
        existing = {tuple(p["Values"]) for p in self._get_partitions(database, table_name, catalog_id)}
        new = []
        for r in rows:
            values = [_partition_string(v) for v in r]
            if tuple(values) in existing:
                continue
            psd = dict(sd_for_parts)
            psd["Location"] = location + "/".join(
                "%s=%s" % (k, _escape_partition_value(v)) for k, v in zip(table_keys, values)) + "/"
            new.append({"Values": values, "StorageDescriptor": psd})
        for i in range(0, len(new), 100):
            resp = client.batch_create_partition(DatabaseName=database, TableName=table_name,
                                                 PartitionInputList=new[i:i + 100], **cid)
            for err in resp.get("Errors", []) or []:
                code = (err.get("ErrorDetail") or {}).get("ErrorCode")
                if code != "AlreadyExistsException":
                    raise RuntimeError("BatchCreatePartition failed: %r" % err)

    # ------------------------------------------------------------ misc
    def add_ingestion_time_columns(self, dataFrame, timeGranularity=""):
        """Adds ``ingest_year``/``ingest_month``/``ingest_day``/``ingest_hour``
        (and ``ingest_minute``) string columns for the current time, down to
        ``timeGranularity`` (``day``, ``hour`` or ``minute``; default hour)."""
        now = time.gmtime()
        cols = [("ingest_year", "%04d" % now.tm_year), ("ingest_month", "%02d" % now.tm_mon),
                ("ingest_day", "%02d" % now.tm_mday), ("ingest_hour", "%02d" % now.tm_hour),
                ("ingest_minute", "%02d" % now.tm_min)]
        depth = {"day": 3, "hour": 4, "minute": 5}.get((timeGranularity or "hour").lower(), 4)
        for name, value in cols[:depth]:
            dataFrame = dataFrame.withColumn(name, F.lit(value))
        return dataFrame

    def purge_s3_path(self, s3_path, options={}, transformation_ctx=""):
        hours = float((options or {}).get("retentionPeriod", 168))
        cutoff = (time.time() - hours * 3600) * 1000
        for uri, mtime, _size in _weir.list_files(s3_path, recurse=True):
            if mtime < cutoff:
                os.remove(_weir.local_path(uri))

    def purge_table(self, database, table_name, options={}, transformation_ctx="", catalog_id=None):
        table = self._get_table(database, table_name, catalog_id)
        self.purge_s3_path(table["StorageDescriptor"]["Location"], options, transformation_ctx)

    def extract_jdbc_conf(self, connection_name, catalog_id=None):
        raise NotImplementedError("JDBC connections are not supported by Weir")


def _json_records(text):
    text = text.strip()
    if not text:
        return []
    try:
        obj = json.loads(text)
    except ValueError:
        out = []
        for line in text.splitlines():
            line = line.strip()
            if line:
                try:
                    out.append(json.loads(line))
                except ValueError:
                    pass
        return [o for o in out if isinstance(o, dict)]
    if isinstance(obj, list):
        return [o for o in obj if isinstance(o, dict)]
    return [obj] if isinstance(obj, dict) else []


def _json_type(v):
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int):
        return "int" if -(1 << 31) <= v < (1 << 31) else "long"
    if isinstance(v, float):
        return "double"
    if isinstance(v, str):
        return "string"
    if isinstance(v, dict):
        return "struct"
    if isinstance(v, list):
        return "array"
    return "string"


_LONG_RE = r"^\s*[-+]?[0-9]{1,18}\s*$"
_DOUBLE_RE = r"^\s*[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?\s*$"


def _type_csv_columns(df):
    if not df.columns:
        return df, {}
    aggs = []
    for i, c in enumerate(df.columns):
        col = F.col(U.quote(c))
        aggs += [F.count(col).alias("n%d" % i),
                 F.sum(F.when(col.rlike(_LONG_RE), 1).otherwise(0)).alias("l%d" % i),
                 F.sum(F.when(col.rlike(_DOUBLE_RE), 1).otherwise(0)).alias("d%d" % i)]
    stats = df.agg(*aggs).first()
    out, choices = [], {}
    for i, c in enumerate(df.columns):
        n, nl, nd = stats["n%d" % i], stats["l%d" % i] or 0, stats["d%d" % i] or 0
        col = F.col(U.quote(c))
        if n == 0 or nd == 0:
            out.append(col.alias(c))
        elif nl == n:
            out.append(F.trim(col).cast("bigint").alias(c))
        elif nd == n:
            out.append(F.trim(col).cast("double").alias(c))
        else:
            member = "long" if nl == nd else "double"
            is_num = col.rlike(_LONG_RE if member == "long" else _DOUBLE_RE)
            num = F.when(is_num, F.trim(col).cast("bigint" if member == "long" else "double"))
            out.append(F.when(col.isNull(), F.lit(None)).otherwise(
                F.struct(num.alias(member), F.when(~is_num, col).alias("string"))).alias(c))
            choices[c] = [member, "string"]
    return df.select(*out), choices
