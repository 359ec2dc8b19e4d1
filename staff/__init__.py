"""Staff of the city who use the console: accounts and roles, sessions, login throttling, audit log.

Other packages (the console in bot/admin, the `learncity staff` command) use the functions
re-exported here, never the tables.
"""

from staff.accounts import (
    ROLES,
    StaffAccount,
    StaffError,
    add_staff,
    get_staff,
    list_staff,
    remove_staff,
)
from staff.audit import AuditEntry, audit_actions, audit_entries, record_action
from staff.login import LoginRefused, LoginResult, LoginThrottled, attempt_login, log_in
from staff.passwords import generate_password, hash_password, verify_password
from staff.sessions import SESSION_LIFETIME, StaffSession, end_session, open_session, session_for

__all__ = [
    "ROLES",
    "SESSION_LIFETIME",
    "AuditEntry",
    "LoginRefused",
    "LoginResult",
    "LoginThrottled",
    "StaffAccount",
    "StaffError",
    "StaffSession",
    "add_staff",
    "attempt_login",
    "audit_actions",
    "audit_entries",
    "end_session",
    "generate_password",
    "get_staff",
    "hash_password",
    "list_staff",
    "log_in",
    "open_session",
    "record_action",
    "remove_staff",
    "session_for",
    "verify_password",
]
