"""Annexa's built-in connectors, one package per provider, registered under ``annexa.connectors``."""
