"""Helpers shared by the DynamicFrame, transforms and context modules:
field paths, Glue type names, struct rebuilding and Python-side schema
inference for ``map``."""

import datetime
import decimal
import json

from pyspark.sql import functions as F
from pyspark.sql import types as T


# ---------------------------------------------------------------- paths

def parse_path(path):
    """``a.b`` -> ``["a", "b"]``; backticks quote names holding dots:
    ``a.`b.c``` -> ``["a", "b.c"]``."""
    if isinstance(path, (list, tuple)):
        return list(path)
    parts, cur, quoted, i = [], [], False, 0
    while i < len(path):
        ch = path[i]
        if ch == "`":
            if quoted and i + 1 < len(path) and path[i + 1] == "`":
                cur.append("`")
                i += 2
                continue
            quoted = not quoted
        elif ch == "." and not quoted:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
        i += 1
    parts.append("".join(cur))
    return parts


def quote(name):
    return "`" + name.replace("`", "``") + "`"


def col_of(parts):
    """A Column for a path of field names (names may hold dots)."""
    c = F.col(quote(parts[0]))
    for p in parts[1:]:
        c = c.getField(p)
    return c


def field_at(schema, parts):
    """The StructField at a path, or None."""
    dtype = schema
    field = None
    for p in parts:
        if not isinstance(dtype, T.StructType):
            return None
        matches = [f for f in dtype.fields if f.name == p]
        if not matches:
            return None
        field = matches[0]
        dtype = field.dataType
    return field


# ---------------------------------------------------------------- types

_GLUE_TO_SPARK = {
    "long": "bigint", "bigint": "bigint", "int": "int", "integer": "int",
    "short": "smallint", "smallint": "smallint", "byte": "tinyint", "tinyint": "tinyint",
    "double": "double", "float": "float", "string": "string", "varchar": "string",
    "char": "string", "boolean": "boolean", "bool": "boolean", "timestamp": "timestamp",
    "date": "date", "binary": "binary", "decimal": "decimal(10,0)",
}


def spark_type_name(glue_type):
    """A Spark SQL type string for a Glue/Hive type name (``long`` -> ``bigint``)."""
    t = glue_type.strip()
    low = t.lower()
    if low in _GLUE_TO_SPARK:
        return _GLUE_TO_SPARK[low]
    if low.startswith(("varchar(", "char(")):
        return "string"
    return t


def is_complex_name(glue_type):
    low = glue_type.strip().lower()
    return low in ("struct", "array", "map", "choice", "object", "null")


def hive_type(dtype):
    """The Hive/Glue catalog type name of a Spark type."""
    if isinstance(dtype, T.StructType):
        return "struct<%s>" % ",".join("%s:%s" % (f.name, hive_type(f.dataType)) for f in dtype.fields)
    if isinstance(dtype, T.ArrayType):
        return "array<%s>" % hive_type(dtype.elementType)
    if isinstance(dtype, T.MapType):
        return "map<%s,%s>" % (hive_type(dtype.keyType), hive_type(dtype.valueType))
    if isinstance(dtype, T.NullType):
        return "string"
    name = dtype.simpleString()
    if name.startswith("timestamp"):
        return "timestamp"
    if name in ("void",):
        return "string"
    return name


def glue_type_name(dtype):
    """Glue's name for a Spark type as DynamicFrame schemas print it."""
    mapping = {"bigint": "long", "smallint": "short", "tinyint": "byte"}
    if isinstance(dtype, T.StructType):
        return "struct"
    if isinstance(dtype, T.ArrayType):
        return "array"
    if isinstance(dtype, T.MapType):
        return "map"
    s = dtype.simpleString()
    return mapping.get(s, s)


# ------------------------------------------------------- struct rebuild

def rebuild(df, parts, leaf_fn):
    """Return ``df`` with the field at ``parts`` replaced by what
    ``leaf_fn(field, column)`` returns: a list of ``(name, Column)`` (empty to
    drop it).  Structs on the way are rebuilt in place (order kept, null
    structs stay null)."""
    cols = _rebuild_fields(df.schema, None, parts, leaf_fn)
    return df.select(*[c.alias(n) for n, c in cols])


def _rebuild_fields(struct_type, base, parts, leaf_fn):
    out = []
    found = False
    for f in struct_type.fields:
        c = F.col(quote(f.name)) if base is None else base.getField(f.name)
        if f.name == parts[0]:
            found = True
            if len(parts) == 1:
                out.extend(leaf_fn(f, c))
            elif isinstance(f.dataType, T.StructType):
                inner = _rebuild_fields(f.dataType, c, parts[1:], leaf_fn)
                s = F.struct(*[ic.alias(n) for n, ic in inner])
                out.append((f.name, F.when(c.isNull(), F.lit(None)).otherwise(s)))
            else:
                out.append((f.name, c))
        else:
            out.append((f.name, c))
    if not found:
        raise KeyError(".".join(parts))
    return out


def nest(columns):
    """``[(dotted-parts, Column)]`` -> list of top-level Columns, nesting
    dotted destinations into structs (first appearance order)."""
    tree = {}
    order = []

    def put(node, order_list, parts, c):
        head = parts[0]
        if len(parts) == 1:
            if head not in node:
                order_list.append(head)
            node[head] = c
            return
        if head not in node or not isinstance(node[head], tuple):
            if head not in node:
                order_list.append(head)
            node[head] = ({}, [])
        put(node[head][0], node[head][1], parts[1:], c)

    for parts, c in columns:
        put(tree, order, parts, c)

    def build(node, order_list):
        out = []
        for name in order_list:
            v = node[name]
            if isinstance(v, tuple):
                out.append(F.struct(*build(*v)).alias(name))
            else:
                out.append(v.alias(name))
        return out

    return build(tree, order)


def flatten_columns(schema, prefix="", base=None, sep="."):
    """Top-level Columns flattening nested structs with dotted names."""
    out = []
    for f in schema.fields:
        c = F.col(quote(f.name)) if base is None else base.getField(f.name)
        name = prefix + f.name
        if isinstance(f.dataType, T.StructType) and f.dataType.fields:
            out.extend(flatten_columns(f.dataType, name + sep, c, sep))
        else:
            out.append(c.alias(name))
    return out


# ------------------------------------------- python-side schema inference

def py_type(v):
    """A Spark type for a Python value (None for None)."""
    if v is None:
        return None
    if isinstance(v, bool):
        return T.BooleanType()
    if isinstance(v, int):
        return T.LongType()
    if isinstance(v, float):
        return T.DoubleType()
    if isinstance(v, str):
        return T.StringType()
    if isinstance(v, datetime.datetime):
        return T.TimestampType()
    if isinstance(v, datetime.date):
        return T.DateType()
    if isinstance(v, decimal.Decimal):
        return T.DecimalType(38, 18)
    if isinstance(v, (bytes, bytearray)):
        return T.BinaryType()
    if hasattr(v, "asDict"):
        v = v.asDict(recursive=True)
    if isinstance(v, dict):
        fields = []
        for k, x in v.items():
            t = py_type(x)
            fields.append(T.StructField(str(k), t or T.NullType(), True))
        return T.StructType(fields)
    if isinstance(v, (list, tuple)):
        et = None
        for x in v:
            et = merge_type(et, py_type(x))
        return T.ArrayType(et or T.NullType(), True)
    return T.StringType()


def merge_type(a, b):
    if a is None or isinstance(a, T.NullType):
        return b
    if b is None or isinstance(b, T.NullType):
        return a
    if a == b:
        return a
    if isinstance(a, T.StructType) and isinstance(b, T.StructType):
        fields = {f.name: f.dataType for f in a.fields}
        order = [f.name for f in a.fields]
        for f in b.fields:
            if f.name in fields:
                fields[f.name] = merge_type(fields[f.name], f.dataType)
            else:
                fields[f.name] = f.dataType
                order.append(f.name)
        return T.StructType([T.StructField(n, fields[n] or T.NullType(), True) for n in order])
    if isinstance(a, T.ArrayType) and isinstance(b, T.ArrayType):
        return T.ArrayType(merge_type(a.elementType, b.elementType) or T.NullType(), True)
    numeric = (T.LongType, T.IntegerType, T.ShortType, T.ByteType, T.DoubleType, T.FloatType)
    if isinstance(a, numeric) and isinstance(b, numeric):
        if isinstance(a, (T.DoubleType, T.FloatType)) or isinstance(b, (T.DoubleType, T.FloatType)):
            return T.DoubleType()
        return T.LongType()
    return T.StringType()


_INT_RANGES = {T.ByteType: 7, T.ShortType: 15, T.IntegerType: 31, T.LongType: 63}


def fits(v, t):
    """Whether a Python value can be stored as Spark type ``t`` unchanged."""
    if v is None:
        return True
    for cls, bits in _INT_RANGES.items():
        if isinstance(t, cls):
            return isinstance(v, int) and not isinstance(v, bool) and -(1 << bits) <= v < (1 << bits)
    if isinstance(t, (T.DoubleType, T.FloatType)):
        return isinstance(v, (int, float)) and not isinstance(v, bool)
    if isinstance(t, T.StringType):
        return isinstance(v, str)
    if isinstance(t, T.BooleanType):
        return isinstance(v, bool)
    if isinstance(t, T.TimestampType):
        return isinstance(v, datetime.datetime)
    if isinstance(t, T.DateType):
        return isinstance(v, datetime.date) and not isinstance(v, datetime.datetime)
    if isinstance(t, T.DecimalType):
        return isinstance(v, (decimal.Decimal, int)) and not isinstance(v, bool)
    if isinstance(t, T.BinaryType):
        return isinstance(v, (bytes, bytearray))
    if isinstance(t, T.StructType):
        if not isinstance(v, dict):
            return False
        names = {f.name: f.dataType for f in t.fields}
        return all(k in names and fits(x, names[k]) for k, x in v.items())
    if isinstance(t, T.ArrayType):
        return isinstance(v, (list, tuple)) and all(fits(x, t.elementType) for x in v)
    if isinstance(t, T.MapType):
        return isinstance(v, dict)
    return False


def coerce(v, t):
    """Convert a Python value to what Spark expects for type ``t``."""
    if v is None:
        return None
    if hasattr(v, "asDict") and not isinstance(v, dict):
        v = v.asDict(recursive=True)
    if isinstance(t, T.StringType):
        if isinstance(v, str):
            return v
        if isinstance(v, (dict, list, tuple)):
            return json.dumps(v, default=str)
        if isinstance(v, bool):
            return "true" if v else "false"
        return str(v)
    if isinstance(t, (T.DoubleType, T.FloatType)):
        return float(v)
    if isinstance(t, T.StructType):
        return {f.name: coerce(v.get(f.name), f.dataType) for f in t.fields}
    if isinstance(t, T.ArrayType):
        return [coerce(x, t.elementType) for x in v]
    if isinstance(t, T.MapType):
        return {k: coerce(x, t.valueType) for k, x in v.items()}
    if isinstance(t, T.NullType):
        return None
    return v


def to_python(v):
    """Row/nested Row -> plain dicts (recursively)."""
    if hasattr(v, "asDict") and not isinstance(v, dict):
        return {k: to_python(x) for k, x in v.asDict().items()}
    if isinstance(v, dict):
        return {k: to_python(x) for k, x in v.items()}
    if isinstance(v, list):
        return [to_python(x) for x in v]
    return v
