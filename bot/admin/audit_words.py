"""The audit log's targets in the reader's language, worded from each entry's parameters.

Entries keep an action code and its parameters (staff/audit.py), so a Chinese auditor reads
"通知 7：主题 书法，区域 南湖" for an announcement an English-reading organizer sent. An entry
without parameters (a login, an older row of unknown shape) shows its target as stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from bot.admin.i18n import WORDS

if TYPE_CHECKING:
    from bot.admin.value_labels import ValueLabels

AUDIT_TARGETS: dict[str, dict[str, str]] = {
    "en": {
        "broadcast_send": "announcement {id}: topic {topic}, district {district}, event {event}, "
        "send {send_at}",
        "broadcast_cancel": "announcement {id}",
        "broadcast_cancel_refused": "announcement {id} (it had already started)",
        "staff_add": "{name}, as {role}",
        "helpdesk_claim": "chat {chat}",
        "helpdesk_transfer": "chat {chat}, to {to}",
        "helpdesk_end": "chat {chat}",
        "catalog_import": "{file}: {added} added, {updated} updated, {unchanged} unchanged, "
        "{removed} removed, {rejected} rows rejected",
        "export_csv": "counts from {first} to {last}",
        "export_open_data": "counts from {first} to {last}",
    },
    "zh": {
        "broadcast_send": "通知 {id}：主题 {topic}，区域 {district}，活动 {event}，发送时间 {send_at}",
        "broadcast_cancel": "通知 {id}",
        "broadcast_cancel_refused": "通知 {id}（已经开始发送）",
        "staff_add": "{name}，角色：{role}",
        "helpdesk_claim": "对话 {chat}",
        "helpdesk_transfer": "对话 {chat}，转给 {to}",
        "helpdesk_end": "对话 {chat}",
        "catalog_import": "{file}：新增 {added}，更新 {updated}，未变 {unchanged}，删除 {removed}，"
        "拒绝 {rejected} 行",
        "export_csv": "{first} 至 {last} 的计数",
        "export_open_data": "{first} 至 {last} 的计数",
    },
}
# What an empty parameter means, per language.
_NONE: dict[str, dict[str, str]] = {
    "en": {"topic": "every topic", "district": "every district", "event": "none", "send_at": "now"},
    "zh": {"topic": "所有主题", "district": "所有区域", "event": "无", "send_at": "立即"},
}


def audit_target(action: str, details: Mapping[str, Any], stored: str, labels: ValueLabels) -> str:
    """The entry's target worded in `labels`' language; `stored` when it has no parameters."""
    pattern = AUDIT_TARGETS.get(labels.language, AUDIT_TARGETS["en"]).get(action)
    if pattern is None or not details:
        return stored
    values = {name: _worded(name, value, labels) for name, value in details.items()}
    try:
        return pattern.format_map(values)
    except KeyError:  # a parameter this wording needs was not recorded
        return stored


def _worded(name: str, value: Any, labels: ValueLabels) -> str:
    if value is None or value == "":
        return _NONE.get(labels.language, _NONE["en"]).get(name, "–")
    if name == "role":
        return WORDS[labels.language].get(f"role_{value}", str(value))
    if name == "district":
        return labels.district(str(value))
    if name == "send_at":
        return labels.moment(str(value))
    if name in ("first", "last"):
        return labels.day(str(value))
    return str(value)
