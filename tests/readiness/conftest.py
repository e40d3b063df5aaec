"""Readiness tests reuse the engine's fixtures: the fake connector, a project directory, the CLI."""

from engine.conftest import cli, fake_registered, plugin_env, project

__all__ = ["cli", "fake_registered", "plugin_env", "project"]
