"""Fingerprint of the runtime packages installed in a virtualenv, checked against uv.lock.

Prints one line, e.g. ``==> runtime packages from uv.lock: 61 installed, fingerprint
sha256:1a2b3c4d5e6f7a8b`` (the hash of the sorted ``name==version`` pins), so CI,
``scripts/serve`` and the build check (``scripts/build-check``) can be compared at a glance:
the same lock gives the same line. Exits non-zero, naming each package, when the environment
holds a runtime package at a version other than the lock's, or lacks one.

Usage: ``python scripts/lock_fingerprint.py [--python PATH] [--project DIR] [--exact]`` (``uv``
on PATH; defaults: this interpreter, the repository root; ``--exact``: nothing else installed).
"""

from __future__ import annotations

import argparse
import hashlib
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def canonical(name: str) -> str:
    """PEP 503 normal form of a distribution name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def locked_runtime_pins(project: Path) -> dict[str, tuple[str, bool]]:
    """``{name: (version, has_marker)}`` of every runtime (non-dev) package uv.lock pins."""
    out = subprocess.run(  # noqa: S603 - fixed argv, uv from PATH
        ["uv", "export", "--frozen", "--format", "requirements-txt", "--no-hashes",  # noqa: S607
         "--no-header", "--no-annotate", "--no-emit-project"],
        cwd=project, capture_output=True, text=True, check=True,
    ).stdout
    pins: dict[str, tuple[str, bool]] = {}
    for line in out.splitlines():
        requirement, _, marker = line.partition(";")
        if "==" not in requirement:
            continue
        name, version = requirement.split("==", 1)
        pins[canonical(name.split("[")[0].strip())] = (version.strip(), bool(marker.strip()))
    return pins


def installed(python: str) -> dict[str, str]:
    """``{name: version}`` of the distributions installed for ``python`` (editables left out)."""
    out = subprocess.run(  # noqa: S603 - fixed argv, uv from PATH
        ["uv", "pip", "freeze", "--python", python, "--exclude-editable"],  # noqa: S607
        capture_output=True, text=True, check=True,
    ).stdout
    return {canonical(name): version for name, _, version in
            (line.partition("==") for line in out.splitlines() if "==" in line)}


def fingerprint(python: str, project: Path = ROOT,
                exact: bool = False) -> tuple[int, str, list[str]]:
    """``(count, fingerprint, problems)`` of the runtime packages installed for ``python``;
    ``exact``: any other package installed (a dev tool in a production build) is a problem."""
    pins, present = locked_runtime_pins(project), installed(python)
    problems: list[str] = []
    if exact:
        problems += [f"{name} {present[name]} is installed but is no runtime dependency"
                     for name in sorted(set(present) - set(pins))]
    lines: list[str] = []
    for name, (version, has_marker) in sorted(pins.items()):
        got = present.get(name)
        if got is None:
            if not has_marker:  # a marker-conditioned pin may not apply to this platform
                problems.append(f"{name} {version} is locked but not installed")
            continue
        if got != version:
            problems.append(f"{name} is {got}, uv.lock pins {version}")
        lines.append(f"{name}=={got}")
    digest = hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16]
    return len(lines), digest, problems


def main(argv: list[str] | None = None) -> int:
    """Print the fingerprint line; non-zero exit listing every mismatch with the lock."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--project", type=Path, default=ROOT)
    parser.add_argument("--exact", action="store_true",
                        help="fail when anything but the runtime packages is installed")
    args = parser.parse_args(argv)
    count, digest, problems = fingerprint(args.python, args.project, args.exact)
    if problems:
        print(f"error: {args.python} does not match uv.lock:\n  " + "\n  ".join(problems),
              file=sys.stderr)
        return 1
    print(f"==> runtime packages from uv.lock: {count} installed, fingerprint sha256:{digest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
