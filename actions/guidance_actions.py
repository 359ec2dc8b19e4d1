"""The newcomer's guided path: a menu of first steps, each with guidance and catalog offers."""

from __future__ import annotations

from rasa_sdk.events import EventType

from actions import newcomer_guidance, search_flow
from actions.base import LearncityAction, Turn
from actions.search_flow import first_entity


class ActionMigrantGuidance(LearncityAction):
    def name(self) -> str:
        return "action_migrant_guidance"

    async def respond(self, turn: Turn) -> list[EventType]:
        steps = newcomer_guidance.load_steps()
        step = newcomer_guidance.find_step(first_entity(turn.entities, "topic"), turn.text)
        if step is None:
            turn.reply(
                turn.say("migrant_welcome"),
                buttons=[
                    {
                        "title": s.title_in(turn.language),
                        "payload": newcomer_guidance.step_payload(s),
                    }
                    for s in steps
                ],
            )
            return []
        offers = newcomer_guidance.offers_for(step)
        others = [
            {"title": s.title_in(turn.language), "payload": newcomer_guidance.step_payload(s)}
            for s in steps
            if s.id != step.id
        ]
        turn.reply(step.text_in(turn.language))
        if offers:
            turn.reply(
                turn.say("migrant_related_offers"),
                cards=[search_flow.card(offer) for offer in offers],
                buttons=others,
            )
        else:
            turn.reply(turn.say("migrant_other_steps"), buttons=others)
        return []
