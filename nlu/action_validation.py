"""Validate action-server responses with one prepared validator instead of a new one per turn.

Runs inside the Rasa server (Python 3.10 venv). Rasa 3.6's `RemoteAction` calls
`jsonschema.validate(result, schema)` on every action response, and `validate` checks the
large events schema against the JSON Schema meta-schema and builds a new validator each
time: measured as about 46 % of the Rasa server's CPU per message. The schema never
changes, so it is checked once here and the validator reused; every response is still
validated against the same schema, and an invalid one still raises the same
`ValidationError` with Rasa's hint appended.

The events schema is a `oneOf` over some twenty event types, each told apart by a constant
`event` name, so every event was checked against all of them. A valid response is now
recognised by checking each event against the base schema and the one type its name selects,
which accepts exactly what `oneOf` accepts; anything that fails that check goes through the
full validator, so the error a developer sees is Rasa's own.
"""

from typing import Any

from jsonschema import ValidationError, exceptions, validators

from nlu.rasa_version import require_tested_rasa

# Before Rasa's internals are imported: on another version they may have moved.
require_tested_rasa(__name__)

from rasa.core.actions.action import RemoteAction  # noqa: E402
from rasa.shared.constants import DOCS_BASE_URL  # noqa: E402

_HINT = (
    ". Failed to validate Action server response from API, make sure your response from "
    f"the Action endpoint is valid. For more information about the format visit "
    f"{DOCS_BASE_URL}/custom-actions"
)


def _prepared_validator() -> Any:
    schema = RemoteAction.action_response_format_spec()
    validator_class = validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


class QuickResponseCheck:
    """True only for responses the full schema accepts, checking each event against its type."""

    def __init__(self) -> None:
        schema = RemoteAction.action_response_format_spec()
        validator_class = validators.validator_for(schema)
        event_schema = dict(schema["properties"]["events"]["items"])
        branches = event_schema.pop("oneOf", [])
        self.by_name: dict[str, Any] = {}
        for branch in branches:
            name = branch.get("properties", {}).get("event", {}).get("const")
            if not isinstance(name, str) or name in self.by_name:
                self.by_name = {}  # not told apart by name: always use the full validator
                break
            self.by_name[name] = validator_class({"allOf": [event_schema, branch]})
        outer = dict(schema)
        outer["properties"] = dict(schema["properties"], events={"type": "array"})
        self.outer = validator_class(outer)

    def accepts(self, result: Any) -> bool:
        if not self.by_name or not self.outer.is_valid(result):
            return False
        for event in result.get("events") or []:
            checker = self.by_name.get(event.get("event")) if isinstance(event, dict) else None
            if checker is None or not checker.is_valid(event):
                return False
        return True


def install() -> None:
    """Replace `RemoteAction._validate_action_result` by the prepared-validator version."""
    if getattr(RemoteAction._validate_action_result, "prepared", False):
        return
    validator = _prepared_validator()
    quick = QuickResponseCheck()

    def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
        if quick.accepts(result):
            return True
        error = exceptions.best_match(validator.iter_errors(result))
        if error is not None:
            error.message += _HINT
            raise error
        return True

    _validate_action_result.prepared = True  # type: ignore[attr-defined]
    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]


__all__ = ["ValidationError", "install"]
