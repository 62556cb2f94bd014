"""Common behaviour of blueprint resources.

Every resource class declares ``_validator``: a dict ``field -> (type, required)``.
Assigning an attribute that is not in the validator is silently ignored (so unknown
keyword arguments are dropped); assigning a known one checks its type (``None`` is
accepted and stored). ``validate()`` raises ``TypeError`` naming the missing required
fields, and ``to_json()`` returns the validated fields as a dict.
"""


class BaseResource(object):
    def __setattr__(self, key, value):
        validator = self.__dict__.get("_validator", {})
        if key not in validator:
            return
        expected = validator[key][0]
        if value is not None and not isinstance(value, expected):
            raise TypeError(
                "Value {} for key {} should be of type {}".format(value, key, expected)
            )
        self.__dict__[key] = value

    def _getMissingFields(self):
        return [
            field
            for field, (_type, required) in self._validator.items()
            if required and self.__dict__.get(field) is None
        ]

    def validate(self):
        missing = self._getMissingFields()
        if missing:
            raise TypeError(
                "Required Fields for {} were missing: {}".format(type(self).__name__, missing)
            )
        return True

    def to_json(self):
        self.validate()
        return {key: value for key, value in self.__dict__.items() if key in self._validator}


def _set_present(resource, kwargs, fields):
    """Stores the truthy values of ``fields`` from ``kwargs``: falsy values (None, "",
    0, {}, []) are not stored, so they are absent from ``to_json()``."""
    for field in fields:
        value = kwargs.get(field)
        if value:
            setattr(resource, field, value)


def _require_keys(owner, key, value, required):
    missing = [name for name in required if name not in value]
    if missing:
        raise TypeError("{} {} is missing required keys: {}".format(owner, key, missing))


def _check_choice(owner, key, value, allowed):
    if value not in allowed:
        raise TypeError(
            "{} {} should be one of {}, but found {}".format(owner, key, list(allowed), value)
        )
