"""``DynamicFrame`` and ``DynamicFrameCollection`` for Weir, over PySpark.

A Weir DynamicFrame wraps a Spark DataFrame.  What differs from AWS Glue:

* Records are not self-describing: the frame has the DataFrame's schema.
* Choice types.  Spark has none, so a choice is represented as a top-level
  struct column with one member per type seen (``{"int": 1, "string": null}``),
  recorded on the frame (``frame._choices``).  Choices are only made where a
  mix of types is actually visible: the JSON reader of ``from_options`` parses
  the records once in Python and makes a choice of every top-level field
  whose non-null values have different JSON types (integers of any size and
  nested values are not split further); the CSV reader of ``from_options``
  types each column as ``long``/``double`` when all its values are numbers,
  ``string`` when none are, and a ``long|double``/``string`` choice when both
  occur.  Catalog reads use the table's types and make no choices.
  ``toDF()`` returns a choice as its struct.
* ``resolveChoice``: ``cast:T`` casts (every member of a choice, first
  non-null wins); ``project:T`` keeps the values that are of type T (the
  member T of a choice; a plain column is cast and values that do not convert
  become null); ``make_cols`` splits a choice into ``<col>_<type>`` columns
  and does nothing to a plain column; ``make_struct`` leaves a choice as its
  struct and turns a plain column into a struct with one field named by its
  type; ``match_catalog`` casts to the catalog table's column types (with
  ``choice="match_catalog"``: every column the table has).
  ``choice=`` applies an action to every choice column.
* ``filter``/``map`` run the Python function on each record (a
  ``DynamicRecord``: a dict also readable by attribute).  A record whose
  function raises is dropped and counted as an error record
  (``errorsCount``/``stageErrorsCount``).  ``map`` infers its output schema
  from all returned records, keeping an input field's type where every value
  still fits it.
* ``relationalize`` flattens structs into ``a.b`` columns and pivots each
  array into its own frame ``<root>_<path>`` with columns ``id`` (the value
  now held by the parent's column), ``index`` (0-based) and ``<path>.val``
  (flattened further when the elements are structs).  Ids are 1..n in row
  order of the parent frame; frames are staged through ``staging_path`` (as
  parquet) when given, otherwise checkpointed locally.
* Stage/total error thresholds are accepted and not enforced; ``spigot``
  writes its sample as JSON.
"""

import json
import sys

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from awsglue import _util as U


class DynamicRecord(dict):
    """A record handed to ``filter``/``map`` functions: a dict (nested structs
    are DynamicRecords too) whose fields can also be read as attributes."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name)

    def __setattr__(self, name, value):
        self[name] = value

    def __delattr__(self, name):
        del self[name]

    @classmethod
    def wrap(cls, v):
        if isinstance(v, dict):
            return cls((k, cls.wrap(x)) for k, x in v.items())
        if isinstance(v, list):
            return [cls.wrap(x) for x in v]
        return v


def _df_of(frame):
    return frame.toDF() if isinstance(frame, DynamicFrame) else frame


class DynamicFrame(object):
    def __init__(self, jdf, glue_ctx, name="", _choices=None, _prev_errors=None, _own_errors=None):
        if isinstance(jdf, DataFrame):
            df = jdf
        else:  # a Java DataFrame, as AWS's constructor takes
            spark = glue_ctx.spark_session
            df = DataFrame(jdf, spark)
        self._df = df
        self.glue_ctx = glue_ctx
        self.name = name
        self._choices = dict(_choices or {})
        self._prev_errors = list(_prev_errors or [])
        self._own_errors = _own_errors

    # -------------------------------------------------- construction
    @classmethod
    def fromDF(cls, dataframe, glue_ctx, name=""):
        return cls(dataframe, glue_ctx, name)

    def toDF(self, options=None):
        return self._df

    def _new(self, df, name=None, choices=None, own_errors=None):
        prev = self._prev_errors + ([self._own_errors] if self._own_errors else [])
        return DynamicFrame(df, self.glue_ctx, self.name if name is None else name,
                            _choices=self._choices if choices is None else choices,
                            _prev_errors=prev, _own_errors=own_errors)

    def _keep_choices(self, df):
        names = set(df.columns)
        return {k: v for k, v in self._choices.items() if k in names}

    # -------------------------------------------------- inspection
    def count(self):
        return self._df.count()

    def schema(self):
        return self._df.schema

    def printSchema(self):
        print(self._schema_text())

    def _schema_text(self):
        lines = ["root"]

        def walk(dtype, depth):
            for f in dtype.fields:
                pad = "|    " * depth
                if depth == 0 and f.name in self._choices:
                    lines.append("%s|-- %s: choice" % (pad, f.name))
                    for m in f.dataType.fields:
                        lines.append("%s|    |-- %s" % (pad, U.glue_type_name(m.dataType)))
                    continue
                lines.append("%s|-- %s: %s" % (pad, f.name, U.glue_type_name(f.dataType)))
                if isinstance(f.dataType, T.StructType):
                    walk(f.dataType, depth + 1)

        walk(self._df.schema, 0)
        return "\n".join(lines)

    def show(self, num_rows=20):
        for line in self._df.toJSON().take(num_rows):
            print(line)

    def printSchemaString(self):
        return self._schema_text()

    def errorsCount(self):
        return self.stageErrorsCount() + sum(f() for f in self._prev_errors)

    def stageErrorsCount(self):
        return self._own_errors() if self._own_errors else 0

    def errorsAsDynamicFrame(self):
        return DynamicFrame(self.glue_ctx.spark_session.createDataFrame([], T.StructType([])), self.glue_ctx, "errors")

    def assertErrorThreshold(self):
        return None

    # -------------------------------------------------- partitioning
    def repartition(self, num_partitions, transformation_ctx="", info="", stageThreshold=0, totalThreshold=0):
        return self._new(self._df.repartition(num_partitions))

    def coalesce(self, num_partitions, shuffle=False, transformation_ctx="", info="", stageThreshold=0, totalThreshold=0):
        df = self._df.repartition(num_partitions) if shuffle else self._df.coalesce(num_partitions)
        return self._new(df)

    def getNumPartitions(self):
        return self._df.rdd.getNumPartitions()

    # -------------------------------------------------- field transforms
    def select_fields(self, paths, transformation_ctx="", info="", stageThreshold=0, totalThreshold=0):
        want = [U.parse_path(p) for p in paths]

        def build(dtype, base, wanted):
            out = []
            for f in dtype.fields:
                subs = [w[1:] for w in wanted if w[0] == f.name]
                if not subs:
                    continue
                c = U.quote(f.name) if base is None else None
                col = F.col(c) if base is None else base.getField(f.name)
                if any(len(s) == 0 for s in subs) or not isinstance(f.dataType, T.StructType):
                    out.append(col.alias(f.name))
                else:
                    inner = build(f.dataType, col, subs)
                    out.append(F.when(col.isNull(), F.lit(None)).otherwise(F.struct(*inner)).alias(f.name))
            return out

        df = self._df.select(*build(self._df.schema, None, want))
        return self._new(df, choices=self._keep_choices(df))

    def drop_fields(self, paths, transformation_ctx="", info="", stageThreshold=0, totalThreshold=0):
        df = self._df
        for p in paths:
            parts = U.parse_path(p)
            if U.field_at(df.schema, parts) is None:
                continue
            df = U.rebuild(df, parts, lambda f, c: [])
        return self._new(df, choices=self._keep_choices(df))

    def rename_field(self, oldName, newName, transformation_ctx="", info="", stageThreshold=0, totalThreshold=0):
        old, new = U.parse_path(oldName), U.parse_path(newName)
        df = self._df
        if U.field_at(df.schema, old) is None:
            return self._new(df)
        choices = dict(self._choices)
        if old[:-1] == new[:-1]:
            df = U.rebuild(df, old, lambda f, c: [(new[-1], c)])
        else:
            df = df.withColumn("__weir_moved", U.col_of(old))
            df = U.rebuild(df, old, lambda f, c: [])
            if len(new) == 1:
                df = df.withColumnRenamed("__weir_moved", new[0])
            else:
                parent = U.field_at(df.schema, new[:-1])
                if parent is None or not isinstance(parent.dataType, T.StructType):
                    raise ValueError("rename_field: %s has no struct parent" % newName)
                moved = F.col("__weir_moved")
                df = U.rebuild(df, new[:-1], lambda f, c: [(f.name, c.withField(U.quote(new[-1]), moved))])
                df = df.drop("__weir_moved")
        if len(old) == 1 and old[0] in choices:
            members = choices.pop(old[0])
            if len(new) == 1:
                choices[new[0]] = members
        return self._new(df, choices=choices)

    def apply_mapping(self, mappings, case_sensitive=False, transformation_ctx="", info="", stageThreshold=0, totalThreshold=0):
        schema = self._df.schema
        cols = []
        for m in mappings:
            if len(m) == 4:
                src, src_type, dst, dst_type = m
            elif len(m) == 3:
                src, src_type, dst = m
                dst_type = src_type
            else:
                src, dst_type = m[0], m[1]
                src_type, dst = dst_type, src
            sparts, dparts = U.parse_path(src), U.parse_path(dst)
            field = U.field_at(schema, sparts)
            if field is None and not case_sensitive:
                field, sparts = _field_ci(schema, sparts)
            if field is None:
                if U.is_complex_name(dst_type):
                    c = F.lit(None)
                else:
                    c = F.lit(None).cast(U.spark_type_name(dst_type))
            else:
                c = U.col_of(sparts)
                if len(sparts) == 1 and sparts[0] in self._choices:
                    c = _choice_cast(c, self._choices[sparts[0]], dst_type)
                elif not U.is_complex_name(dst_type) and U.spark_type_name(dst_type) != field.dataType.simpleString():
                    c = c.cast(U.spark_type_name(dst_type))
            cols.append((dparts, c))
        df = self._df.select(*U.nest(cols))
        return self._new(df, choices={})

    def unnest(self, transformation_ctx="", info="", stageThreshold=0, totalThreshold=0):
        df = self._df.select(*U.flatten_columns(self._df.schema))
        return self._new(df, choices={})

    def resolveChoice(self, specs=None, choice="", database=None, table_name=None, transformation_ctx="",
                      info="", stageThreshold=0, totalThreshold=0, catalog_id=None):
        if specs and choice:
            raise ValueError("resolveChoice takes specs or choice, not both")
        df = self._df
        choices = dict(self._choices)
        catalog_types = None
        if (choice == "match_catalog" or any(a == "match_catalog" for _, a in specs or [])):
            catalog_types = self.glue_ctx._catalog_column_types(database, table_name, catalog_id)
        todo = list(specs or [])
        if choice == "match_catalog":
            todo = [(name, choice) for name in df.columns]
        elif choice:
            todo = [(name, choice) for name in choices]
        for path, action in todo:
            parts = U.parse_path(path)
            field = U.field_at(df.schema, parts)
            if field is None:
                continue
            if action == "match_catalog":
                t = catalog_types.get(parts[0].lower()) if catalog_types else None
                if t is None:
                    continue
                action = "cast:" + t
            is_choice = len(parts) == 1 and parts[0] in choices
            if is_choice:
                members = choices.pop(parts[0])
                df = _resolve_choice_col(df, parts[0], members, action)
            else:
                df = _resolve_plain(df, parts, field, action)
        return self._new(df, choices=choices)

    # -------------------------------------------------- record functions
    def filter(self, f, transformation_ctx="", info="", stageThreshold=0, totalThreshold=0):
        schema = self._df.schema

        def run(rows):
            for row in rows:
                try:
                    keep = f(DynamicRecord.wrap(U.to_python(row)))
                except Exception:  # noqa: BLE001 - a failed record is an error record
                    yield (2, None)
                    continue
                yield (1, row) if keep else (0, None)

        tagged = self._df.rdd.mapPartitions(run).cache()
        kept = tagged.filter(lambda t: t[0] == 1).map(lambda t: t[1])
        df = self.glue_ctx.spark_session.createDataFrame(kept, schema, verifySchema=False)
        errors = _Counter(tagged)
        return self._new(df, own_errors=errors)

    def map(self, f, preservesPartitioning=False, transformation_ctx="", info="", stageThreshold=0, totalThreshold=0):
        in_schema = self._df.schema

        def run(rows):
            for row in rows:
                try:
                    out = f(DynamicRecord.wrap(U.to_python(row)))
                    if hasattr(out, "asDict") and not isinstance(out, dict):
                        out = out.asDict(recursive=True)
                    if not isinstance(out, dict):
                        raise TypeError("map function returned %r, not a record" % type(out))
                    yield (1, U.to_python(dict(out)))
                except Exception:  # noqa: BLE001
                    yield (2, None)

        tagged = self._df.rdd.mapPartitions(run).cache()
        outputs = tagged.filter(lambda t: t[0] == 1).map(lambda t: t[1])
        orig = {fld.name: fld.dataType for fld in in_schema.fields}

        def summarize(records):
            order, fits, inferred = [], {}, {}
            for rec in records:
                for k, v in rec.items():
                    if k not in fits:
                        order.append(k)
                        fits[k] = True
                        inferred[k] = None
                    if k in orig and fits[k] and not U.fits(v, orig[k]):
                        fits[k] = False
                    inferred[k] = U.merge_type(inferred[k], U.py_type(v))
            yield (order, fits, inferred)

        order, fits, inferred = [], {}, {}
        for o, fi, inf in outputs.mapPartitions(summarize).collect():
            for k in o:
                if k not in fits:
                    order.append(k)
                    fits[k] = True
                    inferred[k] = None
                fits[k] = fits[k] and fi[k]
                inferred[k] = U.merge_type(inferred[k], inf[k])
        fields = []
        for k in order:
            if k in orig and fits[k]:
                t = orig[k]
            else:
                t = inferred[k] or T.StringType()
            fields.append(T.StructField(k, t, True))
        schema = T.StructType(fields)

        def convert(rec):
            return tuple(U.coerce(rec.get(fld.name), fld.dataType) for fld in schema.fields)

        df = self.glue_ctx.spark_session.createDataFrame(outputs.map(convert), schema)
        return self._new(df, choices={}, own_errors=_Counter(tagged))

    # -------------------------------------------------- joins, relationalize
    def join(self, paths1, paths2, frame2, transformation_ctx="", info="", stageThreshold=0, totalThreshold=0):
        left, right = self._df, _df_of(frame2)
        if isinstance(paths1, str):
            paths1 = [paths1]
        if isinstance(paths2, str):
            paths2 = [paths2]
        la, ra = left.alias("__weir_l"), right.alias("__weir_r")
        cond = None
        for p1, p2 in zip(paths1, paths2):
            c = F.col("__weir_l." + ".".join(U.quote(x) for x in U.parse_path(p1))) == \
                F.col("__weir_r." + ".".join(U.quote(x) for x in U.parse_path(p2)))
            cond = c if cond is None else cond & c
        same = {U.parse_path(p1)[0] for p1, p2 in zip(paths1, paths2) if p1 == p2}
        cols = [F.col("__weir_l." + U.quote(c)).alias(c) for c in left.columns]
        cols += [F.col("__weir_r." + U.quote(c)).alias(c) for c in right.columns if c not in same]
        df = la.join(ra, cond, "inner").select(*cols)
        choices = dict(getattr(frame2, "_choices", {}) or {})
        choices.update(self._choices)
        return self._new(df, choices=choices)

    def relationalize(self, root_table_name, staging_path=None, options=None, transformation_ctx="", info="",
                      stageThreshold=0, totalThreshold=0):
        spark = self.glue_ctx.spark_session
        tables = {}
        counter = [0]

        def stage(df):
            counter[0] += 1
            if staging_path:
                from awsglue import _weir
                base = staging_path.rstrip("/") + "/weir-relationalize-%s-%d" % (root_table_name, counter[0])
                p = _weir.spark_path(base, spark.sparkContext, write=True)
                df.write.mode("overwrite").parquet(p)
                return spark.read.parquet(p)
            return df.localCheckpoint()

        def process(df, name):
            flat = df.select(*U.flatten_columns(df.schema))
            arrays = [f.name for f in flat.schema.fields if isinstance(f.dataType, T.ArrayType)]
            if not arrays:
                tables[name] = flat
                return
            # number the rows 1..n so every array gets a stable id
            schema = flat.schema
            with_idx = flat.rdd.zipWithIndex().map(lambda t: tuple(t[0]) + (t[1] + 1,))
            idx_schema = T.StructType(schema.fields + [T.StructField("__weir_rowid", T.LongType(), False)])
            numbered = stage(spark.createDataFrame(with_idx, idx_schema))
            parent_cols = []
            for f in schema.fields:
                if f.name in arrays:
                    parent_cols.append(F.when(F.col(U.quote(f.name)).isNull(), F.lit(None).cast("long"))
                                       .otherwise(F.col("__weir_rowid")).alias(f.name))
                else:
                    parent_cols.append(F.col(U.quote(f.name)))
            tables[name] = numbered.select(*parent_cols)
            for a in arrays:
                child = numbered.select(
                    F.col("__weir_rowid").alias("id"),
                    F.posexplode(F.col(U.quote(a))).alias("index", a + ".val"))
                process(child, name + "_" + a)

        process(self._df, root_table_name)
        frames = {k: DynamicFrame(v, self.glue_ctx, k) for k, v in tables.items()}
        return DynamicFrameCollection(frames, self.glue_ctx)

    def split_fields(self, paths, name1, name2, transformation_ctx="", info="", stageThreshold=0, totalThreshold=0):
        first = self.select_fields(paths)
        second = self.drop_fields(paths)
        first.name, second.name = name1, name2
        return DynamicFrameCollection({name1: first, name2: second}, self.glue_ctx)

    def drop_null_fields(self, transformation_ctx="", info="", stageThreshold=0, totalThreshold=0):
        df = self._df
        if not df.columns:
            return self._new(df)
        counts = df.select(*[F.count(F.col(U.quote(c))).alias("c%d" % i) for i, c in enumerate(df.columns)]).first()
        keep = [c for i, c in enumerate(df.columns)
                if counts[i] > 0 and not isinstance(df.schema[c].dataType, T.NullType)]
        df = df.select(*[F.col(U.quote(c)) for c in keep])
        return self._new(df, choices=self._keep_choices(df))

    def unbox(self, path, format, transformation_ctx="", info="", stageThreshold=0, totalThreshold=0, **options):
        parts = U.parse_path(path)
        spark = self.glue_ctx.spark_session
        src = U.col_of(parts)
        if format == "json":
            sample = self._df.select(src.alias("v")).where(F.col("v").isNotNull())
            schema = spark.read.json(sample.rdd.map(lambda r: r[0])).schema
            parsed = F.from_json(src, schema)
        elif format == "csv":
            sep = options.get("separator", options.get("delimiter", ","))
            width = self._df.select(F.max(F.size(F.split(src, _regex_quote(sep), -1)))).first()[0] or 0
            arr = F.split(src, _regex_quote(sep), -1)
            parsed = F.when(src.isNull(), F.lit(None)).otherwise(
                F.struct(*[arr.getItem(i).alias("col%d" % i) for i in range(width)]))
        else:
            raise NotImplementedError("Unbox format %r" % format)
        df = U.rebuild(self._df, parts, lambda f, c: [(f.name, parsed)])
        return self._new(df)

    def write(self, connection_type, connection_options={}, format=None, format_options={}, accumulator_size=0):
        return self.glue_ctx.write_dynamic_frame_from_options(
            self, connection_type, connection_options, format, format_options)

    def spigot(self, path, options={}, transformation_ctx="", info="", stageThreshold=0, totalThreshold=0):
        """Writes a sample (``topk`` records, default 100, or a ``prob``
        fraction) as JSON under ``path`` and returns this frame."""
        from awsglue import _weir

        options = options or {}
        df = self._df
        if "prob" in options:
            df = df.sample(fraction=float(options["prob"]))
        else:
            df = df.limit(int(options.get("topk", 100)))
        target = _weir.spark_path(path, self.glue_ctx.spark_session.sparkContext, write=True)
        df.coalesce(1).write.mode("overwrite").json(target)
        return self

    def split_rows(self, comparison_dict, name1, name2, transformation_ctx="", info="", stageThreshold=0,
                   totalThreshold=0):
        from awsglue.transforms import SplitRows

        return SplitRows.apply(frame=self, comparison_dict=comparison_dict, name1=name1, name2=name2)

    def mergeDynamicFrame(self, stage_dynamic_frame, primary_keys, transformation_ctx="", options={}, info="",
                          stageThreshold=0, totalThreshold=0):
        """Records of the staging frame replace this frame's records with the
        same primary keys; the other records of both frames are kept."""
        stage = _df_of(stage_dynamic_frame)
        keys = [primary_keys] if isinstance(primary_keys, str) else list(primary_keys)
        kept = self._df.join(stage.select(*[F.col(U.quote(k)) for k in keys]).distinct(), on=keys, how="left_anti")
        merged = kept.unionByName(stage, allowMissingColumns=True)
        return self._new(merged, choices={})

    def __repr__(self):
        return "DynamicFrame(%s)" % self.name


class _Counter(object):
    """Lazily counts error records of a tagged RDD."""

    def __init__(self, tagged):
        self._tagged = tagged
        self._value = None

    def __call__(self):
        if self._value is None:
            self._value = self._tagged.filter(lambda t: t[0] == 2).count()
        return self._value


def _regex_quote(s):
    import re

    return re.escape(s)


def _field_ci(schema, parts):
    dtype, out, field = schema, [], None
    for p in parts:
        if not isinstance(dtype, T.StructType):
            return None, parts
        m = [f for f in dtype.fields if f.name.lower() == p.lower()]
        if not m:
            return None, parts
        field = m[0]
        out.append(field.name)
        dtype = field.dataType
    return field, out


def _member_matches(member, glue_type):
    want = glue_type.lower()
    groups = {"long": {"int", "long"}, "bigint": {"int", "long"}, "int": {"int"}, "integer": {"int"},
              "double": {"double"}, "float": {"double"}, "string": {"string"}, "boolean": {"boolean"},
              "struct": {"struct"}, "array": {"array"}}
    return member in groups.get(want, {want})


def _choice_cast(c, members, glue_type):
    t = U.spark_type_name(glue_type)
    if U.is_complex_name(glue_type):
        return c
    return F.coalesce(*[c.getField(m).cast(t) for m in members])


def _resolve_choice_col(df, name, members, action):
    c = F.col(U.quote(name))
    if action.startswith("cast:"):
        t = action[5:]
        return U.rebuild(df, [name], lambda f, _c: [(name, _choice_cast(c, members, t))])
    if action.startswith("project:"):
        t = action[8:]
        picked = [m for m in members if _member_matches(m, t)]
        value = F.coalesce(*[c.getField(m).cast(U.spark_type_name(t)) for m in picked]) if picked \
            else F.lit(None).cast(U.spark_type_name(t))
        return U.rebuild(df, [name], lambda f, _c: [(name, value)])
    if action == "make_cols":
        return U.rebuild(df, [name], lambda f, _c: [("%s_%s" % (name, m), c.getField(m)) for m in members])
    if action == "make_struct":
        return df
    raise ValueError("unknown resolveChoice action %r" % action)


def _resolve_plain(df, parts, field, action):
    if action.startswith("cast:") or action.startswith("project:"):
        t = U.spark_type_name(action.split(":", 1)[1])
        return U.rebuild(df, parts, lambda f, c: [(f.name, c.cast(t))])
    if action == "make_cols":
        return df
    if action == "make_struct":
        tname = U.glue_type_name(field.dataType)
        return U.rebuild(df, parts, lambda f, c: [(f.name, F.when(c.isNull(), F.lit(None))
                                                   .otherwise(F.struct(c.alias(tname))))])
    raise ValueError("unknown resolveChoice action %r" % action)


class DynamicFrameCollection(object):
    def __init__(self, dynamic_frames, glue_ctx):
        self._frames = dict(dynamic_frames)
        self._glue_ctx = glue_ctx

    def __getitem__(self, key):
        return self._frames[key]

    def __len__(self):
        return len(self._frames)

    def __iter__(self):
        return iter(self._frames)

    def __contains__(self, key):
        return key in self._frames

    def keys(self):
        return self._frames.keys()

    def values(self):
        return self._frames.values()

    def items(self):
        return self._frames.items()

    def select(self, key, transformation_ctx=""):
        return self._frames[key]

    def map(self, callable, transformation_ctx=""):
        out = {}
        for k, v in self._frames.items():
            r = _call_with_ctx(callable, v, transformation_ctx)
            out[k] = r
        return DynamicFrameCollection(out, self._glue_ctx)

    def flatmap(self, f, transformation_ctx=""):
        out = {}
        for k, v in self._frames.items():
            r = _call_with_ctx(f, v, transformation_ctx)
            if isinstance(r, DynamicFrameCollection):
                for k2, v2 in r.items():
                    out[k2] = v2
            else:
                out[k] = r
        return DynamicFrameCollection(out, self._glue_ctx)

    def __repr__(self):
        return "DynamicFrameCollection(%s)" % sorted(self._frames)


def _call_with_ctx(f, frame, ctx):
    try:
        return f(frame, ctx)
    except TypeError:
        return f(frame)


class DynamicFrameReader(object):
    """``glueContext.create_dynamic_frame``."""

    def __init__(self, glue_context):
        self._glue_context = glue_context

    def from_catalog(self, database=None, table_name=None, redshift_tmp_dir="", transformation_ctx="",
                     push_down_predicate="", additional_options={}, catalog_id=None, **kwargs):
        if database is None and "name_space" in kwargs:
            database = kwargs.pop("name_space")
        return self._glue_context.create_dynamic_frame_from_catalog(
            database, table_name, redshift_tmp_dir, transformation_ctx, push_down_predicate,
            additional_options, catalog_id, **kwargs)

    def from_options(self, connection_type, connection_options={}, format=None, format_options={},
                     transformation_ctx="", push_down_predicate="", **kwargs):
        return self._glue_context.create_dynamic_frame_from_options(
            connection_type, connection_options, format, format_options, transformation_ctx,
            push_down_predicate, **kwargs)

    def from_rdd(self, data, name, schema=None, sampleRatio=None):
        return self._glue_context.create_dynamic_frame_from_rdd(data, name, schema, sampleRatio)


class DynamicFrameWriter(object):
    """``glueContext.write_dynamic_frame``."""

    def __init__(self, glue_context):
        self._glue_context = glue_context

    def from_options(self, frame, connection_type, connection_options={}, format=None, format_options={},
                     transformation_ctx=""):
        return self._glue_context.write_dynamic_frame_from_options(
            frame, connection_type, connection_options, format, format_options, transformation_ctx)

    def from_catalog(self, frame, database=None, table_name=None, redshift_tmp_dir="", transformation_ctx="",
                     additional_options={}, catalog_id=None, **kwargs):
        if database is None and "name_space" in kwargs:
            database = kwargs.pop("name_space")
        return self._glue_context.write_dynamic_frame_from_catalog(
            frame, database, table_name, redshift_tmp_dir, transformation_ctx, additional_options, catalog_id)

    def from_jdbc_conf(self, *args, **kwargs):
        raise NotImplementedError("JDBC connections are not supported by Weir")
