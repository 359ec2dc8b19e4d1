"""The admins' health page: the gateway's own health monitor and channels, as staff read them."""

from __future__ import annotations

import httpx

from tests.admin.console_support import console_app, log_in


async def test_an_admin_sees_rasa_down_when_nothing_answers_its_port(tmp_path) -> None:
    # console_app points the conversation at a free port where no Rasa listens.
    app, conversation = console_app(f"sqlite:///{tmp_path / 'h.db'}", {"mei": "admin"})
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        await log_in(client, "mei")
        page = await client.get("/admin/health?lang=zh")
        api = await client.get("/admin/api/health")
    await conversation.close()

    assert page.status_code == 200
    assert '<td>rasa</td><td class="state-down">停止</td>' in page.text
    assert '<td>gateway</td><td class="state-up">正常</td>' in page.text
    assert api.json() == {"servers": {"gateway": "up", "rasa": "down"}, "channels": ["web"]}
