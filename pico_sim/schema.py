"""The PICO GraphQL schema, its resolvers, and webhook payload shaping.

Everything goes through graphql-core: requests are parsed, validated and
executed against ``schema.graphql``, so clients get standard GraphQL errors, and
webhook payloads are produced by executing the subscriber's fragment.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from graphql import (
    DocumentNode,
    ExecutionContext,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLSchema,
    OperationType,
    build_schema,
    execute,
    get_operation_ast,
    is_leaf_type,
    is_non_null_type,
    parse,
    validate,
)

from .filters import COMPLETION_FILTER, filter_records
from .times import format_time, parse_time
from .work_instructions import MUTATION_RESOLVERS as WORK_INSTRUCTION_RESOLVERS

SDL_PATH = Path(__file__).with_name("schema.graphql")

# Which subscription stream a webhook follows, by its fragment's type condition.
STREAM_FIELDS = {
    "Operation": "operationsStream",
    "SubOperation": "subOperationsStream",
    "OperationOrderComplete": "operationOrderCompletesStream",
}


@dataclass
class RequestContext:
    """Per-request execution context: the simulator and the root fields run."""

    sim: Any
    fields: Counter = field(default_factory=Counter)
    refuse_alias: str | None = None
    answer: str | None = None  # the "false" or "null" fault: answer, do nothing


class PicoExecutionContext(ExecutionContext):
    """graphql-core's execution with two server-side differences, same responses.

    * Plain leaf fields of dict sources are resolved without building a
      ResolveInfo, where graphql-core spends most of its per-field time: a list
      of 10,000 operations has over 100,000 fields. Anything unusual (a
      resolver, a null in a non-null field, a serialisation error) takes the
      standard path, so results and errors are unchanged.
    * Root mutation fields run as graphql-core runs them by default: in order,
      and the first failing one stops the rest. Every mutation here returns
      ``MutationResponse!``, so ``data`` is then null: the aliases before the
      failing one took effect, the failing one and those after it did not, and
      no response says which took effect. Clients must resend every alias
      without a non-null answer (saves are idempotent).
    """

    def execute_field(self, parent_type, source, field_nodes, path):
        name = field_nodes[0].name.value
        field_def = parent_type.fields.get(name)
        if field_def is None or field_def.resolve or type(source) is not dict:
            return super().execute_field(parent_type, source, field_nodes, path)
        nullable = not is_non_null_type(field_def.type)
        leaf_type = field_def.type if nullable else field_def.type.of_type
        if is_leaf_type(leaf_type):
            value = source.get(name)
            if value is None and nullable:
                return None
            if value is not None:
                try:
                    return leaf_type.serialize(value)
                except (TypeError, ValueError, GraphQLError):
                    pass
        return super().execute_field(parent_type, source, field_nodes, path)


def execute_request(
    query: str, variables: dict | None, operation_name: str | None, context
) -> dict:
    """Parse, validate and execute one request; return the response body."""
    document, errors = _checked_document(query)
    if errors:
        return {"errors": [error.formatted for error in errors]}
    operation = get_operation_ast(document, operation_name)
    if operation and operation.operation == OperationType.SUBSCRIPTION:
        message = "subscriptions are delivered by webhooks only: use webhookSubscribe"
        return {"errors": [GraphQLError(message, operation).formatted]}
    result = execute(
        SCHEMA,
        document,
        variable_values=variables,
        operation_name=operation_name,
        context_value=context,
        execution_context_class=PicoExecutionContext,
    )
    return result.formatted


@lru_cache(maxsize=256)
def _checked_document(query: str) -> tuple[DocumentNode | None, list[GraphQLError]]:
    """Parse and validate a request text, once: clients repeat the same texts."""
    try:
        document = parse(query)
    except GraphQLError as error:
        return None, [error]
    return document, validate(SCHEMA, document)


# -- webhook fragments ------------------------------------------------------------


@lru_cache(maxsize=256)
def compile_response_fragment(fragment: str) -> tuple[str, DocumentNode]:
    """Check a responseFragment; return its stream field and a runnable document.

    The first fragment of the text is the response; further fragments may be
    spread inside it. It is wrapped in ``subscription { <stream> { ...F } }`` and
    validated as a whole, so unknown fields or unused fragments are rejected.
    """
    try:
        definitions = parse(fragment).definitions
    except GraphQLError as error:
        raise GraphQLError(f"invalid responseFragment: {error.message}") from error
    if not all(isinstance(node, FragmentDefinitionNode) for node in definitions):
        raise GraphQLError("responseFragment must contain fragment definitions only")
    main = definitions[0]
    stream = STREAM_FIELDS.get(main.type_condition.name.value)
    if stream is None:
        allowed = ", ".join(STREAM_FIELDS)
        raise GraphQLError(f"responseFragment must be a fragment on one of: {allowed}")
    document = parse(
        f"subscription {{ {stream} {{ ...{main.name.value} }} }}\n{fragment}"
    )
    errors = validate(SCHEMA, document)
    if errors:
        details = "; ".join(error.message for error in errors)
        raise GraphQLError(f"invalid responseFragment: {details}")
    return stream, document


def shape_event(fragment: str, event: dict) -> dict:
    """The webhook body for one event: ``{"data": {<stream>: <selected fields>}}``."""
    stream, document = compile_response_fragment(fragment)
    result = execute(
        SCHEMA,
        document,
        root_value={stream: event},
        execution_context_class=PicoExecutionContext,
    )
    if result.errors:
        raise ValueError(f"cannot shape event: {result.errors[0].message}")
    return {"data": result.data}


# -- scalars ----------------------------------------------------------------------


def _serialize_time(value: str | datetime) -> str:
    return value if isinstance(value, str) else format_time(value)


def _parse_time(value: Any) -> datetime:
    try:
        return parse_time(value)
    except (TypeError, ValueError) as error:
        raise GraphQLError(
            f"Time must be an RFC 3339 date-time with offset, got {value!r}"
        ) from error


def _parse_url(value: Any) -> str:
    parts = urlsplit(value) if isinstance(value, str) else None
    if not parts or parts.scheme not in ("http", "https") or not parts.netloc:
        raise GraphQLError(f"URL must be an absolute http(s) URL, got {value!r}")
    return value


# -- resolvers --------------------------------------------------------------------


def _root_resolver(function):
    """Adapt ``function(sim, **args)`` to a root field resolver that counts calls."""

    def resolve(_root, info, **args):
        if info.context.refuse_alias == info.path.key:
            raise GraphQLError(f"injected refusal of {info.path.key}")
        if info.context.answer and info.operation.operation == OperationType.MUTATION:
            return {"false": False, "null": None}[info.context.answer]
        info.context.fields[info.field_name] += 1
        return function(info.context.sim, **args)

    return resolve


def _message(text: str) -> dict:
    return {"message": text}


_RESOLVERS = {
    "Query": {
        "operations": lambda sim, where=None: filter_records(
            sim.store.operations(), where
        ),
        "subOperations": lambda sim, where=None: filter_records(
            sim.store.sub_operations(), where
        ),
        "operationOrderCompletes": lambda sim, where=None: filter_records(
            sim.store.completions(), where, COMPLETION_FILTER
        ),
    },
    "Mutation": {
        "operationOrderSave": lambda sim, input: _message(sim.floor.save_order(input)),
        "operationOrderCancel": lambda sim, input: _message(
            sim.floor.cancel_orders(input)
        ),
        "webhookSubscribe": lambda sim, input: _message(sim.webhooks.subscribe(input)),
        "webhookUnsubscribe": lambda sim, subscriptionID: _message(
            sim.webhooks.unsubscribe(subscriptionID)
        ),
        **WORK_INSTRUCTION_RESOLVERS,  # issue 13: processCreate, productCreate, ...
    },
}


def _build_schema() -> GraphQLSchema:
    schema = build_schema(SDL_PATH.read_text(encoding="utf-8"))
    time_type, url_type = schema.type_map["Time"], schema.type_map["URL"]
    time_type.serialize, time_type.parse_value = _serialize_time, _parse_time
    url_type.parse_value = _parse_url
    for type_name, resolvers in _RESOLVERS.items():
        fields = schema.type_map[type_name].fields
        for field_name, function in resolvers.items():
            fields[field_name].resolve = _root_resolver(function)
    return schema


SCHEMA = _build_schema()
