"""Azure connector (ARM REST + Microsoft Graph v1.0). Importing it loads no Azure SDK."""

from .connector import AzureConnector
from .settings import AzureSettings

__all__ = ["AzureConnector", "AzureSettings"]
