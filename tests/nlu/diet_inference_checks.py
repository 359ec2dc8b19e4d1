"""Runs inside the Rasa venv (Python 3.10): DIET through its traced graph against Rasa's own path.

Usage: python tests/nlu/diet_inference_checks.py MODEL.tar.gz < texts.json
Prints `@@` and a JSON object: what each path parsed and predicted for every text (intent and
ranking with full-precision confidences, entities with theirs, the next action and its
policy), whether the direct path was used, and DIET's CPU ms per text on each path
(`rasa_ms`, `direct_ms`).
"""

import asyncio
import json
import sys
import time

from rasa.core.agent import Agent
from rasa.engine.graph import GraphNode

from nlu import diet_inference, graph_runner
from tests.nlu.graph_runner_checks import before_and_after, parse_and_predict
from tests.nlu.venv_answer import answer

_diet_cpu = [0.0]
_graph_node_call = GraphNode.__call__


def _timed(self, *arguments, **keywords):
    if "DIETClassifier" not in self._node_name:
        return _graph_node_call(self, *arguments, **keywords)
    started = time.process_time()  # the process: TensorFlow runs the graph on its own thread
    try:
        return _graph_node_call(self, *arguments, **keywords)
    finally:
        _diet_cpu[0] += time.process_time() - started


async def _observe(agent, texts, tag):
    seen = []
    _diet_cpu[0] = 0.0
    for index, text in enumerate(texts):
        parsed, prediction, best = await parse_and_predict(agent, text, f"{tag}-{index}")
        seen.append(
            {
                "text": text,
                "intent": parsed["intent"],
                "ranking": parsed.get("intent_ranking"),
                "entities": parsed["entities"],
                "next_action": best["action"],
                "policy": prediction["policy"],
            }
        )
    return seen, _diet_cpu[0] * 1000 / max(1, len(texts))


def _diet_models(agent):
    nodes = agent.processor.graph_runner._instantiated_nodes.values()
    return [node._component.model for node in nodes if "DIETClassifier" in node._node_name]


async def main(model, texts):
    graph_runner.install()
    GraphNode.__call__ = _timed
    agent = Agent.load(model)
    # The warm-up traces DIET's graph, which the direct path needs first.
    seen = await before_and_after(
        _observe, agent, texts, diet_inference.install, ("rasa", "direct")
    )
    seen["direct_used"] = ["_learncity_traced" in model.__dict__ for model in _diet_models(agent)]
    return seen


if __name__ == "__main__":
    result = asyncio.run(main(sys.argv[1], json.load(sys.stdin)))
    answer(result)
