"""What learncity keeps about a citizen, with consent: preferences, learning needs, subscriptions.

Other packages use the functions re-exported here, never the tables. `export_citizen_data`
and `erase_citizen` cover everything any package keeps about a citizen (citizens.registry).
"""

from citizens.conversation_events import conversation_event_days, count_conversation_events
from citizens.conversation_stats import (
    ConversationTotals,
    conversation_citizens,
    conversation_totals,
)
from citizens.records import (
    ConsentRequiredError,
    LearningNeed,
    get_language,
    is_reachable,
    learning_need_times,
    mark_reachable,
    mark_unreachable,
    needs_summary,
    register_learning_need,
    set_language,
    subscribe_events,
    subscribers_for,
    unsubscribe_events,
)
from citizens.registry import (
    ErasureIncompleteError,
    erase_citizen,
    export_citizen_data,
    remaining_rows,
)

__all__ = [
    "ConsentRequiredError",
    "ConversationTotals",
    "ErasureIncompleteError",
    "LearningNeed",
    "conversation_citizens",
    "conversation_event_days",
    "conversation_totals",
    "count_conversation_events",
    "erase_citizen",
    "export_citizen_data",
    "get_language",
    "is_reachable",
    "learning_need_times",
    "mark_reachable",
    "mark_unreachable",
    "needs_summary",
    "remaining_rows",
    "register_learning_need",
    "set_language",
    "subscribe_events",
    "subscribers_for",
    "unsubscribe_events",
]
