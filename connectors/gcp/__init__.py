"""GCP connector (import-light: the Google libraries are imported inside collect())."""

from .connector import GcpConnector

__all__ = ["GcpConnector"]
