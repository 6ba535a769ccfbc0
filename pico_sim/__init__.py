"""pico_sim: a standalone simulator of the PICO MES GraphQL API.

Serves PICO's schema (``schema.graphql``) over HTTP with token authentication,
keeps operations, orders, completions and webhook subscriptions in SQLite,
delivers webhook events with retries, and lets a test, a benchmark or a person
(through the web page) play the shop floor: start, complete and cancel units.
"""

from .seed import DEMO_SEED, generate_operations
from .simulator import PicoSimulator

__all__ = ["DEMO_SEED", "PicoSimulator", "generate_operations"]
