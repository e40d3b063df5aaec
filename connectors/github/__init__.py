"""GitHub connector (REST API v3 through PyGithub). Importing this package does not import PyGithub."""

from .connector import GitHubConnector
from .settings import GitHubSettings

__all__ = ["GitHubConnector", "GitHubSettings"]
