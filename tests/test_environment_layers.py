"""Fixtures' environment blocks (tests/environment.py) leave nothing behind, whatever order
they end in: the session's `assistant` begun inside a module's block outlives it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from core.settings import get_settings
from tests.environment import settings_from_environment

pytest_plugins = ["pytester"]

KEY = "LEARNCITY_TEST_LAYERED_VARIABLE"
PRESET = "LEARNCITY_TEST_LAYERED_PRESET"  # set before any block


def test_a_block_that_outlives_the_block_it_began_in_keeps_its_value_then_restores_all(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Variables no fixture sets: in the whole suite the session's assistant has its own
    # DATABASE_URL layer open, which rightly outlives this test's blocks.
    monkeypatch.delenv(KEY, raising=False)
    monkeypatch.setenv(PRESET, "the machine's")
    module = settings_from_environment({KEY: "module", PRESET: "module"})
    session = settings_from_environment({KEY: "assistant", PRESET: "assistant"})
    module.__enter__()
    session.__enter__()  # the session fixture, first asked for inside the module
    assert (os.environ[KEY], os.environ[PRESET]) == ("assistant", "assistant")
    module.__exit__(None, None, None)  # the module ends first; the assistant still runs
    assert (os.environ[KEY], os.environ[PRESET]) == ("assistant", "assistant")
    assert get_settings.cache_info().currsize == 0  # settings are read again after each change
    session.__exit__(None, None, None)  # the session ends: as before either began
    assert KEY not in os.environ
    assert os.environ[PRESET] == "the machine's"
    assert get_settings.cache_info().currsize == 0


def test_in_a_real_session_nothing_is_left_set_after_the_session_fixture_ends(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    """A pytest run where a module fixture and a session fixture (as `assistant` does) set the
    same variables; the environment is read at the very end of the run."""
    seen = tmp_path / "seen-at-the-end.txt"
    pytester.makeconftest(
        f"""
import os
import pytest
from tests.environment import settings_from_environment

@pytest.fixture(scope="session")
def assistant_like():
    with settings_from_environment({{"{KEY}": "assistant"}}):
        yield

@pytest.fixture(scope="module")
def city():
    with settings_from_environment({{"{KEY}": "city"}}):
        yield

def pytest_sessionfinish(session):
    with open({str(seen)!r}, "w") as out:
        out.write(os.environ.get("{KEY}", "<unset>"))
"""
    )
    pytester.makepyfile(
        test_a_city=f"""
import os
def test_city_first(city):
    assert os.environ["{KEY}"] == "city"
def test_then_the_assistant_too(city, assistant_like):  # begun inside the city's block
    assert os.environ["{KEY}"] == "assistant"
""",
        test_b_later=f"""
import os
def test_later(assistant_like):
    assert os.environ["{KEY}"] == "assistant"  # the city's end left the assistant's value
""",
    )
    result = pytester.runpytest_inprocess(
        "-p", "no:cacheprovider", "-o", "asyncio_default_fixture_loop_scope=function"
    )
    result.assert_outcomes(passed=3)
    assert seen.read_text() == "<unset>"
