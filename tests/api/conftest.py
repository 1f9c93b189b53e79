"""The API over a store holding the demo operation (SQLite always, PostgreSQL when
SAFESHARE_TEST_POSTGRES_URL is set): an in-process client, an injectable clock, and the
demo's generated passwords."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from api_client import api_client
from api_support import START, Api, Clock, web_settings

from safeshare.api.app import create_app
from safeshare.demo import load_demo
from safeshare.settings import Settings
from safeshare.store.unit import Store


@pytest.fixture
def api(store: Store, store_settings: Settings) -> Iterator[Api]:
    clock = Clock()
    web = web_settings()
    demo = load_demo(store, policy=web.access_policy(), today=START.date())
    app = create_app(store_settings, store, web=web, clock=clock)
    with api_client(app) as client:
        yield Api(app, client, store, clock, demo, web)
