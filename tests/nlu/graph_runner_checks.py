"""Runs inside the Rasa venv (Python 3.10): the planned graph runner against Rasa's dask one.

Usage: python tests/nlu/graph_runner_checks.py MODEL.tar.gz < texts.json
Prints `@@` and a JSON object: what each runner parsed and predicted, and its time per text.
"""

import asyncio
import json
import sys
import time

from rasa.core.agent import Agent
from rasa.core.channels.channel import UserMessage

from nlu import graph_runner
from tests.nlu.venv_answer import answer


async def parse_and_predict(agent, text, sender):
    """What the model parses in `text`, and its prediction (and best score) after `sender` says
    it as the first message of a conversation. Also used by diet_inference_checks.py."""
    parsed = await agent.parse_message(text)
    await agent.processor.log_message(UserMessage(text, sender_id=sender))
    prediction = await agent.processor.predict_next_for_sender_id(sender)
    return parsed, prediction, max(prediction["scores"], key=lambda score: score["score"])


async def _observe(agent, texts, tag):
    seen = []
    started = time.perf_counter()
    for index, text in enumerate(texts):
        parsed, prediction, best = await parse_and_predict(agent, text, f"{tag}-{index}")
        seen.append(
            {
                "intent": parsed["intent"]["name"],
                "confidence": round(parsed["intent"]["confidence"], 5),
                "entities": [[e["entity"], e.get("value")] for e in parsed["entities"]],
                "next_action": best["action"],
                "policy": prediction["policy"],
            }
        )
    return seen, (time.perf_counter() - started) * 1000 / max(1, len(texts))


async def before_and_after(observe, agent, texts, install, names):
    """`observe` the texts with Rasa's own code (after a warm-up), then again after `install()`:
    what each saw and its time per text, under `names` (before, after). Also used by
    diet_inference_checks.py."""
    before, after = names
    await observe(agent, texts[:3], "warm")
    before_seen, before_ms = await observe(agent, texts, before)
    install()
    after_seen, after_ms = await observe(agent, texts, after)
    return {
        before: before_seen,
        after: after_seen,
        f"{before}_ms": before_ms,
        f"{after}_ms": after_ms,
    }


async def main(model, texts):
    agent = Agent.load(model)
    return await before_and_after(_observe, agent, texts, graph_runner.install, ("dask", "planned"))


if __name__ == "__main__":
    result = asyncio.run(main(sys.argv[1], json.load(sys.stdin)))
    answer(result)
