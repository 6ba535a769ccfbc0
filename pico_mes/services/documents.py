"""Every GraphQL document the addon sends to PICO, and nothing else.

All documents are valid against PICO's schema (``pico_sim/schema.graphql`` in this
repository, introspected live by "Test connection"). Keep new documents here so that
``all_documents()`` can check them all.
"""

OPERATION_FIELDS = """
    id
    externalId
    externalRevision
    externalCodes
    name
    updatedAt
    archivedAt
    consumedSerials { id externalId }
"""

COMPLETION_FIELDS = """
    externalOrderId
    secondaryExternalOrderId
    orderIndex
    at
    reservedSerialNumber
    operation { id externalId }
    operationSummary {
        startedAt
        cycleTime
        consumedSerials { id externalId value }
    }
    endState {
        producedSerial
        at
        station { name }
        operator { name }
    }
"""

PING = "query PicoPing { __typename }"

OPERATIONS = (
    "query PicoOperations($where: Operation_bool_exp) {"
    f" operations(where: $where) {{ {OPERATION_FIELDS} }} }}"
)

ORDER_COMPLETES = (
    "query PicoOrderCompletes($where: OperationOrderComplete_bool_exp) {"
    f" operationOrderCompletes(where: $where) {{ {COMPLETION_FIELDS} }} }}"
)

SUB_OPERATIONS = (
    "query PicoSubOperations($where: SubOperation_bool_exp) {"
    " subOperations(where: $where) { parentId subId subGroup updatedAt } }"
)

WEBHOOK_SUBSCRIBE = (
    "mutation PicoWebhookSubscribe($input: SubscribeRequestInput!) {"
    " webhookSubscribe(input: $input) { message } }"
)

WEBHOOK_UNSUBSCRIBE = (
    "mutation PicoWebhookUnsubscribe($subscriptionID: String!) {"
    " webhookUnsubscribe(subscriptionID: $subscriptionID) { message } }"
)

COMPLETION_FRAGMENT = (
    f"fragment PicoCompletion on OperationOrderComplete {{ {COMPLETION_FIELDS} }}"
)
OPERATION_FRAGMENT = f"fragment PicoOperation on Operation {{ {OPERATION_FIELDS} }}"

_BATCHED_MUTATIONS = {
    "save": ("operationOrderSave", "OperationOrderSaveInput"),
    "cancel": ("operationOrderCancel", "OperationOrderCancelInput"),
}


def alias(position):
    """The alias of the n-th mutation of a batch; PICO echoes it in error paths."""
    return f"m{position}"


def batched_mutation(kind, count):
    """One document running ``count`` order saves (or cancels), aliased m0..m<n-1>.

    Top-level mutation fields run in order; the first failing one stops the rest
    and nulls ``data`` (GraphQL spec, graphql-core, graphql-js), so the caller
    sends every alias without a non-null answer again (saves are idempotent).
    """
    field, input_type = _BATCHED_MUTATIONS[kind]
    params = ", ".join(f"${alias(i)}: {input_type}!" for i in range(count))
    fields = " ".join(
        f"{alias(i)}: {field}(input: ${alias(i)}) {{ message }}" for i in range(count)
    )
    name = "PicoOrderSave" if kind == "save" else "PicoOrderCancel"
    return f"mutation {name}({params}) {{ {fields} }}"


def batched_variables(inputs):
    """Variables for ``batched_mutation``: one input per alias, in order."""
    return {alias(i): value for i, value in enumerate(inputs)}


def all_documents():
    """Every document shape the addon sends, for validation against a schema."""
    return {
        "PicoPing": PING,
        "PicoOperations": OPERATIONS,
        "PicoOrderCompletes": ORDER_COMPLETES,
        "PicoSubOperations": SUB_OPERATIONS,
        "PicoOrderSave": batched_mutation("save", 2),
        "PicoOrderCancel": batched_mutation("cancel", 2),
        "PicoWebhookSubscribe": WEBHOOK_SUBSCRIBE,
        "PicoWebhookUnsubscribe": WEBHOOK_UNSUBSCRIBE,
        "PicoCompletion": COMPLETION_FRAGMENT,
        "PicoOperation": OPERATION_FRAGMENT,
    }


def schema_problems(schema):
    """List, per document, what a ``graphql.GraphQLSchema`` rejects (empty: all valid).

    Fragments are checked by spreading them into a subscription on their stream.
    """
    from graphql import parse, validate

    spreads = {
        "PicoCompletion": "subscription PicoCheck"
        " { operationOrderCompletesStream { ...PicoCompletion } }",
        "PicoOperation": "subscription PicoCheck"
        " { operationsStream { ...PicoOperation } }",
    }
    problems = {}
    for name, document in all_documents().items():
        source = f"{spreads[name]}\n{document}" if name in spreads else document
        try:
            errors = validate(schema, parse(source))
        except Exception as exc:  # a syntax error surfaces as GraphQLError too
            errors = [exc]
        if errors:
            problems[name] = [getattr(e, "message", str(e)) for e in errors]
    return problems


# ---------------------------------------------------------------------------------
# issue 13 -- BoM transfer through PICO's Work Instructions API (alpha).
# Kept apart from the documents above: PICO may change or drop these mutations, so
# "Test connection" checks them on their own (services/bom_transfer.py) and only the
# BoM transfer is disabled when they differ.

PROCESS_CREATE = (
    "mutation PicoProcessCreate($input: ProcessCreateInput!) {"
    " processCreate(input: $input) }"
)
PRODUCT_CREATE = (
    "mutation PicoProductCreate($input: ProductCreateInput!) {"
    " productCreate(input: $input) }"
)
STATION_CREATE = (
    "mutation PicoStationCreate($input: StationCreateInput!) {"
    " stationCreate(input: $input) }"
)

WORK_INSTRUCTION_DOCUMENTS = {
    "PicoProcessCreate": PROCESS_CREATE,
    "PicoProductCreate": PRODUCT_CREATE,
    "PicoStationCreate": STATION_CREATE,
}

# The Work Instructions part of schema.graphql the documents above rely on, verbatim
# in meaning: the live schema must agree with it field by field.
WORK_INSTRUCTION_SDL = """
type Mutation {
  processCreate(input: ProcessCreateInput!): Boolean
  productCreate(input: ProductCreateInput!): Boolean
  stationCreate(input: StationCreateInput!): Boolean
}
input TextInput { text: String! }
input ProcessActionInput { id: ID! description: TextInput }
input ProcessStepInput {
  id: ID!
  name: String!
  instructionText: TextInput
  actions: [ProcessActionInput!]
}
input ProcessDefInput {
  id: ID!
  name: String!
  description: String
  steps: [ProcessStepInput!]!
}
input ProcessCreateInput { process: ProcessDefInput! }
input ProductDefInput {
  id: ID!
  name: String!
  partNumber: String
  revision: String
  processes: [ProductProcessInput!]!
}
input ProductProcessInput { processId: ID! dependsOn: [ID!] }
input ProductCreateInput { product: ProductDefInput! }
input StationDefInput { id: ID! name: String! }
input StationCreateInput { station: StationDefInput! }
"""
