"""Annexa's engine: configuration, checks, evaluation, the evidence store, runs and reports."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("annexa")
except PackageNotFoundError:  # running from a checkout that was never installed
    __version__ = "0.0.0+unknown"
