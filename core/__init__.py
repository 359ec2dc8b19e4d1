"""Shared foundations: settings, database engine, logging. Each is defined once here."""
