"""Privacy requests during a hand-over go to the assistant, not to the member of staff.

"My data" and "forget me" are the citizen's at every moment (everything stored can be shown
to them and erased by them), and a member of staff can do neither. So while a chat waits or
is held, a message the assistant reads as `my_data` or `forget_me` (a button's payload, or
text the NLU reads so with the confidence of its fallback threshold) is answered by the
assistant, and so is the yes or no to its "erase everything?" when that question was the
citizen's latest turn (a "yes" written to the person afterwards stays theirs). "Forget me"
erases the hand-over with the rest (helpdesk/citizen_data.py), which ends it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.database import session_scope
from helpdesk.context import stored_events
from helpdesk.desk import open_chat_for

PRIVACY_INTENTS = frozenset({"my_data", "forget_me"})
ANSWER_INTENTS = frozenset({"affirm", "deny"})
CONFIRMATION_ACTION = "action_forget_me"  # asks "erase everything?" (actions/privacy_actions.py)
MIN_CONFIDENCE = 0.80  # the NLU fallback threshold of config.yml
_RECENT_EVENTS = 30


def payload_intent(text: str) -> str | None:
    """The intent a button's payload names (`/forget_me`, `/affirm{...}`), None for text."""
    if not text.startswith("/"):
        return None
    return text[1:].split("{", 1)[0].strip() or None


def is_for_the_assistant(database_url: str | None, sender_id: str, intent: str | None) -> bool:
    """Whether this message of a citizen at the help desk is a privacy request (or its answer)."""
    if intent in PRIVACY_INTENTS:
        return True
    if intent not in ANSWER_INTENTS:
        return False
    with session_scope(database_url) as session:
        chat = open_chat_for(session, sender_id)
        events = stored_events(session, sender_id, limit=_RECENT_EVENTS)
    last_to_desk = chat.last_citizen_at.timestamp() if chat is not None else 0.0
    return asked_to_confirm_last(events, last_to_desk)


def asked_to_confirm_last(events: Sequence[dict[str, Any]], last_to_desk: float) -> bool:
    """Whether the assistant's last action asked "erase everything?" and the citizen wrote
    nothing to the desk since (`last_to_desk`: the time of their last message there)."""
    actions = [
        event
        for event in events
        if event.get("event") == "action" and event.get("name") != "action_listen"
    ]
    users = [event for event in events if event.get("event") == "user"]
    if not actions or not users or actions[-1].get("name") != CONFIRMATION_ACTION:
        return False
    return float(users[-1].get("timestamp") or 0.0) > last_to_desk
