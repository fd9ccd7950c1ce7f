"""The OpenID provider the single sign-on tests share (one per test module), and the service
set up to use it. A module names `sso_app` as its `app` (the browser's tests run their own)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask

from campaign.timing import FixedClock, install_clock
from tests.conftest import close_app, make_app
from tests.oidc.flows import BASE
from tests.oidc.provider import Provider, running_provider


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Provider]:
    with running_provider(tmp_path_factory.mktemp("oidc"), [f"{BASE}/login/sso/callback"]) as p:
        yield p


@pytest.fixture
def sso_app(database_url: str, tmp_path: Path, provider: Provider) -> Iterator[Flask]:
    """The service with single sign-on, its clock at today's time (the provider's tokens')."""
    app = make_app(database_url, tmp_path, CAMPAIGN_BASE_URL=BASE, **provider.settings())
    install_clock(app, FixedClock(datetime.fromtimestamp(int(datetime.now(UTC).timestamp()), UTC)))
    yield app
    close_app(app)
