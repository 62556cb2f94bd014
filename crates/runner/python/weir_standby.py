"""A standby Spark driver: Weir keeps one started ahead of time per runtime (when
`--spark-standby` is on), so a glueetl run does not wait for Python, the JVM and the
SparkContext to start.

It starts Spark with the options in PYSPARK_SUBMIT_ARGS, runs a small warm-up query,
writes the file ``ready`` into its working directory, and waits for one line on stdin:
the job, as JSON (``script``, ``argv``, ``env``, ``mounts``, ``py_files``). Weir renames
the working directory to the run's directory and records the process before it sends
that line. The script then runs in this process as ``__main__``, with the job's
arguments and environment; ``SparkContext()`` and ``SparkSession.builder`` return the
started context. When the script ends, so does the process: one standby runs one job.

End of file on stdin instead of a job (Weir stopped before sending it) means the job was
never handed over: the process writes ``abandoned.<supervisor pid>`` and exits, and the
supervisor records no exit status.
"""

import json
import os
import runpy
import sys
import traceback


def _started_context():
    from pyspark.context import SparkContext
    from pyspark.sql import SparkSession

    sc = SparkContext.getOrCreate()
    spark = SparkSession(sc)
    # Loads and compiles the classes of a first query (the CSV reader included).
    warm = os.path.join(os.getcwd(), "warm-up.csv")
    with open(warm, "w") as out:
        out.write("a,b\n1,x\n")
    spark.read.option("header", "true").csv("file://" + warm).count()
    os.remove(warm)
    return sc


def _reuse_started_context(sc):
    """Makes ``SparkContext(...)`` answer the started context, as getOrCreate does."""
    from pyspark.context import SparkContext

    original_init = SparkContext.__init__

    def __new__(cls, *args, **kwargs):
        active = SparkContext._active_spark_context
        return active if active is not None else object.__new__(cls)

    def __init__(self, *args, **kwargs):
        if getattr(self, "_jsc", None) is not None:
            return
        original_init(self, *args, **kwargs)

    SparkContext.__new__ = staticmethod(__new__)
    SparkContext.__init__ = __init__


def main():
    sc = _started_context()
    with open("ready", "w") as ready:
        ready.write(str(os.getpid()))
    line = sys.stdin.readline()
    if not line.strip():
        open("abandoned.%d" % os.getppid(), "w").close()
        return 0
    job = json.loads(line)
    os.environ.update(job["env"])
    for path in reversed(job.get("py_files", [])):
        sys.path.insert(0, path)
    hadoop = sc._jsc.hadoopConfiguration()
    for key, value in job.get("mounts", {}).items():
        hadoop.set(key, value)
    _reuse_started_context(sc)
    sys.argv = [job["script"], *job["argv"]]
    sys.path.insert(0, os.path.dirname(os.path.abspath(job["script"])))
    status = 0
    try:
        runpy.run_path(job["script"], run_name="__main__")
    except SystemExit as exit_:
        code = exit_.code
        status = code if isinstance(code, int) else (0 if code is None else 1)
        if isinstance(code, str):
            print(code, file=sys.stderr)
    except BaseException:
        traceback.print_exc()
        status = 1
    sys.stdout.flush()
    sys.stderr.flush()
    return status


if __name__ == "__main__":
    sys.exit(main())
