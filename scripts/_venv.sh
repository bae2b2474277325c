# Sourced by the other scripts: create .venv and install exactly what uv.lock pins into it
# (once per change of uv.lock or pyproject.toml). Usage: . scripts/_venv.sh [extra]
#   (no extra)  the runtime dependencies, as production gets them
#   dev         plus the dev tools ([project.optional-dependencies] dev)
# Needs only Python 3.11 and PyPI: uv itself is installed from PyPI into .venv/.uv (pinned
# below). Prints the fingerprint of the installed runtime packages (scripts/lock_fingerprint.py),
# the same line CI, scripts/serve and scripts/build-check print for the same lock.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
UV_VERSION="0.13.9"
PYTHON="${PYTHON:-$(command -v "python$(cat .python-version)" || command -v python3)}"
if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv with $PYTHON"
  "$PYTHON" -m venv .venv
fi
if [ ! -d ".venv/.uv/uv-$UV_VERSION.dist-info" ]; then
  echo "==> installing uv $UV_VERSION into .venv/.uv"
  rm -rf .venv/.uv
  .venv/bin/python -m pip install -q --disable-pip-version-check --target .venv/.uv "uv==$UV_VERSION"
fi
export PATH="$ROOT/.venv/.uv/bin:$ROOT/.venv/bin:$PATH"
# uv manages .venv with the Python that made it, never a Python of its own (as the buildpack).
export UV_PROJECT_ENVIRONMENT="$ROOT/.venv" UV_PYTHON_DOWNLOADS=never UV_NO_MANAGED_PYTHON=1
EXTRAS="${1:-}"
LOCK_HASH="$( (cat uv.lock pyproject.toml 2>/dev/null || true) | sha256sum | cut -c1-16)"
STAMP=".venv/.synced"
read -r stamped_hash stamped_extras 2>/dev/null <"$STAMP" || stamped_hash="" stamped_extras=""
# The runtime set is the same with or without the dev extra: a dev install serves scripts/serve.
if [ "$stamped_hash" != "$LOCK_HASH" ] || { [ -n "$EXTRAS" ] && [ "$stamped_extras" != "$EXTRAS" ]; }; then
  scripts/check-lock >/dev/null || return 1 2>/dev/null || exit 1
  echo "==> installing uv.lock${EXTRAS:+ with [$EXTRAS]} into .venv (uv sync --locked)"
  uv sync --locked --quiet ${EXTRAS:+--extra "$EXTRAS"}
  echo "$LOCK_HASH ${EXTRAS:--}" >"$STAMP"
fi
python scripts/lock_fingerprint.py
