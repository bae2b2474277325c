# Sourced by the other scripts: install exactly what uv.lock pins into .venv (once per change
# of uv.lock or pyproject.toml; uv itself comes from scripts/_uv.sh). Usage:
#   . scripts/_venv.sh        the runtime dependencies, as production gets them
#   . scripts/_venv.sh dev    plus the dev tools ([project.optional-dependencies] dev)
# Prints the fingerprint of the installed runtime packages (scripts/lock_fingerprint.py), the
# same line CI, scripts/serve and scripts/build-check print for the same lock.
. "$(dirname "${BASH_SOURCE[0]}")/_uv.sh"
EXTRAS="${1:-}"
LOCK_HASH="$( (cat uv.lock pyproject.toml 2>/dev/null || true) | sha256sum | cut -c1-16)"
STAMP=".venv/.synced"
read -r stamped_hash stamped_extras 2>/dev/null <"$STAMP" || stamped_hash="" stamped_extras=""
# The runtime set is the same with or without the dev extra: a dev install serves scripts/serve.
if [ "$stamped_hash" != "$LOCK_HASH" ] || { [ -n "$EXTRAS" ] && [ "$stamped_extras" != "$EXTRAS" ]; }; then
  scripts/check-lock >/dev/null || return 1 2>/dev/null || exit 1
  echo "==> installing uv.lock${EXTRAS:+ with [$EXTRAS]} into .venv (uv sync --locked)"
  uv sync --locked --quiet --compile-bytecode ${EXTRAS:+--extra "$EXTRAS"}  # as pip and the buildpack do
  echo "$LOCK_HASH ${EXTRAS:--}" >"$STAMP"
fi
python scripts/lock_fingerprint.py
