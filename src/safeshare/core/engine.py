"""Placeholder replaced by the engine (being written)."""

from __future__ import annotations

from safeshare.core.decision import Decision
from safeshare.core.request import Request
from safeshare.core.world import World


def decide(world: World, request: Request) -> Decision:
    raise NotImplementedError
