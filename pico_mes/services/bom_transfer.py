"""BoM transfer to PICO's Work Instructions API: ids, inputs, and the schema check.

Plain Python, no ORM. PICO's ids must match ``^[a-z0-9_]{3,50}$``; ours are
derived from the database, the company and the record so that a second send
updates the same PICO records instead of creating new ones.
"""

import re

from . import documents

ID_RULE = re.compile(r"^[a-z0-9_]{3,50}$")


def make_id(prefix, kind, record_id):
    """``<prefix>_<kind>_<record id>``, e.g. ``o1a2b3c4dc1_op_12``; checked."""
    value = f"{prefix}_{kind}_{record_id}".lower()
    if not ID_RULE.match(value):
        raise ValueError(f"{value!r} does not follow PICO's id rule")
    return value


def id_prefix(database_uuid, company_id):
    """Per database and company: several Odoo databases may share one PICO."""
    hex_only = re.sub(r"[^0-9a-f]", "", (database_uuid or "").lower())
    return f"o{hex_only[:8]}c{company_id}"


def process_input(process_id, name, instructions):
    """One process with one step carrying the operation's instructions."""
    step = {"id": f"{process_id}_s1", "name": name}
    if instructions:
        step["instructionText"] = {"text": instructions}
    return {"process": {"id": process_id, "name": name, "steps": [step]}}


def product_input(product_id, name, part_number, processes):
    """``processes``: [(process id, [process ids it waits for])] in operation order."""
    return {
        "product": {
            "id": product_id,
            "name": name,
            "partNumber": part_number or None,
            "processes": [
                {"processId": pid, "dependsOn": list(deps)} for pid, deps in processes
            ],
        }
    }


def station_input(station_id, name):
    return {"station": {"id": station_id, "name": name}}


def schema_problems(live_schema):
    """Where ``live_schema`` (a graphql ``GraphQLSchema``) differs from the Work
    Instructions part of our schema file: a list of sentences, empty when equal."""
    from graphql import build_schema, parse, validate

    expected = build_schema(
        "type Query { unused: Boolean }\n" + documents.WORK_INSTRUCTION_SDL
    )
    problems = []
    live_mutation = live_schema.mutation_type
    for field_name, field in expected.mutation_type.fields.items():
        live_field = live_mutation and live_mutation.fields.get(field_name)
        if live_field is None:
            problems.append(f"PICO has no mutation {field_name}.")
            continue
        ours = {name: str(arg.type) for name, arg in field.args.items()}
        theirs = {name: str(arg.type) for name, arg in live_field.args.items()}
        if ours != theirs:
            problems.append(f"{field_name} takes {theirs}, we send {ours}.")
    for type_name, input_type in expected.type_map.items():
        if type_name.startswith("__") or not type_name.endswith("Input"):
            continue
        live_type = live_schema.type_map.get(type_name)
        if live_type is None or not hasattr(live_type, "fields"):
            problems.append(f"PICO has no input type {type_name}.")
            continue
        ours = {name: str(f.type) for name, f in input_type.fields.items()}
        theirs = {name: str(f.type) for name, f in live_type.fields.items()}
        for name in sorted(ours.keys() | theirs.keys()):
            if ours.get(name) != theirs.get(name):
                problems.append(
                    f"{type_name}.{name} is {theirs.get(name) or 'missing'} in PICO, "
                    f"{ours.get(name) or 'missing'} in our schema."
                )
    if problems:
        return problems
    for name, document in documents.WORK_INSTRUCTION_DOCUMENTS.items():
        errors = validate(live_schema, parse(document))
        problems += [f"{name}: {error.message}" for error in errors]
    return problems
