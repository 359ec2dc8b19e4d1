"""The announcement pages' own words (scheduling, live progress, past announcements), in the
console's languages; the shared ones (delivered, unreachable, …) stay in bot/admin/i18n.py."""

from __future__ import annotations

from starlette.requests import Request

from bot.admin.i18n import request_language

ANNOUNCE_WORDS: dict[str, dict[str, str]] = {
    "en": {
        "send_at": "Send at (city time)",
        "send_at_hint": "YYYY-MM-DD HH:MM, e.g. 2026-12-24 18:00. Leave empty to send now. "
        "A scheduled announcement waits in the database "
        "and is sent when its time comes, even after a restart.",
        "send_at_invalid": "The send time must be a date and a time, e.g. 2026-12-24 18:00.",
        "send": "Send to {count} (now or at the time above)",
        "progress": "Progress",
        "live": "This page updates itself while the announcement is being sent.",
        "status": "State",
        "status_scheduled": "scheduled",
        "status_planning": "being prepared",
        "status_sending": "sending",
        "status_done": "sent",
        "to_send": "To send in this run",
        "left": "Left",
        "rate": "Messages per second",
        "rate_average": "Messages per second (average of the whole send)",
        "failed": "Failed (tried again by the next send)",
        "unknown": "Unsure: may have arrived (not sent again)",
        "unknown_note": "Unsure means the message was on its way when a broadcast worker "
        "stopped (or Telegram did not answer in time): it may have arrived. Telegram cannot say, "
        "and it has no way to send a message only once, so these citizens are not sent it again "
        "and nobody gets it twice. A stopped worker leaves at most one unsure citizen per batch it "
        "was sending. The command `learncity broadcast` names them and can send to them anyway "
        "(--resend-unknown).",
        "past": "Past announcements",
        "past_intro": "Every announcement sent, scheduled or cancelled from here or the command "
        "line, newest first, with its report.",
        "none_yet": "No announcements yet.",
        "send_at_column": "Send at (city time)",
        "by": "By",
        "text": "Text",
        "report": "Report",
        "compose": "Compose another announcement",
        "topic_subscribers": "{count} subscribed",
        "recipients_of_text": "will get this text: {count}",
        "texts_column": "Texts they will get (language: count)",
        "event": "About an event (optional)",
        "event_search": "Find an upcoming event (words of its name, place, district or topic)",
        "event_filter": "Find",
        "event_pick": "Upcoming events, soonest first, in city time ({count})",
        "event_use": "Use this event",
        "event_none": "No upcoming event in the catalog matches.",
        "event_unknown": "There is no event with the id {id} in the catalog.",
        "event_chosen": "Announcing the event {name} ({when}).",
        "event_narrowing": "The texts below are a starting point: edit them. The recipients are "
        "narrowed to the event's topics and district; change Topic and District and preview "
        "again to reach others. Each citizen gets each announcement once; a different notice about "
        "the same event (a changed room) reaches everyone again.",
        "event_drop": "Announce without an event",
        "event_column": "Event",
        "status_cancelled": "cancelled",
        "cancel": "Cancel this announcement",
        "cancelled": "Announcement {id} is cancelled: it will not be sent.",
        "cancel_too_late": "Announcement {id} has already started (or was cancelled): it can "
        "no longer be cancelled.",
    },
    "zh": {
        "send_at": "发送时间（城市时间）",
        "send_at_hint": "格式 YYYY-MM-DD HH:MM，例如 2026-12-24 18:00。留空则立即发送。定时通知保存在数据库中，到时发送，重启后也不会丢失。",
        "send_at_invalid": "发送时间须为日期和时间，例如 2026-12-24 18:00。",
        "send": "发送给 {count} 人（立即或在上面的时间）",
        "progress": "进度",
        "live": "发送期间本页会自动更新。",
        "status": "状态",
        "status_scheduled": "已定时",
        "status_planning": "准备中",
        "status_sending": "发送中",
        "status_done": "已发送",
        "to_send": "本次待发送",
        "left": "剩余",
        "rate": "每秒消息数",
        "rate_average": "每秒消息数（整次发送的平均）",
        "failed": "失败（下次发送时重试）",
        "unknown": "不确定：可能已送达（不再重发）",
        "unknown_note": "“不确定”表示广播进程停止时（或 Telegram 未及时答复）消息正在发送途中，"
        "可能已送达。Telegram 无法告知结果，也无法保证只发送一次，因此不会再次发送给这些市民，"
        "没有人会收到两次。每个停止的进程最多留下其正在发送的每批中的一位不确定的市民。"
        "命令 `learncity broadcast` 会列出他们，也可以仍然发送给他们（--resend-unknown）。",
        "past": "以往通知",
        "past_intro": "在这里或命令行发送、定时或取消的所有通知，最新的在前，附报告。",
        "none_yet": "还没有通知。",
        "send_at_column": "发送时间（城市时间）",
        "by": "发送人",
        "text": "内容",
        "report": "报告",
        "compose": "撰写新通知",
        "topic_subscribers": "{count} 人订阅",
        "recipients_of_text": "将收到这段文字：{count}",
        "texts_column": "将收到的文字（语言：人数）",
        "event": "关于某个活动（可选）",
        "event_search": "查找即将举行的活动（名称、地点、区或主题中的词）",
        "event_filter": "查找",
        "event_pick": "即将举行的活动，按时间先后，城市时间（{count} 个）",
        "event_use": "选用此活动",
        "event_none": "目录中没有符合的即将举行的活动。",
        "event_unknown": "目录中没有编号为 {id} 的活动。",
        "event_chosen": "通知活动：{name}（{when}）。",
        "event_narrowing": "下面的文字只是初稿，请修改。收件人已限定为该活动的主题和区；"
        "修改“主题”和“区”并重新预览即可通知其他人。每条通知每位市民只收到一次；"
        "关于同一活动的另一条通知（例如更换教室）会再次发给所有人。",
        "event_drop": "不关联活动",
        "event_column": "活动",
        "status_cancelled": "已取消",
        "cancel": "取消此通知",
        "cancelled": "通知 {id} 已取消，不会发送。",
        "cancel_too_late": "通知 {id} 已开始发送（或已取消），无法再取消。",
    },
}


def announce_words(request: Request) -> dict[str, str]:
    """The announcement pages' words in the request's console language."""
    return ANNOUNCE_WORDS[request_language(request)]
