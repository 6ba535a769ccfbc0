"""How long the shop floor takes, where and by whom: plausible process times.

The simulator builds a unit in seconds, but reports what a factory would: minutes
of work per process, on one of the process's stations, by one of the floor's
operators, with some spread around a typical time and now and then a slow unit.
The clock is compressed: a unit completed now reports processes that ran back to
back over the last minutes, ending now.

Every figure of a unit is drawn from a random generator seeded with the
simulator's seed and the unit's key, so a unit always gets the same times, on
any run, in any order, after a restart.
"""

import math
import random
import threading
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from .store import OrderKey

OPERATORS = ("Ana Costa", "Ben Okafor", "Chen Wei", "Dana Novak", "Emil Larsen")
STATIONS = ("Station 1", "Station 2", "Station 3")
SPREAD = 0.12  # the log-normal sigma of a process time around its typical time
SLOW_SHARE = 0.06  # the share of units with one slow process
SLOW_FACTOR = (2.0, 3.5)  # how much longer a slow process takes
MINUTES = (4.0, 14.0)  # typical minutes of a process nobody configured


@dataclass(frozen=True)
class Step:
    """One process of one unit: what, where, who, when."""

    process_id: str
    station: str
    operator: str
    started_at: datetime
    ended_at: datetime

    @property
    def minutes(self) -> float:
        return (self.ended_at - self.started_at).total_seconds() / 60.0


@dataclass(frozen=True)
class ProcessProfile:
    minutes: float
    stations: tuple[str, ...]


class WorkModel:
    """The floor's pace: a typical time and stations per process, the operators."""

    def __init__(self, seed: int | str | None = None):
        self.seed = str(seed if seed is not None else random.randrange(2**32))
        self._lock = threading.Lock()
        self._processes: dict[str, ProcessProfile] = {}
        self.operators: tuple[str, ...] = OPERATORS
        self.slow_share = SLOW_SHARE

    def configure(
        self,
        processes: dict | None = None,
        operators: list[str] | None = None,
        slow_share: float | None = None,
    ) -> dict:
        """Set typical minutes and stations per process id, the operators, and
        the share of slow units; what is not given is kept."""
        with self._lock:
            for process_id, profile in (processes or {}).items():
                self._processes[str(process_id)] = _profile(process_id, profile)
            if operators is not None:
                if not operators or not all(isinstance(o, str) for o in operators):
                    raise ValueError("operators must be a non-empty list of names")
                self.operators = tuple(operators)
            if slow_share is not None:
                if not 0 <= float(slow_share) <= 1:
                    raise ValueError("slow_share must be between 0 and 1")
                self.slow_share = float(slow_share)
            return self.describe()

    def describe(self) -> dict:
        return {
            "seed": self.seed,
            "operators": list(self.operators),
            "slowShare": self.slow_share,
            "processes": {
                process_id: {"minutes": p.minutes, "stations": list(p.stations)}
                for process_id, p in self._processes.items()
            },
        }

    def profile(self, process_id: str) -> ProcessProfile:
        """The configured profile, else one derived from the id (stable)."""
        with self._lock:
            known = self._processes.get(process_id)
        if known:
            return known
        low, high = MINUTES
        share = (zlib.crc32(process_id.encode()) % 1000) / 1000
        return ProcessProfile(round(low + share * (high - low), 1), STATIONS)

    def plan(self, key: OrderKey, process_ids: list[str], end: datetime) -> list[Step]:
        """The unit's processes back to back, the last ending at ``end``."""
        rng = random.Random(f"{self.seed}|{key[0]}|{key[1]}|{key[2]}")
        drawn = []
        for process_id in process_ids:
            profile = self.profile(process_id)
            minutes = profile.minutes * math.exp(rng.gauss(0.0, SPREAD))
            drawn.append(
                [
                    process_id,
                    rng.choice(profile.stations),
                    minutes,
                    rng.choice(self.operators),
                ]
            )
        if drawn and rng.random() < self.slow_share:
            slow = rng.randrange(len(drawn))
            drawn[slow][2] *= rng.uniform(*SLOW_FACTOR)
        steps, ended = [], end
        for process_id, station, minutes, operator in reversed(drawn):
            started = ended - timedelta(seconds=round(minutes * 60))
            steps.append(Step(process_id, station, operator, started, ended))
            ended = started
        return steps[::-1]


def _profile(process_id, profile) -> ProcessProfile:
    if not isinstance(profile, dict):
        raise ValueError(f"process {process_id!r}: give {{minutes, stations}}")
    minutes = float(profile.get("minutes", 0))
    if not 0 < minutes <= 24 * 60:
        raise ValueError(f"process {process_id!r}: minutes must be in (0, 1440]")
    stations = profile.get("stations") or list(STATIONS)
    if not all(isinstance(s, str) and s for s in stations):
        raise ValueError(f"process {process_id!r}: stations must be names")
    return ProcessProfile(minutes, tuple(stations))
