"""Work Instructions API: processes, products and stations created over GraphQL."""

from pico_sim import work_instructions

from .helpers import SAVE

PROCESS = """mutation P($input: ProcessCreateInput!) { processCreate(input: $input) }"""
PRODUCT = """mutation P($input: ProductCreateInput!) { productCreate(input: $input) }"""
STATION = """mutation S($input: StationCreateInput!) { stationCreate(input: $input) }"""


def process(pid, name="Solder", text="Solder the board"):
    return {
        "process": {
            "id": pid,
            "name": name,
            "steps": [
                {
                    "id": f"{pid}_s1",
                    "name": name,
                    "instructionText": {"text": text},
                    "actions": [{"id": f"{pid}_a1", "description": {"text": "Done"}}],
                }
            ],
        }
    }


def product(pid="odoo_c1_bom_7", processes=None, part="WI-LAMP"):
    return {
        "product": {
            "id": pid,
            "name": "WI Lamp",
            "partNumber": part,
            "revision": "A",
            "processes": processes
            or [
                {"processId": "odoo_c1_op_1"},
                {"processId": "odoo_c1_op_2", "dependsOn": ["odoo_c1_op_1"]},
            ],
        }
    }


def create_workflow(gql):
    assert gql.data(PROCESS, {"input": process("odoo_c1_op_1")}) == {
        "processCreate": True
    }
    gql.data(PROCESS, {"input": process("odoo_c1_op_2", "Test", "Test it")})
    return gql.data(PRODUCT, {"input": product()})


def test_product_appears_in_operations_and_sub_operations(sim, gql):
    assert create_workflow(gql) == {"productCreate": True}
    data = gql.data(
        "{ operations { id externalId externalRevision name }"
        " subOperations { parentId subId } }"
    )
    operations = {op["id"]: op for op in data["operations"]}
    assert operations["odoo_c1_bom_7"] == {
        "id": "odoo_c1_bom_7",
        "externalId": "WI-LAMP",
        "externalRevision": "A",
        "name": "WI Lamp",
    }
    assert operations["odoo_c1_op_2"]["name"] == "Test"
    links = {(x["parentId"], x["subId"]) for x in data["subOperations"]}
    assert {("odoo_c1_bom_7", "odoo_c1_op_1"), ("odoo_c1_bom_7", "odoo_c1_op_2")} <= (
        links
    )
    step = work_instructions.definition(sim, "process", "odoo_c1_op_1")["steps"][0]
    assert step["instructionText"] == {"text": "Solder the board"}


def test_created_product_can_be_ordered_and_built(sim, gql):
    create_workflow(gql)
    order = {"externalOrderId": "WH/MO/00042", "operationId": "odoo_c1_bom_7"}
    assert gql.data(SAVE, {"input": {**order, "orderIndex": 0}}) == {
        "operationOrderSave": {"message": "created"}
    }
    event = sim.complete_unit("WH/MO/00042", "odoo_c1_bom_7", 0)
    assert event["operation"]["externalId"] == "WI-LAMP"
    assert sim.orders("WH/MO/00042")[0]["state"] == "completed"


def test_second_create_updates_instead_of_duplicating(sim, gql):
    create_workflow(gql)
    count = len(sim.operations())
    gql.data(PROCESS, {"input": process("odoo_c1_op_1", "Solder v2")})
    gql.data(PRODUCT, {"input": product()})
    assert len(sim.operations()) == count
    names = {op["id"]: op["name"] for op in sim.operations()}
    assert names["odoo_c1_op_1"] == "Solder v2"
    links = [x for x in sim.store.sub_operations() if x["parentId"] == "odoo_c1_bom_7"]
    assert len(links) == 2


def test_ids_must_follow_picos_rule(sim, gql):
    for bad in ("ab", "Has_Caps", "with-dash", "x" * 51, "sp ace"):
        body = gql(PROCESS, {"input": process(bad)})
        assert body["data"] == {"processCreate": None}  # nullable: null + error
        assert "must match ^[a-z0-9_]{3,50}$" in body["errors"][0]["message"]
    body = gql(STATION, {"input": {"station": {"id": "Bench-1", "name": "Bench"}}})
    assert "must match" in body["errors"][0]["message"]
    assert gql.data(STATION, {"input": {"station": {"id": "wc_1", "name": "Bench"}}})
    assert work_instructions.definition(sim, "station", "wc_1")["name"] == "Bench"
    assert not [op for op in sim.operations() if op["id"] in ("ab", "Has_Caps")]


def test_product_needs_known_processes_and_sound_dependencies(sim, gql):
    gql.data(PROCESS, {"input": process("odoo_c1_op_1")})
    unknown = gql(PRODUCT, {"input": product(processes=[{"processId": "nope_123"}])})
    assert "unknown process 'nope_123'" in unknown["errors"][0]["message"]
    gql.data(PROCESS, {"input": process("odoo_c1_op_2")})
    cycle = [
        {"processId": "odoo_c1_op_1", "dependsOn": ["odoo_c1_op_2"]},
        {"processId": "odoo_c1_op_2", "dependsOn": ["odoo_c1_op_1"]},
    ]
    body = gql(PRODUCT, {"input": product(processes=cycle)})
    assert "cycle" in body["errors"][0]["message"]
    outside = [{"processId": "odoo_c1_op_1", "dependsOn": ["op_elsewhere"]}]
    body = gql(PRODUCT, {"input": product(processes=outside)})
    assert "not processes of this product" in body["errors"][0]["message"]
    assert "odoo_c1_bom_7" not in {op["id"] for op in sim.operations()}


def test_missing_input_fields_are_validation_errors(gql):
    body = gql(PRODUCT, {"input": {"product": {"id": "abc_1", "name": "X"}}})
    assert body["errors"] and "processes" in body["errors"][0]["message"]
