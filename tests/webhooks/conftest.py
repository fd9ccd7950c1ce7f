"""The webhook tests' app allows http receivers on 127.0.0.1 (the local receiver), with a
one-second timeout so that a hanging receiver is given up quickly."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from tests.conftest import close_app, make_app


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    made = make_app(
        database_url,
        tmp_path,
        CAMPAIGN_WEBHOOKS_ALLOW="http,private",
        CAMPAIGN_WEBHOOKS_TIMEOUT="1",
    )
    yield made
    close_app(made)
