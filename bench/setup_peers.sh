#!/usr/bin/env bash
# The benchmark's peers, in their own venv (never in requirements*.txt: pm4py is AGPL-3.0;
# retentioneering sends usage data unless RETENTIONEERING_NO_TRACK=1, which bench/ always sets).
#   bash bench/setup_peers.sh [VENV_DIR]     (default ~/.cache/journeylens-bench/peers)
set -euo pipefail
VENV="${1:-$HOME/.cache/journeylens-bench/peers}"
python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --upgrade pip
"$VENV/bin/pip" install --quiet "retentioneering==5.2.4" "pm4py==2.7.23.11" pandas pyarrow numpy
echo "peers installed in $VENV (python bench/run.py finds it there, or pass --peers-python $VENV/bin/python)"
