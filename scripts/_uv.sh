# Sourced by scripts/_venv.sh and scripts/lock: create .venv if missing and install uv (the
# version pinned here) from PyPI into .venv/.uv; put both on PATH. Needs only Python 3.11
# (.python-version) and PyPI. uv manages .venv with the Python that made it, never a Python of
# its own, as the Heroku buildpack does.
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
export UV_PROJECT_ENVIRONMENT="$ROOT/.venv" UV_PYTHON_DOWNLOADS=never UV_NO_MANAGED_PYTHON=1
