"""The city's help desk: a person takes over a conversation when the bot is not enough.

Others use the functions re-exported here, never the tables: the gateway asks `desk_turn` on
every message (privacy requests still go to the assistant: `is_for_the_assistant`), the `action_request_human` action calls `request_person`, the console claims,
answers, transfers and ends (docs/helpdesk.md).
"""

from helpdesk.canned import CannedAnswer, canned_answers, canned_text
from helpdesk.citizen_turn import LEAVE_PAYLOAD, desk_turn, is_handed_over, leave_button
from helpdesk.context import stored_events
from helpdesk.delivery import (
    OutgoingAnswer,
    add_desk_notice,
    add_staff_answer,
    claim_delivery,
    hand_back,
    lock_chat,
    mark_delivered,
    mark_failed,
    undelivered,
)
from helpdesk.desk import (
    HELPDESK_ROLES,
    ChatLine,
    ChatSummary,
    DeskError,
    Ticket,
    chat_lines,
    chats_held_by,
    claim,
    end,
    open_chat_for,
    queue_position,
    request_person,
    transfer,
    visible_chat,
    waiting_chats,
)
from helpdesk.office_hours import OfficeHours, OfficeHoursError, parse_office_hours
from helpdesk.one_writer import one_writer
from helpdesk.open_chats import has_open_chat
from helpdesk.open_index import OpenIndexUnavailableError
from helpdesk.privacy_turns import MIN_CONFIDENCE, is_for_the_assistant, payload_intent
from helpdesk.settings_store import current_office_hours, is_open_now, set_office_hours
from helpdesk.texts import desk_text

__all__ = [
    "HELPDESK_ROLES",
    "LEAVE_PAYLOAD",
    "MIN_CONFIDENCE",
    "CannedAnswer",
    "ChatLine",
    "ChatSummary",
    "DeskError",
    "OfficeHours",
    "OpenIndexUnavailableError",
    "OfficeHoursError",
    "OutgoingAnswer",
    "Ticket",
    "add_desk_notice",
    "add_staff_answer",
    "canned_answers",
    "canned_text",
    "chat_lines",
    "chats_held_by",
    "claim",
    "claim_delivery",
    "current_office_hours",
    "desk_text",
    "desk_turn",
    "end",
    "hand_back",
    "has_open_chat",
    "is_for_the_assistant",
    "is_open_now",
    "is_handed_over",
    "leave_button",
    "lock_chat",
    "mark_delivered",
    "mark_failed",
    "one_writer",
    "open_chat_for",
    "parse_office_hours",
    "payload_intent",
    "queue_position",
    "request_person",
    "set_office_hours",
    "stored_events",
    "transfer",
    "undelivered",
    "visible_chat",
    "waiting_chats",
]
