"""The API tests' in-process client (see tests/asgi_client.py)."""

from asgi_client import asgi_client as api_client

__all__ = ["api_client"]
