"""How the channels are put together: objects built once, no module-level live state, no cycles."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.channels.configured import build_channels, configured_senders
from bot.conversation import Conversation
from bot.stack import gateway_app
from core.settings import REPOSITORY_ROOT, Settings
from tests.fakes.wechat_api import random_aes_key

PACKAGES = ("bot", "core", "citizens", "actions", "knowledge", "nlu")
CHANNEL_MODULES = sorted((REPOSITORY_ROOT / "bot" / "channels").glob("*.py")) + [
    REPOSITORY_ROOT / "bot" / name for name in ("conversation.py", "gateway.py", "messages.py")
]
_CONTAINERS = {"dict", "set", "list", "OrderedDict", "defaultdict", "WeakKeyDictionary"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(REPOSITORY_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every learncity module this file imports, at module level or inside functions."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in found if name.split(".")[0] in PACKAGES}


def _import_graph() -> dict[str, set[str]]:
    files = [
        path
        for package in PACKAGES
        for path in (REPOSITORY_ROOT / package).rglob("*.py")
        if "migrations" not in path.parts
    ]
    modules = {_module_name(path): path for path in files}
    return {
        name: {imported for imported in _imports(path) if imported in modules and imported != name}
        for name, path in modules.items()
    }


def _cycle_through(graph: dict[str, set[str]], start: str) -> list[str] | None:
    """A path start -> ... -> start, if the imports make one."""
    stack, seen = [(start, [start])], set()
    while stack:
        module, path = stack.pop()
        for imported in graph.get(module, ()):
            if imported == start:
                return [*path, start]
            if imported not in seen:
                seen.add(imported)
                stack.append((imported, [*path, imported]))
    return None


@pytest.mark.parametrize(
    "module",
    [
        "bot.conversation",
        "bot.broadcasts",
        "bot.gateway",
        "bot.channels.configured",
        "core.replies",
    ],
)
def test_the_gateway_and_the_broadcasts_import_no_cycle(module: str) -> None:
    graph = _import_graph()
    assert module in graph
    assert _cycle_through(graph, module) is None


def test_no_channel_module_keeps_live_objects_at_module_level() -> None:
    """Channels and their state belong to the objects the stack builds, not to modules."""
    offenders = []
    for path in CHANNEL_MODULES:
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            targets = node.targets if isinstance(node, ast.Assign) else []
            if isinstance(node, ast.AnnAssign) and node.value is not None:
                targets = [node.target]
            value = getattr(node, "value", None)
            is_container = isinstance(value, ast.Dict | ast.Set | ast.List) or (
                isinstance(value, ast.Call)
                and getattr(value.func, "id", getattr(value.func, "attr", "")) in _CONTAINERS
            )
            names = [t.id for t in targets if isinstance(t, ast.Name)]
            offenders += [
                f"{path.name}: {n}"
                for n in names
                if is_container and not n.isupper() and n != "__all__"
            ]
    assert offenders == []


def test_the_stack_builds_each_channel_once_and_serves_those_objects(tmp_path: Path) -> None:
    settings = Settings(
        learncity_data_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'c.db'}",
        telegram_bot_token=SecretStr("1234567:structure-test"),
        wechat_token=SecretStr("structureToken1"),
        wechat_aes_key=SecretStr(random_aes_key()),
        wechat_app_id="wx0000000000000001",
        wechat_app_secret=SecretStr("secret"),
    )
    conversation = Conversation("http://127.0.0.1:9")
    channels = build_channels(conversation, settings)
    app = gateway_app(settings, conversation, channels)
    assert [channel.name for channel in channels] == ["web", "telegram", "wechat"]
    assert list(app.state.channels.values()) == channels
    assert sorted(configured_senders(settings)) == ["telegram", "web", "wechat"]
    # A channel's own sender shares its state: numbers a push offers work in the channel.
    wechat = app.state.channels["wechat"]
    assert wechat.sender().choices is wechat.choices
