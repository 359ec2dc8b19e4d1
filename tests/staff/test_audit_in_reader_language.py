"""The audit log keeps an action's parameters as data and words them in the reader's language;
entries written before (English target texts) still show, in Chinese where their shape is known,
and the migration that adds the parameters goes back down without losing a word."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect, text

from core.database import _alembic_config, get_engine, session_scope
from tests.admin.console_support import csrf_token_in, logged_in

CHINESE = {"accept-language": "zh-CN,zh;q=0.9"}
OLD_ROWS = [
    ("broadcast_send", "announcement 7 ab12cd topic=calligraphy district=Nanhu event=- at=now"),
    ("staff_add", "wu (editor)"),
    ("catalog_edit", "course-42"),
]


async def test_an_admin_reads_an_english_admins_actions_in_chinese(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'audit.db'}"
    async with logged_in(url, {"mei": "admin"}, "mei") as client:
        page = await client.get("/admin/staff?lang=en")
        await client.post(
            "/admin/staff/add",
            data={"csrf_token": csrf_token_in(page.text), "name": "li", "role": "planner"},
        )
        await client.get("/admin/planner.csv?from=2026-11-03&to=2026-12-02")
        chinese = await client.get("/admin/audit", headers=CHINESE, params={"lang": "zh"})
        english = await client.get("/admin/audit", params={"lang": "en"})
        api = (await client.get("/admin/api/audit?action=staff_add")).json()

    assert "<td>li，角色：规划人员</td>" in chinese.text
    assert "<td>2026年11月3日 至 2026年12月2日 的计数</td>" in chinese.text
    assert "<td>li, as planner</td>" in english.text
    assert "<td>counts from 3 Nov 2026 to 2 Dec 2026</td>" in english.text
    assert [entry["details"] for entry in api["entries"]] == [{"name": "li", "role": "planner"}]


async def test_entries_from_before_the_migration_still_show(database_url: str) -> None:
    config = _alembic_config(database_url)
    command.upgrade(config, "heads")
    command.downgrade(config, "s3_planner_meanings")
    with session_scope(database_url) as session:
        for action, target in OLD_ROWS:
            session.execute(
                text(
                    "INSERT INTO staff_audit_log (at, actor, action, target, address)"
                    " VALUES (CURRENT_TIMESTAMP, 'ana', :action, :target, '10.0.0.1')"
                ),
                {"action": action, "target": target},
            )

    async with logged_in(database_url, {"mei": "admin"}, "mei") as client:  # upgrades again
        chinese = await client.get("/admin/audit", params={"lang": "zh"})

    assert "<td>通知 7：主题 calligraphy，区域 南湖，活动 无，发送时间 立即</td>" in chinese.text
    assert "<td>wu，角色：目录编辑</td>" in chinese.text
    assert "<td>course-42</td>" in chinese.text, "a target that is only an id shows as stored"

    command.downgrade(config, "s3_planner_meanings")
    columns = {c["name"] for c in inspect(get_engine(database_url)).get_columns("staff_audit_log")}
    with session_scope(database_url) as session:
        kept = session.execute(
            text("SELECT action, target FROM staff_audit_log WHERE actor = 'ana' ORDER BY id")
        ).all()
    assert "details" not in columns
    assert [tuple(row) for row in kept] == OLD_ROWS
