"""Which topic an event subscription is narrowed to."""

from __future__ import annotations

from actions.subscription_actions import subscription_topic


def test_festival_news_subscribes_to_everything_and_a_real_topic_narrows_it() -> None:
    for word in ("festival", "Learning Festival", "学习节", "活动", "noticias", "événements"):
        assert subscription_topic([{"entity": "topic", "value": word}]) is None, word
    assert subscription_topic([{"entity": "topic", "value": "pottery"}]) == "pottery"
    assert subscription_topic([{"entity": "district", "value": "Nanhu"}]) is None
