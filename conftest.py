"""Make the repository root importable (pico_sim, bench helpers) for every test."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
