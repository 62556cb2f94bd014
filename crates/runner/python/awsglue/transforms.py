"""``awsglue.transforms``: the GlueTransform classes scripts use, each callable
as ``Name.apply(frame=..., ...)`` or ``Name()(frame=..., ...)``.  They
delegate to the DynamicFrame methods (see :mod:`awsglue.dynamicframe` for what
Weir does differently from AWS Glue)."""

from awsglue.dynamicframe import DynamicFrame, DynamicFrameCollection

__all__ = [
    "GlueTransform", "ApplyMapping", "SelectFields", "DropFields", "RenameField", "ResolveChoice", "Filter",
    "Map", "FlatMap", "Join", "DropNullFields", "Relationalize", "Unbox", "SplitFields", "SplitRows",
    "SelectFromCollection", "MapToCollection", "UnnestFrame", "ErrorsAsDynamicFrame", "Spigot",
]


class GlueTransform(object):
    @classmethod
    def apply(cls, *args, **kwargs):
        return cls()(*args, **kwargs)

    @classmethod
    def name(cls):
        return cls.__name__

    @classmethod
    def describeArgs(cls):
        return []

    @classmethod
    def describeReturn(cls):
        return {}

    @classmethod
    def describeTransform(cls):
        return ""

    @classmethod
    def describeErrors(cls):
        return []

    @classmethod
    def describe(cls):
        return {"transform": {"name": cls.name(), "args": cls.describeArgs(), "returns": cls.describeReturn()}}


class ApplyMapping(GlueTransform):
    def __call__(self, frame, mappings, case_sensitive=False, transformation_ctx="", info="", stageThreshold=0,
                 totalThreshold=0):
        return frame.apply_mapping(mappings, case_sensitive, transformation_ctx)


class SelectFields(GlueTransform):
    def __call__(self, frame, paths, transformation_ctx="", info="", stageThreshold=0, totalThreshold=0):
        return frame.select_fields(paths, transformation_ctx)


class DropFields(GlueTransform):
    def __call__(self, frame, paths, transformation_ctx="", info="", stageThreshold=0, totalThreshold=0):
        return frame.drop_fields(paths, transformation_ctx)


class RenameField(GlueTransform):
    def __call__(self, frame, old_name, new_name, transformation_ctx="", info="", stageThreshold=0,
                 totalThreshold=0):
        return frame.rename_field(old_name, new_name, transformation_ctx)


class ResolveChoice(GlueTransform):
    def __call__(self, frame, specs=None, choice="", database=None, table_name=None, transformation_ctx="",
                 info="", stageThreshold=0, totalThreshold=0, catalog_id=None):
        return frame.resolveChoice(specs, choice, database, table_name, transformation_ctx,
                                   catalog_id=catalog_id)


class Filter(GlueTransform):
    def __call__(self, frame, f, transformation_ctx="", info="", stageThreshold=0, totalThreshold=0):
        return frame.filter(f, transformation_ctx)


class Map(GlueTransform):
    def __call__(self, frame, f, preservesPartitioning=False, transformation_ctx="", info="", stageThreshold=0,
                 totalThreshold=0):
        return frame.map(f, preservesPartitioning, transformation_ctx)


class FlatMap(GlueTransform):
    def __call__(self, dfc, BaseTransform, frame_name="", transformation_ctx="", **base_kwargs):
        def run(frame, ctx=""):
            return BaseTransform.apply(frame=frame, **base_kwargs)
        return dfc.flatmap(run, transformation_ctx)


class Join(GlueTransform):
    def __call__(self, frame1, frame2, keys1, keys2, transformation_ctx="", info="", stageThreshold=0,
                 totalThreshold=0):
        return frame1.join(keys1, keys2, frame2, transformation_ctx)


class DropNullFields(GlueTransform):
    def __call__(self, frame, transformation_ctx="", info="", stageThreshold=0, totalThreshold=0):
        return frame.drop_null_fields(transformation_ctx)


class Relationalize(GlueTransform):
    def __call__(self, frame, staging_path=None, name="roottable", options=None, transformation_ctx="", info="",
                 stageThreshold=0, totalThreshold=0):
        return frame.relationalize(name, staging_path, options, transformation_ctx)


class Unbox(GlueTransform):
    def __call__(self, frame, path, format, transformation_ctx="", info="", stageThreshold=0, totalThreshold=0,
                 **options):
        return frame.unbox(path, format, transformation_ctx, **options)


class UnnestFrame(GlueTransform):
    def __call__(self, frame, transformation_ctx="", info="", stageThreshold=0, totalThreshold=0):
        return frame.unnest(transformation_ctx)


class SplitFields(GlueTransform):
    def __call__(self, frame, paths, name1=None, name2=None, transformation_ctx="", info="", stageThreshold=0,
                 totalThreshold=0):
        name1 = name1 or (frame.name + "1")
        name2 = name2 or (frame.name + "2")
        return frame.split_fields(paths, name1, name2, transformation_ctx)


_OPS = {"<": "__lt__", ">": "__gt__", "<=": "__le__", ">=": "__ge__", "=": "__eq__", "==": "__eq__",
        "!=": "__ne__"}


class SplitRows(GlueTransform):
    """``comparison_dict`` like ``{"age": {">": 10, "<": 20}}``: rows meeting
    every comparison go to ``name1``, the others to ``name2``."""

    def __call__(self, frame, comparison_dict, name1="frame1", name2="frame2", transformation_ctx="", info="",
                 stageThreshold=0, totalThreshold=0):
        from pyspark.sql import functions as F
        from awsglue import _util as U

        cond = None
        for path, comps in comparison_dict.items():
            c = U.col_of(U.parse_path(path))
            for op, value in comps.items():
                e = getattr(c, _OPS[op])(F.lit(value))
                cond = e if cond is None else cond & e
        df = frame.toDF()
        if cond is None:
            cond = F.lit(True)
        first = frame._new(df.where(cond), name=name1)
        second = frame._new(df.where(~cond | cond.isNull()), name=name2)
        return DynamicFrameCollection({name1: first, name2: second}, frame.glue_ctx)


class SelectFromCollection(GlueTransform):
    def __call__(self, dfc, key, transformation_ctx=""):
        return dfc.select(key)


class MapToCollection(GlueTransform):
    def __call__(self, dfc, callable, transformation_ctx=""):
        return dfc.map(callable, transformation_ctx)


class ErrorsAsDynamicFrame(GlueTransform):
    def __call__(self, frame):
        return frame.errorsAsDynamicFrame()


class Spigot(GlueTransform):
    def __call__(self, frame, path, options={}, transformation_ctx=""):
        return frame.spigot(path, options, transformation_ctx)
