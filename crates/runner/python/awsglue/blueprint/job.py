"""``Job``: a Glue job of a blueprint layout (keyword arguments are CreateJob members).

Required: ``Name``, ``Role``, ``Command`` (``Name`` one of glueetl, pythonshell,
gluestreaming; ``ScriptLocation``; optional ``PythonVersion``). Dependencies:
``DependsOn={entity: state}`` and ``WaitForDependencies="AND"|"ANY"``.

As in the public library, the description is read from the lower-case keyword
``description`` (``Description=`` is ignored), unknown keywords are dropped, and falsy
values are not stored.
"""

from .base_resource import BaseResource, _check_choice, _require_keys, _set_present

COMMAND_NAMES = ("glueetl", "pythonshell", "gluestreaming")
WORKER_TYPES = ("Standard", "G.1X", "G.2X")


class Job(BaseResource):
    def __init__(self, **kwargs):
        self.__dict__["_validator"] = {
            "Name": (str, True),
            "Description": (str, False),
            "LogUri": (str, False),
            "Role": (str, True),
            "ExecutionProperty": (dict, False),
            "Command": (dict, True),
            "DefaultArguments": (dict, False),
            "NonOverridableArguments": (dict, False),
            "Connections": (dict, False),
            "MaxRetries": (int, False),
            "AllocatedCapacity": (int, False),
            "Timeout": (int, False),
            "MaxCapacity": (float, False),
            "SecurityConfiguration": (str, False),
            "Tags": (dict, False),
            "NotificationProperty": (dict, False),
            "GlueVersion": (str, False),
            "NumberOfWorkers": (int, False),
            "WorkerType": (str, False),
            "DependsOn": (dict, False),
            "WaitForDependencies": (str, False),
        }
        fields = [f for f in self._validator if f != "Description"]
        _set_present(self, kwargs, fields)
        description = kwargs.get("description")
        if description:
            self.Description = description
        self._check_nested()

    def _check_nested(self):
        command = self.__dict__.get("Command")
        if command is not None:
            _require_keys("Job", "Command", command, ["Name", "ScriptLocation"])
            _check_choice("Job", "Command.Name", command["Name"], COMMAND_NAMES)
        execution = self.__dict__.get("ExecutionProperty")
        if execution is not None and "MaxConcurrentRuns" in execution:
            if not isinstance(execution["MaxConcurrentRuns"], int):
                raise TypeError(
                    "Value {} for key ExecutionProperty.MaxConcurrentRuns should be of type {}".format(
                        execution["MaxConcurrentRuns"], int
                    )
                )
        worker_type = self.__dict__.get("WorkerType")
        if worker_type is not None:
            _check_choice("Job", "WorkerType", worker_type, WORKER_TYPES)
