"""``Workflow`` and ``Entities``: what a layout generator returns.

``Workflow(Name=..., Entities=Entities(Jobs=[...], Crawlers=[...]), Description=...,
DefaultRunProperties=..., Tags=..., OnSchedule=...)``. ``to_json(name_suffix)`` gives::

    {"Workflow": {"Name", "Description", "DefaultRunProperties", "Tags"},  # may be null
     "Crawlers": [...], "Jobs": [...],   # entity names become "<Name>_<suffix>"
     "Triggers": [...]}

Triggers, as the public library generates them: for each crawler, then each job, that
has ``DependsOn``, a CONDITIONAL trigger ``<workflow>_<entity name>_trigger`` (started
on creation) whose conditions are the dependencies (``Logical`` from
``WaitForDependencies`` when given) and whose action is the entity; then the starting
trigger ``<workflow>_starting_trigger`` starting every entity without ``DependsOn``:
SCHEDULED with ``OnSchedule`` as its cron expression (started on creation), or
ON_DEMAND without one. As in the newest public library, ``OnSchedule="ON_DEMAND"``
means ON_DEMAND and ``OnSchedule="EVENT"`` an EVENT trigger with batch size 1.
"""

from .base_resource import BaseResource
from .crawler import Crawler
from .job import Job


def _suffixed(name, suffix):
    return "{}_{}".format(name, suffix)


def _condition(dependency, state, suffix):
    if isinstance(dependency, Crawler):
        return {
            "LogicalOperator": "EQUALS",
            "CrawlerName": _suffixed(dependency.Name, suffix),
            "CrawlState": state,
        }
    if isinstance(dependency, Job):
        return {
            "LogicalOperator": "EQUALS",
            "JobName": _suffixed(dependency.Name, suffix),
            "State": state,
        }
    raise TypeError(
        "Dependencies must be of type Job or Crawler, but found {} instead".format(type(dependency))
    )


def _starting_trigger(workflow_name, schedule):
    trigger = {
        "WorkflowName": workflow_name,
        "Name": "{}_starting_trigger".format(workflow_name),
        "Actions": [],
    }
    if schedule == "EVENT":
        trigger["Type"] = "EVENT"
        trigger["EventBatchingCondition"] = {"BatchSize": 1}
    elif not schedule or schedule == "ON_DEMAND":
        trigger["Type"] = "ON_DEMAND"
    else:
        trigger["Type"] = "SCHEDULED"
        trigger["Schedule"] = schedule
        trigger["StartOnCreation"] = True
    return trigger


class Entities(object):
    def __init__(self, **kwargs):
        self.Crawlers = kwargs.get("Crawlers")
        self.Jobs = kwargs.get("Jobs")

    def validate(self):
        for entity in list(self.Crawlers or []) + list(self.Jobs or []):
            entity.validate()
        return True

    def _extract_triggers(self, crawlers, jobs, workflow_name, schedule, name_suffix):
        starting = _starting_trigger(workflow_name, schedule)
        triggers = []
        for action_key, entities in (("CrawlerName", crawlers), ("JobName", jobs)):
            for entity in entities:
                if "DependsOn" not in entity:
                    starting["Actions"].append({action_key: entity["Name"]})
                    continue
                conditions = [
                    _condition(dependency, state, name_suffix)
                    for dependency, state in entity.pop("DependsOn").items()
                ]
                trigger = {
                    "WorkflowName": workflow_name,
                    "Type": "CONDITIONAL",
                    "Name": "{}_{}_trigger".format(workflow_name, entity["Name"]),
                    "Predicate": {"Conditions": conditions},
                    "StartOnCreation": True,
                    "Actions": [{action_key: entity["Name"]}],
                }
                if "WaitForDependencies" in entity:
                    trigger["Predicate"]["Logical"] = entity.pop("WaitForDependencies")
                triggers.append(trigger)
        triggers.append(starting)
        return triggers

    def to_json(self, workflow_name, schedule, name_suffix):
        crawlers = []
        for crawler in self.Crawlers or []:
            data = crawler.to_json()
            data["Name"] = _suffixed(data["Name"], name_suffix)
            crawlers.append(data)
        jobs = []
        for job in self.Jobs or []:
            data = job.to_json()
            data["Name"] = _suffixed(data["Name"], name_suffix)
            jobs.append(data)
        triggers = self._extract_triggers(crawlers, jobs, workflow_name, schedule, name_suffix)
        return crawlers, jobs, triggers


class Workflow(BaseResource):
    def __init__(self, **kwargs):
        self.__dict__["_validator"] = {
            "Name": (str, True),
            "Description": (str, False),
            "DefaultRunProperties": (dict, False),
            "Tags": (dict, False),
            "OnSchedule": (str, False),
            "Entities": (Entities, True),
        }
        for field in self._validator:
            setattr(self, field, kwargs.get(field))

    def validate(self):
        missing = self._getMissingFields()
        if missing:
            raise TypeError("Required Workflow Fields were missing: {}".format(missing))
        return self.Entities.validate()

    def to_json(self, name_suffix=""):
        self.validate()
        result = {
            "Workflow": {
                key: self.__dict__.get(key)
                for key in ("Name", "Description", "DefaultRunProperties", "Tags")
            }
        }
        crawlers, jobs, triggers = self.Entities.to_json(
            self.Name, self.__dict__.get("OnSchedule") or "", name_suffix
        )
        result["Crawlers"] = crawlers
        result["Jobs"] = jobs
        result["Triggers"] = triggers
        return result
