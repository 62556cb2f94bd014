"""Weir's blueprint-run driver: ``python -m awsglue.blueprint._driver <request.json>``.

Run by the server with the extracted blueprint archive as working directory (and so
first on ``sys.path``). The request names the layout generator
(``package.module.function``), the user and system parameters, the name suffix and the
output file, and a time limit after which the driver ends itself (the server kills
it earlier; this covers a server that stopped meanwhile). The generator is called as ``generate_layout(user_params,
system_params)``; the ``Workflow`` it returns is written as
``Workflow.to_json(name_suffix)`` JSON to the output file. Any exception ends the
process with its traceback on stderr, which the server reports.
"""

import importlib
import json
import os
import signal
import sys

from awsglue.blueprint.workflow import Workflow


def main(request_path):
    with open(request_path) as request_file:
        request = json.load(request_file)
    # The server kills the process group at its time limit; this alarm (default action:
    # terminate) ends the generator even if the server itself is gone by then.
    if request.get("time_limit_seconds"):
        signal.alarm(int(request["time_limit_seconds"]))
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    module_name, _, function_name = request["generator"].rpartition(".")
    module = importlib.import_module(module_name)
    generate = getattr(module, function_name, None)
    if not callable(generate):
        raise AttributeError(
            "layoutGenerator {}: module {} has no function {}".format(
                request["generator"], module_name, function_name
            )
        )
    workflow = generate(request["user_params"], request["system_params"])
    if not isinstance(workflow, Workflow):
        raise TypeError(
            "layoutGenerator {} returned {} instead of an awsglue.blueprint.workflow.Workflow".format(
                request["generator"], type(workflow).__name__
            )
        )
    layout = workflow.to_json(request["name_suffix"])
    text = json.dumps(layout)
    with open(request["output"], "w") as output:
        output.write(text)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m awsglue.blueprint._driver <request.json>")
    main(sys.argv[1])
