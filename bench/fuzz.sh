#!/usr/bin/env bash
# The HTTP fuzz test (tests/integration/test_fuzz.py) at length: 20,000 fresh examples per
# storage (POD_FUZZ_EXAMPLES=N for another number) instead of CI's 400 derandomized ones.
# Failures are kept in .hypothesis/ and replayed first on the next run. Extra arguments go
# to pytest, e.g. -k file, or --hypothesis-seed=N to repeat a run.
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
exec python -m pytest tests/integration/test_fuzz.py -p no:cacheprovider \
  --hypothesis-profile=long --hypothesis-show-statistics "$@"
