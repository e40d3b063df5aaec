"""AWS connector (import-light: boto3 is imported inside collect())."""

from .connector import AwsConnector

__all__ = ["AwsConnector"]
