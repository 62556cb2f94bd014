"""``getResolvedOptions`` as in AWS Glue's ``awsglue.utils``.

Glue passes job arguments as ``--NAME value`` pairs on the command line; this
parses the requested names (and the workflow/job names Glue always passes)
and returns them as a dict, raising an error for a missing required one.
"""

import argparse


class GlueArgumentError(Exception):
    """A required job argument was not passed."""


def getResolvedOptions(args, options):
    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    for name in ("JOB_NAME", "JOB_RUN_ID", "WORKFLOW_NAME", "WORKFLOW_RUN_ID", "JOB_ID"):
        if name not in options:
            parser.add_argument("--" + name, required=False)
    for option in options:
        parser.add_argument("--" + option, required=True)
    parsed, _unknown = parser.parse_known_args(args[1:])
    values = vars(parsed)
    missing = [o for o in options if values.get(o) is None]
    if missing:
        raise GlueArgumentError("argument --%s is required" % missing[0])
    return {k: v for k, v in values.items() if k in options or v is not None}
