"""The admins' audit log page: filter by who and what, page through older entries."""

from __future__ import annotations

import httpx

import staff
from core.database import session_scope
from tests.admin.console_support import console_app, log_in


async def test_the_audit_log_filters_and_pages(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'audit.db'}"
    app, conversation = console_app(url, {"mei": "admin"})
    with session_scope(url) as session:
        for number in range(205):
            staff.record_action(session, "cli:ops", "export_csv", f"export {number}", "10.0.0.1")
        staff.record_action(session, "li", "staff_remove", "wu", "10.0.0.2")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        await log_in(client, "mei")
        first = await client.get("/admin/audit?action=export_csv")
        second = await client.get("/admin/audit?action=export_csv&page=2")
        by_li = (await client.get("/admin/api/audit?actor=li")).json()
    await conversation.close()

    assert first.text.count('<td class="keep">export_csv</td>') == 200 and "Older →" in first.text
    assert "<td>export 204</td>" in first.text and "<td>export 4</td>" not in first.text
    assert second.text.count('<td class="keep">export_csv</td>') == 5 and "← Newer" in second.text
    assert "Older →" not in second.text
    assert [(e["actor"], e["action"], e["target"]) for e in by_li["entries"]] == [
        ("li", "staff_remove", "wu")
    ]
    assert by_li["more"] is False
    assert '<option value="staff_remove"' in first.text, "the filter lists recorded actions"
