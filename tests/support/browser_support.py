"""Shared steps of the Chromium tests."""

from __future__ import annotations

from typing import Any

from tests.conftest import PASSWORD


def sign_in(page: Any, base: str, login: str, password: str = PASSWORD, *,
            then: str | None = None) -> None:
    """Sign in through ``base``'s sign-in form as a person would (the password button, not an
    identity provider's); with ``then``, wait until the browser has landed on ``base + then``."""
    page.goto(f"{base}/login/")
    page.fill("#id_login", login)
    page.fill("#id_password", password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    if then is not None:
        page.wait_for_url(f"{base}{then}")
