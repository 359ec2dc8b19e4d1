"""Refuse to patch Rasa's internals on a Rasa version the differential tests did not cover.

Runs inside the Rasa server (Python 3.10 venv). `nlu.action_calls`, `nlu.action_validation`,
`nlu.diet_inference`, `nlu.graph_runner`, `nlu.policy_history`, `nlu.tracker_copy` and
`nlu.tracker_store` replace or extend private Rasa methods (`nlu.diet_inference` also a private
TensorFlow 2.12 one, pinned with Rasa 3.6.21 in requirements/rasa.lock); each has a
differential test (tests/nlu/) that runs our code and Rasa's side by side on the same input.
A private method can change in any release, so each of those modules calls
`require_tested_rasa` when it is imported: on another version the Rasa server stops at
start-up with a message naming both versions, instead of answering citizens with code
nobody checked against it.

To support a new Rasa version: install it in .venv-rasa, run the differential tests
(`tests/nlu/test_action_calls.py`, `test_action_validation.py`, `test_diet_inference.py`,
`test_graph_runner.py`, `test_policy_history.py`, `test_tracker_copy.py`,
`test_tracker_store.py`), fix what they show, then add the version below.
"""

from __future__ import annotations

TESTED_RASA_VERSIONS = frozenset({"3.6.21"})

DIFFERENTIAL_TESTS = (
    "tests/nlu/test_action_calls.py, test_action_validation.py, test_diet_inference.py, "
    "test_graph_runner.py, test_policy_history.py, test_tracker_copy.py, test_tracker_store.py"
)


class UntestedRasaVersionError(RuntimeError):
    """The installed Rasa is not one our patches of its internals were tested on.

    A `RuntimeError`, not an `ImportError`: Rasa turns an `ImportError` while loading a
    custom tracker store into a warning and an in-memory store, which would hide this.
    """


def installed_rasa_version() -> str:
    """The version of the Rasa package this process imported."""
    import rasa

    return str(rasa.__version__)


def require_tested_rasa(patching_module: str) -> None:
    """Raise `UntestedRasaVersionError` unless the installed Rasa is in `TESTED_RASA_VERSIONS`."""
    installed = installed_rasa_version()
    if installed in TESTED_RASA_VERSIONS:
        return
    tested = ", ".join(sorted(TESTED_RASA_VERSIONS))
    raise UntestedRasaVersionError(
        f"{patching_module} patches Rasa internals and was tested only on Rasa {tested}, "
        f"but Rasa {installed} is installed. Install a tested version (`make setup` installs "
        f"rasa=={tested}), or run the differential tests ({DIFFERENTIAL_TESTS}) on Rasa "
        f"{installed} and add it to TESTED_RASA_VERSIONS in nlu/rasa_version.py."
    )
