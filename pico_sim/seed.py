"""Operation definitions: seed files, normalisation and synthetic catalogues."""

import json
from datetime import UTC, datetime, timedelta
from os import PathLike
from pathlib import Path

from .times import format_time, now_iso, to_iso

DEMO_SEED = Path(__file__).parent / "seed" / "demo_operations.json"

OPERATION_FIELDS = (
    "id",
    "externalId",
    "externalRevision",
    "externalCodes",
    "name",
    "templateID",
    "variantName",
    "consumedSerials",
    "updatedAt",
    "archivedAt",
)
SUB_OPERATION_FIELDS = ("parentId", "subId", "subGroup", "updatedAt")

Seed = str | PathLike | list | dict | None


def load_seed(seed: Seed) -> tuple[list[dict], list[dict]]:
    """Read a seed: a path to a JSON file or the parsed JSON itself.

    The JSON is a list of Operation objects, or an object with the lists
    ``operations`` and ``subOperations`` (parent/child links).
    Returns the normalised (operations, sub_operations).
    """
    if isinstance(seed, str | PathLike):
        seed = json.loads(Path(seed).read_text(encoding="utf-8"))
    if seed is None:
        return [], []
    if isinstance(seed, list):
        seed = {"operations": seed}
    operations = [normalize_operation(raw) for raw in seed.get("operations", [])]
    links = [normalize_sub_operation(raw) for raw in seed.get("subOperations", [])]
    return operations, links


def normalize_operation(raw: dict) -> dict:
    """Complete an Operation dict with every schema field, times in canonical form.

    ``externalCodes`` defaults to the part number split on '|', as PICO does.
    """
    _check_fields(raw, OPERATION_FIELDS, required=("id", "name"))
    external_id = raw.get("externalId")
    codes = raw.get("externalCodes")
    if codes is None:
        codes = external_id.split("|") if external_id else []
    return {
        "id": str(raw["id"]),
        "externalId": external_id,
        "externalRevision": raw.get("externalRevision"),
        "externalCodes": codes,
        "name": raw["name"],
        "templateID": raw.get("templateID"),
        "variantName": raw.get("variantName"),
        "consumedSerials": [
            {"id": str(attr["id"]), "externalId": attr.get("externalId")}
            for attr in raw.get("consumedSerials") or []
        ],
        "updatedAt": to_iso(raw.get("updatedAt") or now_iso()),
        "archivedAt": to_iso(raw["archivedAt"]) if raw.get("archivedAt") else None,
    }


def merge_operation(existing: dict | None, changes: dict) -> dict:
    """Apply a partial edit to an operation; ``updatedAt`` moves to now unless given."""
    merged = dict(existing or {})
    if "externalId" in changes and "externalCodes" not in changes:
        merged.pop("externalCodes", None)
    merged.update(changes)
    if "updatedAt" not in changes:
        merged["updatedAt"] = now_iso()
    return normalize_operation(merged)


def normalize_sub_operation(raw: dict) -> dict:
    _check_fields(raw, SUB_OPERATION_FIELDS, required=("parentId", "subId"))
    return {
        "parentId": str(raw["parentId"]),
        "subId": str(raw["subId"]),
        "subGroup": raw.get("subGroup"),
        "updatedAt": to_iso(raw.get("updatedAt") or now_iso()),
    }


def generate_operations(n: int) -> list[dict]:
    """``n`` synthetic operations for benchmarks: op-gen-00001/GEN-00001, ...

    Every other one consumes one serialized component; updatedAt grows by one
    second per operation from 2025-01-01, so time filters select predictable slices.
    """
    start = datetime(2025, 1, 1, tzinfo=UTC)
    return [
        normalize_operation(
            {
                "id": f"op-gen-{number:05d}",
                "externalId": f"GEN-{number:05d}",
                "externalRevision": "A",
                "name": f"Generated Operation {number:05d}",
                "consumedSerials": (
                    [
                        {
                            "id": f"attr-gen-{number:05d}",
                            "externalId": f"GENC-{number:05d}",
                        }
                    ]
                    if number % 2 == 0
                    else []
                ),
                "updatedAt": format_time(start + timedelta(seconds=number)),
            }
        )
        for number in range(1, n + 1)
    ]


def _check_fields(raw: dict, allowed: tuple[str, ...], required: tuple[str, ...]):
    unknown = sorted(set(raw) - set(allowed))
    if unknown:
        raise ValueError(f"unknown fields {unknown}; allowed: {list(allowed)}")
    missing = [name for name in required if raw.get(name) in (None, "")]
    if missing:
        raise ValueError(f"missing required fields {missing}")
