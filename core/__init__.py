"""Shared foundations: settings, database engine, logging, the packaged embedding models. Each is defined once here."""
