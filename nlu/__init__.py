"""The Rasa project (data, domain, rules) and the 3.11-side helpers that train, serve and ask it."""
