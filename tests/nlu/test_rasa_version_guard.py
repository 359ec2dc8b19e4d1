"""Our patches of Rasa's internals refuse an untested Rasa version and accept the installed one.

Each check runs in a fresh Python of the Rasa venv, so every module is imported for the first
time there, the way the Rasa server imports it at start-up.
"""

from __future__ import annotations

import json

from tests.nlu.rasa_venv import run_in_rasa_venv

PATCHING_MODULES = [
    "nlu.action_calls",
    "nlu.action_validation",
    "nlu.diet_inference",
    "nlu.graph_runner",
    "nlu.policy_history",
    "nlu.tracker_copy",
    "nlu.tracker_store",
    "nlu.rasa_channel",  # what the Rasa server loads first (credentials.yml)
]

_IMPORT_EACH = """
import importlib, json, sys
import rasa
pretend = sys.argv[1]
if pretend:
    rasa.__version__ = pretend
seen = {}
for name in json.loads(sys.argv[2]):
    for loaded in [m for m in sys.modules if m.startswith("nlu.")]:
        del sys.modules[loaded]
    try:
        importlib.import_module(name)
        seen[name] = {"imported": True}
    except Exception as error:
        seen[name] = {"imported": False, "error": type(error).__name__, "message": str(error)}
from nlu.rasa_version import TESTED_RASA_VERSIONS
print("@@" + json.dumps({"seen": seen, "version": rasa.__version__,
                         "tested": sorted(TESTED_RASA_VERSIONS)}))
"""

# Rasa loads a custom tracker store by name and turns an ImportError into a warning and an
# in-memory store: the refusal must reach the server instead.
_LOAD_TRACKER_STORE = """
import json
import rasa
rasa.__version__ = "3.7.0"
from rasa.core.tracker_store import create_tracker_store
from rasa.shared.core.domain import Domain
from rasa.utils.endpoints import EndpointConfig
config = EndpointConfig(type="nlu.tracker_store.CachingSQLTrackerStore", dialect="sqlite", db=":memory:")
try:
    store = create_tracker_store(config, Domain.empty())
    outcome = {"store": type(store).__name__}
except Exception as error:
    outcome = {"error": type(error).__name__, "message": str(error)}
print("@@" + json.dumps(outcome))
"""


def test_patches_refuse_an_untested_rasa_naming_both_versions() -> None:
    result = run_in_rasa_venv(_IMPORT_EACH, "3.7.0", json.dumps(PATCHING_MODULES))
    assert result["version"] == "3.7.0"
    assert {name: seen["imported"] for name, seen in result["seen"].items()} == {
        name: False for name in PATCHING_MODULES
    }
    for name, seen in result["seen"].items():
        assert seen["error"] == "UntestedRasaVersionError", (name, seen)
        assert "Rasa 3.7.0 is installed" in seen["message"], seen["message"]
        for tested in result["tested"]:
            assert tested in seen["message"], seen["message"]
        assert "TESTED_RASA_VERSIONS" in seen["message"]
    assert result["seen"]["nlu.graph_runner"]["message"].startswith("nlu.graph_runner patches")


def test_patches_load_on_the_installed_rasa() -> None:
    result = run_in_rasa_venv(_IMPORT_EACH, "", json.dumps(PATCHING_MODULES))
    assert result["version"] in result["tested"]
    assert result["seen"] == {name: {"imported": True} for name in PATCHING_MODULES}


def test_rasa_does_not_fall_back_to_an_in_memory_tracker_store_on_an_untested_version() -> None:
    outcome = run_in_rasa_venv(_LOAD_TRACKER_STORE)
    assert outcome.get("error") == "UntestedRasaVersionError", outcome
    assert "nlu.tracker_store" in outcome["message"]


# nlu.diet_inference also calls a TensorFlow internal: it refuses a TensorFlow nobody tested.
_IMPORT_DIET_INFERENCE_ON_OTHER_TENSORFLOW = """
import json
import tensorflow
tensorflow.__version__ = "2.13.0"
try:
    import nlu.diet_inference
    outcome = {"imported": True}
except Exception as error:
    outcome = {"imported": False, "error": type(error).__name__, "message": str(error)}
print("@@" + json.dumps(outcome))
"""


def test_diet_inference_refuses_an_untested_tensorflow() -> None:
    result = run_in_rasa_venv(_IMPORT_DIET_INFERENCE_ON_OTHER_TENSORFLOW)
    assert result["imported"] is False, result
    assert result["error"] == "UntestedRasaVersionError"
    assert "tested only on TensorFlow 2.12.0, but 2.13.0 is installed" in result["message"]
