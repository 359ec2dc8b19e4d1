"""What learncity keeps about a citizen, with consent: preferences, learning needs, subscriptions.

Other packages use the functions re-exported here, never the tables.
"""

from citizens.records import (
    ConsentRequiredError,
    LearningNeed,
    erase_citizen,
    export_citizen_data,
    get_language,
    is_reachable,
    mark_reachable,
    mark_unreachable,
    needs_summary,
    register_learning_need,
    set_language,
    subscribe_events,
    subscribers_for,
    unsubscribe_events,
)

__all__ = [
    "ConsentRequiredError",
    "LearningNeed",
    "erase_citizen",
    "export_citizen_data",
    "get_language",
    "is_reachable",
    "mark_reachable",
    "mark_unreachable",
    "needs_summary",
    "register_learning_need",
    "set_language",
    "subscribe_events",
    "subscribers_for",
    "unsubscribe_events",
]
