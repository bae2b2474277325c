"""Shared steps of the Chromium tests."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
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


@contextmanager
def node_server(script: Path, env: dict[str, str]) -> Iterator[None]:
    """A Node stand-in (an IdP of the browser tests) run from its own folder with ``env`` added,
    until it prints "ready"; stopped on exit."""
    proc = subprocess.Popen(["node", str(script)], cwd=script.parent, stdout=subprocess.PIPE,  # noqa: S603, S607
                            stderr=subprocess.DEVNULL, text=True, env={**os.environ, **env})
    try:
        assert proc.stdout is not None
        seen = []
        for line in proc.stdout:  # its warnings, then "ready" (EOF if it failed to start)
            seen.append(line)
            if line.strip() == "ready":
                break
        assert seen and seen[-1].strip() == "ready", "".join(seen)
        yield
    finally:
        proc.terminate()
        proc.wait(timeout=10)
