"""Validate action-server responses with one prepared validator instead of a new one per turn.

Runs inside the Rasa server (Python 3.10 venv). Rasa 3.6's `RemoteAction` calls
`jsonschema.validate(result, schema)` on every action response, and `validate` checks the
large events schema against the JSON Schema meta-schema and builds a new validator each
time: measured as about 46 % of the Rasa server's CPU per message. The schema never
changes, so it is checked once here and the validator reused; every response is still
validated against the same schema, and an invalid one still raises the same
`ValidationError` with Rasa's hint appended.
"""

from typing import Any

from jsonschema import ValidationError, exceptions, validators
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL

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


def install() -> None:
    """Replace `RemoteAction._validate_action_result` by the prepared-validator version."""
    if getattr(RemoteAction._validate_action_result, "prepared", False):
        return
    validator = _prepared_validator()

    def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
        error = exceptions.best_match(validator.iter_errors(result))
        if error is not None:
            error.message += _HINT
            raise error
        return True

    _validate_action_result.prepared = True  # type: ignore[attr-defined]
    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]


__all__ = ["ValidationError", "install"]
