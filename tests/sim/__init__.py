"""Tests of pico_sim; they need neither Odoo nor a network beyond localhost."""

import sys
from pathlib import Path

# Importable whatever the working directory: pico_sim sits at the repository root.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
