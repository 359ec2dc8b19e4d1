"""The staff console at /admin: server-rendered pages for organizers, planners, editors, admins.

`bot.admin.routes.admin_routes(database_url)` gives the Mount the gateway adds; the
`learncity staff` command lives in `bot.admin.staff_cli`. See docs/console.md.
"""
