"""``Crawler``: a crawler of a blueprint layout (keyword arguments are CreateCrawler
members).

Required: ``Name``, ``Role``, ``Targets`` (any of ``S3Targets``, ``JDBCTargets`` — the
library's spelling; the service maps it to the API's ``JdbcTargets`` —
``CatalogTargets``, ``DynamoDBTargets``). Dependencies: ``DependsOn`` and
``WaitForDependencies`` as for jobs. Unknown keywords (e.g. ``Grouping``,
``RecrawlPolicy``) are dropped, and falsy values are not stored.
"""

from .base_resource import BaseResource, _check_choice, _require_keys, _set_present

TARGET_KEYS = {
    "S3Targets": ["Path"],
    "JDBCTargets": ["ConnectionName", "Path"],
    "CatalogTargets": ["DatabaseName", "Tables"],
    "DynamoDBTargets": ["Path"],
}
UPDATE_BEHAVIORS = ("LOG", "UPDATE_IN_DATABASE")
DELETE_BEHAVIORS = ("LOG", "DELETE_FROM_DATABASE", "DEPRECATE_IN_DATABASE")


class Crawler(BaseResource):
    def __init__(self, **kwargs):
        self.__dict__["_validator"] = {
            "Name": (str, True),
            "Role": (str, True),
            "DatabaseName": (str, False),
            "Description": (str, False),
            "Targets": (dict, True),
            "Classifiers": (list, False),
            "SchemaChangePolicy": (dict, False),
            "TablePrefix": (str, False),
            "Configuration": (str, False),
            "CrawlerSecurityConfiguration": (str, False),
            "Tags": (dict, False),
            "Schedule": (str, False),
            "DependsOn": (dict, False),
            "WaitForDependencies": (str, False),
        }
        _set_present(self, kwargs, list(self._validator))
        self._check_nested()

    def _check_nested(self):
        targets = self.__dict__.get("Targets")
        if targets is not None:
            for kind, required in TARGET_KEYS.items():
                for target in targets.get(kind) or []:
                    if not isinstance(target, dict):
                        raise TypeError(
                            "Value {} for key Targets.{} should be of type {}".format(
                                target, kind, dict
                            )
                        )
                    _require_keys("Crawler", "Targets." + kind, target, required)
        policy = self.__dict__.get("SchemaChangePolicy")
        if policy is not None:
            if "UpdateBehavior" in policy:
                _check_choice(
                    "Crawler", "SchemaChangePolicy.UpdateBehavior", policy["UpdateBehavior"], UPDATE_BEHAVIORS
                )
            if "DeleteBehavior" in policy:
                _check_choice(
                    "Crawler", "SchemaChangePolicy.DeleteBehavior", policy["DeleteBehavior"], DELETE_BEHAVIORS
                )
