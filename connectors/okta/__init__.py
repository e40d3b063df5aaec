"""Okta connector (Management API v1 through the okta SDK). Importing this package does not import the SDK."""

from .connector import OktaConnector
from .settings import OktaSettings

__all__ = ["OktaConnector", "OktaSettings"]
