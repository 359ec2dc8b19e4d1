"""The newcomer's guided path: a menu of first steps, each with guidance and catalog offers."""

from __future__ import annotations

from rasa_sdk.events import EventType

from actions import newcomer_guidance, search_flow
from actions.base import LearncityAction, Turn
from actions.handover_actions import person_button
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
        # A step the city marks "needs a person" offers its help desk under the guidance.
        person = [person_button(turn.language, step.id)] if step.needs_person else []
        turn.reply(step.text_in(turn.language), buttons=person)
        if offers:
            turn.reply(
                turn.say("migrant_related_offers"),
                cards=[search_flow.card(offer) for offer in offers],
                buttons=others,
            )
        else:
            turn.reply(turn.say("migrant_other_steps"), buttons=others)
        return []
