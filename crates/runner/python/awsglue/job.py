"""``awsglue.job.Job`` with job bookmarks for S3 sources.

Bookmark state (stored opaque by Weir, read from ``$WEIR_BOOKMARK_IN``, written
by ``commit()`` to ``$WEIR_BOOKMARK_OUT``)::

    {"version": 1, "job": "<name>",
     "contexts": {"<transformation_ctx>": {"files": {"s3://b/k": <mtime ms>}}}}

``--job-bookmark-option``: ``job-bookmark-enable`` reads only files not in
the state (or whose mtime changed) and ``commit()`` writes old state plus the
files read; ``job-bookmark-pause`` reads only new files and writes nothing;
``job-bookmark-disable`` (the default) reads everything and writes nothing.
Sources without a ``transformation_ctx`` are never bookmarked.
"""

import json
import os
import sys

ENABLE = "job-bookmark-enable"
PAUSE = "job-bookmark-pause"
DISABLE = "job-bookmark-disable"


class _Bookmarks(object):
    def __init__(self):
        self.option = DISABLE
        self.job_name = None
        self.state = {}
        self.read = {}

    def load(self, job_name, option):
        self.job_name = job_name
        self.option = option if option in (ENABLE, PAUSE, DISABLE) else DISABLE
        self.state = {}
        self.read = {}
        path = os.environ.get("WEIR_BOOKMARK_IN")
        if path and os.path.exists(path):
            try:
                with open(path) as fh:
                    doc = json.load(fh)
                for ctx, val in (doc.get("contexts") or {}).items():
                    self.state[ctx] = dict((val or {}).get("files") or {})
            except (ValueError, OSError) as e:
                sys.stderr.write("weir: ignoring unreadable bookmark state %s: %s\n" % (path, e))

    def active(self, ctx):
        return bool(ctx) and self.option in (ENABLE, PAUSE)

    def filter(self, ctx, files):
        """``files`` is ``[(uri, mtime, size)]``; returns those to read and
        records them as read for ``ctx``."""
        if not self.active(ctx):
            return files
        seen = self.state.get(ctx, {})
        new = [f for f in files if seen.get(f[0]) != f[1]]
        rec = self.read.setdefault(ctx, {})
        for uri, mtime, _size in new:
            rec[uri] = mtime
        return new

    def document(self):
        contexts = {}
        for ctx in sorted(set(self.state) | set(self.read)):
            files = dict(self.state.get(ctx, {}))
            files.update(self.read.get(ctx, {}))
            contexts[ctx] = {"files": files}
        return {"version": 1, "job": self.job_name, "contexts": contexts}

    def commit(self):
        if self.option != ENABLE:
            return
        path = os.environ.get("WEIR_BOOKMARK_OUT")
        doc = self.document()
        if path:
            tmp = path + ".tmp"
            with open(tmp, "w") as fh:
                json.dump(doc, fh, sort_keys=True)
            os.replace(tmp, path)
        # the committed state is the base of anything read later in this run
        self.state = {ctx: v["files"] for ctx, v in doc["contexts"].items()}
        self.read = {}


BOOKMARKS = _Bookmarks()


def _option_from(args):
    if args:
        for key in ("job-bookmark-option", "job_bookmark_option", "--job-bookmark-option"):
            if args.get(key):
                return args[key]
    argv = sys.argv
    for i, a in enumerate(argv):
        if a == "--job-bookmark-option" and i + 1 < len(argv):
            return argv[i + 1]
        if a.startswith("--job-bookmark-option="):
            return a.split("=", 1)[1]
    return DISABLE


class Job(object):
    @classmethod
    def continuation_options(cls):
        return ["--continuation-option", "continuation-enabled", "continuation-readonly", "continuation-ignore"]

    @classmethod
    def job_bookmark_options(cls):
        return ["--job-bookmark-option", ENABLE, PAUSE, DISABLE]

    @classmethod
    def job_bookmark_range_options(cls):
        return ["--job-bookmark-from", "--job-bookmark-to"]

    @classmethod
    def id_params(cls):
        return ["--JOB_NAME", "--JOB_ID", "--JOB_RUN_ID", "--SECURITY_CONFIGURATION"]

    @classmethod
    def encryption_type_options(cls):
        return ["--encryption-type", "sse-s3"]

    def __init__(self, glue_context):
        self._glue_context = glue_context
        self._job_name = None
        self._args = {}

    def init(self, job_name, args={}):
        self._job_name = job_name
        self._args = dict(args or {})
        BOOKMARKS.load(job_name, _option_from(self._args))
        return self

    def isInitialized(self):
        return self._job_name is not None

    def commit(self):
        BOOKMARKS.commit()
