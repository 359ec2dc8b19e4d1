"""Parse many utterances with a trained Rasa model; runs inside the Rasa venv (Python 3.10).

Reads a JSON list of texts on stdin, writes a JSON list of Rasa parse results on stdout.
Used by `nlu.evaluate` so the evaluation needs no running server.
Usage: .venv-rasa/bin/python -m nlu.parse_batch MODEL.tar.gz < texts.json
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys


async def _parse_all(model_path: str, texts: list) -> list:
    from rasa.core.agent import Agent

    agent = Agent.load(model_path)
    results = []
    for text in texts:
        parsed = await agent.parse_message(text)
        results.append(
            {
                "text": text,
                "intent": parsed.get("intent") or {},
                "intent_ranking": (parsed.get("intent_ranking") or [])[:3],
                "entities": parsed.get("entities") or [],
            }
        )
    return results


def main() -> None:
    logging.basicConfig(level=logging.ERROR)
    if len(sys.argv) != 2:
        sys.exit("usage: python -m nlu.parse_batch MODEL.tar.gz < texts.json")
    texts = json.load(sys.stdin)
    results = asyncio.run(_parse_all(sys.argv[1], texts))
    sys.stdout.write("\n@@RESULTS@@\n")
    json.dump(results, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
