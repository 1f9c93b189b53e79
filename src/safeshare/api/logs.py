"""Logging for the server: the access log keeps method, path and status, never the query
string (no personal data in logs); nothing logs request bodies."""

from __future__ import annotations

import logging
from typing import Any


class DropQueryString(logging.Filter):
    """uvicorn's access record args are (client, method, full_path, http_version, status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5:
            client, method, path, version, code = args
            record.args = ("-", method, str(path).split("?", 1)[0], version, code)
            del client
        return True


def log_config() -> dict[str, Any]:
    """A uvicorn ``log_config``: the access log through :class:`DropQueryString`, client
    addresses not kept."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"drop_query": {"()": "safeshare.api.logs.DropQueryString"}},
        "formatters": {
            "default": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
            "access": {"format": "%(asctime)s %(levelname)s access: %(message)s"},
        },
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "stream": "ext://sys.stderr",
            },
            "access": {
                "class": "logging.StreamHandler",
                "formatter": "access",
                "filters": ["drop_query"],
                "stream": "ext://sys.stdout",
            },
        },
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": "INFO", "propagate": False},
            "uvicorn.error": {"handlers": ["default"], "level": "INFO", "propagate": False},
            "uvicorn.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
            "safeshare": {"handlers": ["default"], "level": "INFO", "propagate": False},
        },
    }
