"""Custom Rasa components for learncity's pipeline (run inside the Python 3.10 Rasa venv)."""
