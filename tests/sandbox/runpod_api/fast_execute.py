"""A projection-only executor for plain queries.

graphql-core's general executor costs ~0.3 ms per pod for the SDK's pod list,
so 10,000 pods would take seconds and make the sandbox, not the collection,
the bottleneck in inventory benchmarks. Validated queries made only of fields,
aliases and literal arguments (what the SDK and the collection send) are
answered here by walking the selection set over the resolvers' dicts; anything
else (fragments, directives, variables, resolver errors) returns ``None`` and
the caller falls back to graphql-core.
"""

from graphql import GraphQLList, GraphQLNonNull, get_named_type
from graphql.execution.values import get_argument_values
from graphql.language import FieldNode, OperationDefinitionNode


class _Unsupported(Exception):
    pass


def _unwrap(gql_type):
    while isinstance(gql_type, GraphQLNonNull):
        gql_type = gql_type.of_type
    return gql_type


def _compile(object_type, selection_set):
    """Turn a selection set into a list of (key, name, args, is_list, sub-plan)."""
    plan = []
    for node in selection_set.selections:
        if not isinstance(node, FieldNode) or node.directives:
            raise _Unsupported()
        name = node.name.value
        key = node.alias.value if node.alias else name
        if name == "__typename":
            plan.append((key, None, object_type.name, False, None))
            continue
        field_def = object_type.fields[name]
        args = get_argument_values(field_def, node) if node.arguments else {}
        field_type = _unwrap(field_def.type)
        is_list = isinstance(field_type, GraphQLList)
        sub = None
        if node.selection_set is not None:
            sub = _compile(get_named_type(field_type), node.selection_set)
        plan.append((key, name, args, is_list, sub))
    return plan


def _run(plan, parent):
    out = {}
    get = parent.get
    for key, name, args, is_list, sub in plan:
        if name is None:
            out[key] = args  # __typename
            continue
        value = get(name)
        if callable(value):
            value = value(None, **args)
        if value is not None and sub is not None:
            value = [None if item is None else _run(sub, item) for item in value] if is_list else _run(sub, value)
        out[key] = value
    return out


def fast_execute(schema, document, root_value):
    """Return the ``data`` dict, or None when this query needs graphql-core."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) != 1 or len(document.definitions) != 1:
        return None
    operation = operations[0]
    if operation.operation.value != "query" or operation.variable_definitions or operation.directives:
        return None
    try:
        return _run(_compile(schema.query_type, operation.selection_set), root_value)
    except Exception:  # pylint: disable=broad-except
        return None
