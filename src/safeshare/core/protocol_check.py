"""Placeholder replaced by the protocol check (being written)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from safeshare.core.world import Organisation, Protocol


@dataclass(frozen=True, slots=True)
class Finding:
    code: str
    purpose: str | None
    severity: str  # "error" | "warning"
    message: str
    section: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "purpose": self.purpose,
            "severity": self.severity,
            "message": self.message,
            "section": self.section,
        }


def check_protocol(
    protocol: Protocol, organisations: Mapping[str, Organisation] | None = None
) -> tuple[Finding, ...]:
    raise NotImplementedError
