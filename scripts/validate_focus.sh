#!/usr/bin/env bash
# Validate the FOCUS export of the generated estate with the FinOps Foundation's focus-validator.
#
#   scripts/validate_focus.sh [WORKDIR]
#
# focus-validator pins old numpy/pandas, so it lives in its own venv (FOCUS_VALIDATOR_VENV,
# default /tmp/focusval), made once with:
#   python3 -m venv /tmp/focusval && /tmp/focusval/bin/pip install 'focus-validator==1.0.0' 'multimethod<2'
# It knows FOCUS 0.5, 1.0-preview and 1.0, so the estate is exported as FOCUS 1.0 (--focus-version 1.0).
#
# Two runs, each printed in full:
#   strict         the export as it is (FOCUS 1.0 column names);
#   preview-names  the same file plus copies of five columns under the FOCUS 1.0-preview names
#                  that focus-validator 1.0.0's "1.0" rules still use (Provider, Publisher,
#                  InvoiceIssuer, ResourceID, ChargeType), so that those rules check our values
#                  instead of failing on a missing column.
# The last two lines say `strict: PASS|FAIL [rule, ...]` and `preview-names: PASS|FAIL [rule, ...]`.
# Exit 0 when the script ran (whatever the verdicts), 2 when it could not run.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VENV="${FOCUS_VALIDATOR_VENV:-/tmp/focusval}"
PY="${PYTHON:-$( [ -x "$ROOT/.venv/bin/python" ] && echo "$ROOT/.venv/bin/python" || echo python3 )}"
WORK="${1:-$(mktemp -d)}"
if [ ! -x "$VENV/bin/focus-validator" ]; then
  echo "no focus-validator in $VENV (set FOCUS_VALIDATOR_VENV, or see the head of this script)" >&2
  exit 2
fi
mkdir -p "$WORK"
export COSTLEDGER_PSEUDONYM_KEY="${COSTLEDGER_PSEUDONYM_KEY:-validate-focus-not-a-secret-0123}"

# the estate (seed 7), run, exported as FOCUS 1.0 CSV, and the preview-names copy
(cd "$ROOT" && "$PY" - "$WORK" <<'EOF'
import sys
from pathlib import Path

import polars as pl

from pipeline import run
from pipeline.export import export_focus
from pipeline.generators.demo import generate_estate
from pipeline.warehouse import connect_read_only

work = Path(sys.argv[1])
estate = generate_estate(work / "ws", seed=7)
run.run(estate.root, date=estate.as_of)
rows = export_focus(connect_read_only(estate.root / "warehouse.duckdb"), work / "focus-1.0.csv", version="1.0")
frame = pl.read_csv(work / "focus-1.0.csv", infer_schema=False)
preview = {"ProviderName": "Provider", "PublisherName": "Publisher", "InvoiceIssuerName": "InvoiceIssuer", "ResourceId": "ResourceID", "ChargeCategory": "ChargeType"}
frame.with_columns(pl.col(a).alias(b) for a, b in preview.items()).write_csv(work / "focus-1.0-preview-names.csv")
print(f"exported {rows} rows of FOCUS 1.0 to {work / 'focus-1.0.csv'}")
EOF
)

# focus-validator reads its ISO 4217 list from a path relative to the working directory
SITE="$("$VENV/bin/python" -c 'import focus_validator, os; print(os.path.dirname(os.path.dirname(focus_validator.__file__)))')"
VERSION="$("$VENV/bin/python" -c 'from importlib.metadata import version; print(version("focus-validator"))')"
verdicts=()
for name in strict preview-names; do
  file="$WORK/focus-1.0.csv"; [ "$name" = preview-names ] && file="$WORK/focus-1.0-preview-names.csv"
  echo "== focus-validator $VERSION, FOCUS 1.0, $name: $file"
  out="$(cd "$SITE" && "$VENV/bin/focus-validator" --data-file "$file" --validate-version 1.0 2>&1)" || true
  echo "$out"
  failed="$(echo "$out" | sed -n 's/^\([A-Za-z0-9_.]*\) failed:$/\1/p' | paste -sd, -)"
  if echo "$out" | grep -q "^Validation failed" || [ -n "$failed" ]; then
    verdicts+=("$name: FAIL [${failed}]")
  else
    verdicts+=("$name: PASS")
  fi
done
printf '%s\n' "${verdicts[@]}"
