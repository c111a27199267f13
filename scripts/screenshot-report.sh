#!/usr/bin/env bash
# The HTML report of the five-member coalition walk (the first case of
# maps/scenarios/coalition-formation.yaml), written to docs/example-report.html, and
# two screenshots of it in Debian's headless Chromium driven by playwright-core: the top
# (outcome, next steps, charter), docs/report-screenshot.png, and the section with the
# picture of the path, docs/report-screenshot-picture.png.
#   scripts/screenshot-report.sh      (from anywhere; needs .venv, node and npm)
# Installs Debian's chromium with apt-get when it is missing and we are root.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="${VENV:-$ROOT/.venv}"
PY="$VENV/bin/python"
DM="$VENV/bin/decision-map"
DATE="${DATE:-2025-05-01}"   # fixed, so the example does not change every day
HTML="docs/example-report.html"
PNG="docs/report-screenshot.png"
PICTURE_PNG="docs/report-screenshot-picture.png"

CHROME="$(command -v chromium || command -v chromium-browser || true)"
if [ -z "$CHROME" ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update && apt-get install -y chromium
    CHROME="$(command -v chromium)"
  else
    echo "screenshot-report: chromium is not installed (apt-get install chromium)" >&2
    exit 1
  fi
fi

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# The scenario case as an answers file, then the walk, then the report.
"$PY" - "$WORK/answers.yaml" <<'PYEOF'
import sys

import yaml

with open("maps/scenarios/coalition-formation.yaml", encoding="utf-8") as fh:
    case = yaml.safe_load(fh)["cases"][0]
with open(sys.argv[1], "w", encoding="utf-8") as fh:
    # the votes, and what was written down (actions, notes) and who owns each next step
    yaml.safe_dump({k: case[k] for k in ("group", "answers", "minutes", "owners") if k in case},
                   fh, allow_unicode=True, sort_keys=False)
PYEOF
"$DM" run maps/coalition-formation.yaml "$WORK/answers.yaml" --trace "$WORK/trace.json" >/dev/null
"$DM" report "$WORK/trace.json" -o "$HTML" --date "$DATE"

# playwright-core (pinned in scripts/screenshot/package-lock.json) drives that Chromium.
SHOOT="$ROOT/scripts/screenshot"
if [ ! -d "$SHOOT/node_modules/playwright-core" ]; then
  (cd "$SHOOT" && npm ci --no-audit --no-fund --loglevel=error)
fi
node "$SHOOT/shoot.mjs" "$ROOT/$HTML" "$ROOT/$PNG" "$ROOT/$PICTURE_PNG" "$CHROME"
echo "wrote $HTML, $PNG and $PICTURE_PNG"
