"""Channels, the gateway between them and Rasa, broadcasts and the `learncity` command line."""
