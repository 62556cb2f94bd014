"""``awsglue.gluetypes`` for Weir.

Weir's ``DynamicFrame.schema()`` returns the Spark ``StructType`` of the frame,
so the Glue type names here are Spark's types (``isinstance(schema,
StructType)``, ``for field in schema``, ``field.dataType`` work as scripts
expect).  ``Field`` builds a Spark ``StructField``; ``ChoiceType`` exists for
``isinstance`` tests but no schema holds one (see awsglue.dynamicframe).
"""

from pyspark.sql.types import (  # noqa: F401 - re-exported names
    ArrayType, BinaryType, BooleanType, ByteType, DataType, DateType, DecimalType, DoubleType, FloatType,
    IntegerType, LongType, MapType, NullType, ShortType, StringType, StructField, StructType, TimestampType,
)

UnknownType = NullType


def Field(name, dataType, properties=None):
    return StructField(name, dataType, True, properties or {})


class ChoiceType(DataType):
    """A union of types (never produced by Weir's frames)."""

    def __init__(self, choices=None, properties=None):
        self.choices = list(choices or [])


class EnumType(StringType):
    pass


class ObjectType(StructType):
    pass


__all__ = [
    "ArrayType", "BinaryType", "BooleanType", "ByteType", "ChoiceType", "DataType", "DateType", "DecimalType",
    "DoubleType", "EnumType", "Field", "FloatType", "IntegerType", "LongType", "MapType", "NullType", "ObjectType",
    "ShortType", "StringType", "StructField", "StructType", "TimestampType", "UnknownType",
]
