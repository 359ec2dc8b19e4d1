"""The console's words in Chinese and English, and which language a request gets.

The language comes from the `lang` switch (kept in a cookie), else the browser's
Accept-Language, else English.
"""

from __future__ import annotations

from starlette.requests import Request

LANGUAGE_COOKIE = "learncity_admin_lang"
LANGUAGES = ("en", "zh")
LANGUAGE_NAMES = {"en": "English", "zh": "中文"}

WORDS: dict[str, dict[str, str]] = {
    "en": {
        "console": "Learncity staff console",
        "skip": "Skip to content",
        "language": "Language",
        "login_title": "Log in",
        "name": "Staff name",
        "password": "Password",
        "log_in": "Log in",
        "log_out": "Log out",
        "wrong_login": "That name and password do not match. Check both and try again.",
        "throttled": "Too many failed logins. Try again in {minutes} minutes, or ask an admin.",
        "home": "Home",
        "welcome": "Welcome, {name}",
        "your_role": "Your role: {role}",
        "tasks": "What you can do here",
        "audit": "Audit log",
        "audit_intro": "Every login, failed login, logout and staff action, newest first.",
        "audit_empty": "Nothing recorded yet.",
        "when": "When (UTC)",
        "who": "Who",
        "what": "What",
        "target": "Target",
        "address": "Address",
        "forbidden": "Your role does not open this page.",
        "forbidden_title": "Not for your role",
        "back_home": "Back to the home page",
        "planner": "Learning needs dashboard",
        "task_audit": "Read who did what in the console.",
        "task_planner": "Learning needs and unmet demand, counted by topic, district and language.",
        "task_organizer": "Announcements: for now on the command line:",
        "task_editor": "The catalog: for now on the command line:",
        "task_helpdesk": "Taking over conversations is not in the console yet.",
        "task_staff": "Staff accounts, on the command line:",
        "dashboard_intro": "Counts only; nothing here names or points to a citizen.",
        "date_from": "From",
        "date_to": "To",
        "show": "Show",
        "bad_range": "Those dates could not be read (YYYY-MM-DD, the first not after the last): "
        "showing the last 30 days.",
        "download_csv": "Download these counts as CSV",
        "download_open_data": "Open data CSV (counts under 5 left out)",
        "needs_total": "Learning needs registered with consent",
        "unmet_total": "Searches that found nothing",
        "needs_by_topic": "Learning needs by topic",
        "needs_by_district": "Learning needs by district",
        "needs_by_language": "Learning needs by language",
        "unmet_by_query": "Unmet demand: what was asked",
        "unmet_by_district": "Unmet demand by district",
        "unmet_by_language": "Unmet demand by language",
        "no_rows": "Nothing in this period.",
        "value": "Value",
        "count": "Count",
        "as_table": "The same as a table",
        "staff": "Staff accounts",
        "staff_accounts": "Who can log in",
        "role": "Role",
        "since": "Since",
        "remove": "Remove",
        "add_staff": "Add an account",
        "name_hint": "Letters, digits, '.', '_' or '-'. A password is made up and shown once.",
        "staff_added": "Added {name} ({role}).",
        "password_once": "Give them this password now; it is not shown again:",
        "no_self_remove": "You cannot remove your own account; ask another admin.",
        "task_staff_page": "Add and remove staff accounts.",
        "health": "Health",
        "health_intro": "Each server's state as the gateway sees it now (checked every 2 s).",
        "server": "Server",
        "state": "State",
        "state_up": "up",
        "state_down": "down",
        "channels": "Channels served by this gateway",
        "task_health": "See whether Rasa, the action server and the channels are up.",
        "announce": "Announcements",
        "announce_intro": "Write the announcement in each language you can, then preview exactly "
        "who would get it. Citizens get their own language, else English, else Chinese.",
        "announce_missing_text": "Write the announcement in at least one language.",
        "topic": "Topic (empty: every subscriber)",
        "topic_hint": "Subscribers to a topic named in this text get it, e.g. calligraphy.",
        "district": "District",
        "every_district": "Every district",
        "preview": "Preview recipients",
        "preview_title": "Who would get it",
        "matched": "Subscribers matched",
        "would_send": "Would be sent now",
        "already_sent": "Already reached by an earlier send",
        "by_channel": "Would be sent, by channel",
        "channel": "Channel",
        "recipients_in_language": "recipients who chose it: {count}",
        "preview_send_hint": "Sending from the console is not built yet; send it with",
        "task_announce": "Compose an announcement and preview exactly who would get it.",
        "role_organizer": "organizer",
        "role_planner": "planner",
        "role_editor": "catalog editor",
        "role_helpdesk": "help desk",
        "role_admin": "admin",
    },
    "zh": {
        "console": "学习城市 工作人员后台",
        "skip": "跳到正文",
        "language": "语言",
        "login_title": "登录",
        "name": "工作人员账号",
        "password": "密码",
        "log_in": "登录",
        "log_out": "退出登录",
        "wrong_login": "账号和密码不匹配。请检查后再试。",
        "throttled": "登录失败次数过多。请 {minutes} 分钟后再试，或联系管理员。",
        "home": "首页",
        "welcome": "欢迎，{name}",
        "your_role": "您的角色：{role}",
        "tasks": "您可以在这里做什么",
        "audit": "操作日志",
        "audit_intro": "每次登录、登录失败、退出和工作人员操作，最新的在前。",
        "audit_empty": "暂无记录。",
        "when": "时间（UTC）",
        "who": "谁",
        "what": "操作",
        "target": "对象",
        "address": "地址",
        "forbidden": "您的角色无权打开此页面。",
        "forbidden_title": "无权访问",
        "back_home": "返回首页",
        "planner": "学习需求看板",
        "task_audit": "查看谁在后台做了什么。",
        "task_planner": "按主题、区域和语言统计的学习需求和未满足的需求。",
        "task_organizer": "发布通知：目前请在命令行使用：",
        "task_editor": "课程目录：目前请在命令行使用：",
        "task_helpdesk": "接管对话的功能尚未加入后台。",
        "task_staff": "工作人员账号：在命令行使用：",
        "dashboard_intro": "只有计数；这里没有任何能指认市民的信息。",
        "date_from": "开始日期",
        "date_to": "结束日期",
        "show": "显示",
        "bad_range": "无法读取这些日期（格式 YYYY-MM-DD，开始不晚于结束）：显示最近 30 天。",
        "download_csv": "下载这些计数（CSV）",
        "download_open_data": "开放数据 CSV（少于 5 的计数不公开）",
        "needs_total": "经同意登记的学习需求",
        "unmet_total": "没有找到结果的搜索",
        "needs_by_topic": "学习需求（按主题）",
        "needs_by_district": "学习需求（按区域）",
        "needs_by_language": "学习需求（按语言）",
        "unmet_by_query": "未满足的需求：搜索内容",
        "unmet_by_district": "未满足的需求（按区域）",
        "unmet_by_language": "未满足的需求（按语言）",
        "no_rows": "这段时间没有记录。",
        "value": "值",
        "count": "数量",
        "as_table": "以表格查看",
        "staff": "工作人员账号",
        "staff_accounts": "可以登录的人",
        "role": "角色",
        "since": "创建日期",
        "remove": "删除",
        "add_staff": "添加账号",
        "name_hint": "字母、数字、'.'、'_' 或 '-'。系统会生成密码，只显示一次。",
        "staff_added": "已添加 {name}（{role}）。",
        "password_once": "请现在把这个密码交给对方，它不会再显示：",
        "no_self_remove": "不能删除自己的账号；请另一位管理员操作。",
        "task_staff_page": "添加和删除工作人员账号。",
        "health": "运行状态",
        "health_intro": "网关此刻看到的各服务器状态（每 2 秒检查一次）。",
        "server": "服务器",
        "state": "状态",
        "state_up": "正常",
        "state_down": "停止",
        "channels": "本网关服务的渠道",
        "task_health": "查看 Rasa、动作服务器和各渠道是否正常。",
        "announce": "发布通知",
        "announce_intro": "用您能写的每种语言写下通知，然后预览到底会发给谁。市民收到自己的语言，没有则英文，再没有则中文。",
        "announce_missing_text": "请至少用一种语言写下通知。",
        "topic": "主题（留空：所有订阅者）",
        "topic_hint": "订阅了这段文字中提到的主题的人会收到，例如“书法”。",
        "district": "区域",
        "every_district": "所有区域",
        "preview": "预览收件人",
        "preview_title": "会发给谁",
        "matched": "匹配的订阅者",
        "would_send": "现在会发送",
        "already_sent": "之前已发送过",
        "by_channel": "按渠道的发送数量",
        "channel": "渠道",
        "recipients_in_language": "选择这种语言的收件人：{count}",
        "preview_send_hint": "后台发送尚未完成；请用命令行发送：",
        "task_announce": "撰写通知，并预览到底会发给谁。",
        "role_organizer": "活动组织者",
        "role_planner": "规划人员",
        "role_editor": "目录编辑",
        "role_helpdesk": "服务台",
        "role_admin": "管理员",
    },
}


def request_language(request: Request) -> str:
    """The `lang` query switch, else the cookie, else Accept-Language, else English."""
    chosen = request.query_params.get("lang") or request.cookies.get(LANGUAGE_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    return accepted_language(request.headers.get("accept-language", ""))


def accepted_language(header: str) -> str:
    """The console language the browser prefers most (`zh-CN,zh;q=0.9,en;q=0.8` → zh)."""
    best, best_quality = "en", -1.0
    for position, part in enumerate(header.split(",")[:20]):
        tag, _, parameters = part.strip().partition(";")
        quality = 1.0
        if parameters.strip().startswith("q="):
            try:
                quality = float(parameters.strip()[2:])
            except ValueError:
                quality = 0.0
        language = tag.strip().lower().split("-")[0]
        # Earlier entries win ties, as the header lists them in preference order.
        if language in LANGUAGES and quality - position * 1e-6 > best_quality:
            best, best_quality = language, quality - position * 1e-6
    return best
