"""The web page tests' in-process client (see tests/asgi_client.py)."""

from asgi_client import asgi_client as web_client

__all__ = ["web_client"]
