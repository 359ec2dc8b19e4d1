"""learncity's rasa-sdk actions: glue between the dialogue and the services they call.

Run with `.venv/bin/python -m rasa_sdk --actions actions --port 5055`. Reply texts live in
`actions/replies/<language>.yml`, newcomer guidance in `actions/guidance/newcomers.yml`.
"""
