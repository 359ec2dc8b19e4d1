"""Run the model's graph in a fixed order computed once, instead of through dask on every message.

Runs inside the Rasa server (Python 3.10 venv). Rasa 3.6 answers each message by running
its graph (NLU, then the policies twice) with `dask.get`, which rebuilds the task graph,
re-derives the nodes a target needs (a recursive walk without memory) and schedules them
anew every time: about 7 % of the server's CPU per message, for a graph that never changes.
`install()` replaces `DaskGraphRunner.run` by a runner that orders the nodes for a set of
targets once and then calls them in that order. Each node still receives exactly the inputs
dask would hand it: `(node name, output)` pairs, a literal for a name nothing provides.
"""

from __future__ import annotations

from typing import Any

from nlu.rasa_version import require_tested_rasa

# Before Rasa's internals are imported: on another version they may have moved.
require_tested_rasa(__name__)

from rasa.engine.exceptions import GraphRunError  # noqa: E402
from rasa.engine.runner.dask import DaskGraphRunner  # noqa: E402


def _order(schema: Any) -> list[str]:
    """The schema's nodes, each after the nodes it needs."""
    ordered: list[str] = []
    placed: set[str] = set()

    def place(name: str) -> None:
        if name in placed or name not in schema.nodes:
            return
        placed.add(name)
        for dependency in schema.nodes[name].needs.values():
            place(dependency)
        ordered.append(name)

    for name in schema.nodes:
        place(name)
    return ordered


def _run(
    self: DaskGraphRunner,
    inputs: dict[str, Any] | None = None,
    targets: list[str] | None = None,
) -> dict[str, Any]:
    run_targets = list(targets) if targets else list(self._graph_schema.target_names)
    plans = self.__dict__.setdefault("_learncity_plans", {})
    key = tuple(run_targets)
    if key not in plans:
        minimal = self._graph_schema.minimal_graph_schema(run_targets)
        plans[key] = [(name, list(minimal.nodes[name].needs.values())) for name in _order(minimal)]
    given = inputs or {}
    planned = {name for name, _needs in plans[key]}
    for input_value in given.values():
        if isinstance(input_value, str) and (input_value in planned or input_value in given):
            raise GraphRunError(
                f"Input value '{input_value}' clashes with a node name. Make sure "
                f"that none of the input names passed to the `run` method are the "
                f"same as node names in the graph schema."
            )
    results: dict[str, Any] = {name: (name, value) for name, value in given.items()}
    try:
        for name, needs in plans[key]:
            if name in results:  # an input replaces the placeholder node of its name
                continue
            arguments = [results.get(dependency, dependency) for dependency in needs]
            results[name] = self._instantiated_nodes[name](*arguments)
    except RuntimeError as error:
        raise GraphRunError("Error running runner.") from error
    return dict(results[target] for target in run_targets)


def install() -> None:
    """Make every `DaskGraphRunner` run its graph in the order planned once per target set."""
    if getattr(DaskGraphRunner.run, "planned", False):
        return
    _run.planned = True  # type: ignore[attr-defined]
    DaskGraphRunner.run = _run  # type: ignore[method-assign]
