"""A cheap look at a parsed document that refuses what is too big before validation runs.

graphql-core's validation (and the depth and alias rules that re-walk every fragment at each
spread) costs time in proportion to the *expanded* document: twenty fragments that each spread
the next twice expand to a million fields, and 450 copies of one field cost the overlap rule
O(n²). This module measures the expanded document without expanding it: every fragment
definition is walked once and its tally memoised, so a spread costs one lookup. Counts
saturate at ``_CAP`` so doubling chains stay small integers.

Measured per operation (and per fragment, so an unused fragment cannot hide work): depth,
aliases, fields, the most repeats of one response key in a selection set, and a cost in which a
list field multiplies what is under it (``first`` when given, else ``DEFAULT_LIST_SIZE``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
)
from graphql.type import GraphQLInterfaceType

from gql.errors import GraphQLErrorCode, extensions_for

_CAP = 1 << 40
DEFAULT_LIST_SIZE = 10
PAGED_LISTS = frozenset({"edges", "nodes"})


@dataclass(frozen=True)
class Limits:
    max_depth: int = 12
    max_aliases: int = 30
    max_fields: int = 600
    max_repeats: int = 10
    max_cost: int = 20_000
    max_fragments: int = 50
    max_variable_values: int = 1_000  # coercing 15,000 list items takes ~0.8 s


@dataclass
class Tally:
    """What one selection set (or fragment) amounts to once every spread is expanded."""

    fields: int = 0
    aliases: int = 0
    depth: int = 0
    cost: int = 0
    repeats: int = 0  # most copies of one response key in any selection set below
    keys: Counter[str] = field(default_factory=Counter)  # this level's response keys

    def add(self, other: Tally, times: int = 1) -> None:
        self.fields = _sat(self.fields + other.fields * times)
        self.aliases = _sat(self.aliases + other.aliases * times)
        self.cost = _sat(self.cost + other.cost * times)
        self.depth = max(self.depth, other.depth)
        self.repeats = max(self.repeats, other.repeats)
        for key, count in other.keys.items():
            self.keys[key] = _sat(self.keys[key] + count * times)


class DocumentTooExpensive(Exception):
    pass


def _sat(value: int) -> int:
    return value if value < _CAP else _CAP


def _named(type_: Any) -> tuple[GraphQLNamedType | None, bool]:
    """The named type under wrappers, and whether a list wraps it."""
    is_list = False
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        is_list = is_list or isinstance(type_, GraphQLList)
        type_ = type_.of_type
    return type_, is_list


class _Walker:
    def __init__(
        self,
        schema: GraphQLSchema | None,
        fragments: dict[str, FragmentDefinitionNode],
        variables: dict[str, Any],
        defaults: dict[str, Any],
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.defaults = defaults
        self.memo: dict[tuple[str, bool], Tally] = {}
        self.active: set[str] = set()

    def fragment(self, name: str, paged: bool) -> Tally:
        key = (name, paged)
        if key in self.memo:
            return self.memo[key]
        if name in self.active:
            raise DocumentTooExpensive(f"Fragment '{name}' spreads itself (a fragment cycle).")
        definition = self.fragments.get(name)
        if definition is None:
            return Tally()  # validation reports the unknown fragment
        self.active.add(name)
        try:
            parent = self._type(definition.type_condition.name.value)
            tally = self.selection_set(definition.selection_set, parent, paged)
        finally:
            self.active.discard(name)
        self.memo[key] = tally
        return tally

    def _type(self, name: str) -> GraphQLNamedType | None:
        return self.schema.get_type(name) if self.schema is not None else None

    def selection_set(
        self, selection_set: SelectionSetNode, parent: GraphQLNamedType | None, paged: bool
    ) -> Tally:
        tally = Tally()
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                self._field(selection, parent, paged, tally)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = self._type(condition.name.value) if condition else parent
                tally.add(self.selection_set(selection.selection_set, inner, paged))
            elif isinstance(selection, FragmentSpreadNode):
                tally.add(self.fragment(selection.name.value, paged))
        if tally.keys:
            tally.repeats = max(tally.repeats, max(tally.keys.values()))
        return tally

    def _field(
        self, node: FieldNode, parent: GraphQLNamedType | None, paged: bool, tally: Tally
    ) -> None:
        key = node.alias.value if node.alias else node.name.value
        tally.keys[key] = _sat(tally.keys[key] + 1)
        tally.fields = _sat(tally.fields + 1)
        tally.cost = _sat(tally.cost + 1)
        if node.alias:
            tally.aliases = _sat(tally.aliases + 1)
        if node.selection_set is None:
            return
        return_type: GraphQLNamedType | None = None
        is_list = False
        if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            definition = parent.fields.get(node.name.value)
            if definition is not None:
                return_type, is_list = _named(definition.type)
        first = self._first(node)
        inner = self.selection_set(node.selection_set, return_type, first is not None)
        if first is not None:
            times = first
        elif is_list and not (paged and node.name.value in PAGED_LISTS):
            times = DEFAULT_LIST_SIZE
        else:
            times = 1
        below = Tally(
            fields=inner.fields,
            aliases=inner.aliases,
            depth=inner.depth + 1,
            cost=_sat(inner.cost * times),
            repeats=inner.repeats,
        )
        tally.add(below)

    def _first(self, node: FieldNode) -> int | None:
        for argument in node.arguments or ():
            if argument.name.value not in ("first", "last"):
                continue
            value = argument.value
            if isinstance(value, IntValueNode):
                return _page(int(value.value))
            if isinstance(value, VariableNode):
                given = self.variables.get(value.name.value, self.defaults.get(value.name.value))
                return _page(given) if isinstance(given, int) else DEFAULT_LIST_SIZE * 2
            return DEFAULT_LIST_SIZE
        return None


MAX_PAGE = 100  # connections serve at most this many nodes whatever `first` asks


def _page(value: int) -> int:
    return min(max(value, 1), MAX_PAGE)


def _operation_tally(walker: _Walker, operation: OperationDefinitionNode) -> Tally:
    root: GraphQLNamedType | None = None
    if walker.schema is not None:
        root = walker.schema.get_root_type(operation.operation)
    return walker.selection_set(operation.selection_set, root, False)


def _variable_defaults(document: DocumentNode) -> dict[str, Any]:
    defaults: dict[str, Any] = {}
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            for variable in definition.variable_definitions or ():
                if isinstance(variable.default_value, IntValueNode):
                    defaults[variable.variable.name.value] = int(variable.default_value.value)
    return defaults


def measure(
    document: DocumentNode,
    schema: GraphQLSchema | None = None,
    variables: dict[str, Any] | None = None,
) -> dict[str, Tally]:
    """The tally of every operation (by name, "" for an anonymous one) and fragment."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    walker = _Walker(schema, fragments, variables or {}, _variable_defaults(document))
    tallies: dict[str, Tally] = {}
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            name = definition.name.value if definition.name else ""
            tallies[f"operation {name}".strip()] = _operation_tally(walker, definition)
    for name in fragments:
        tallies[f"fragment {name}"] = walker.fragment(name, False)
    return tallies


def count_values(value: object, limit: int) -> int:
    """How many values (objects, lists, scalars) ``value`` holds; stops counting past ``limit``."""
    count = 0
    stack = [value]
    while stack and count <= limit:
        item = stack.pop()
        count += 1
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return count


def check(
    document: DocumentNode,
    limits: Limits,
    schema: GraphQLSchema | None = None,
    variables: dict[str, Any] | None = None,
) -> GraphQLError | None:
    """None when the document is within every limit, else the error that refuses it."""
    if variables and count_values(variables, limits.max_variable_values) > (
        limits.max_variable_values
    ):
        return _refusal(
            f"The variables hold more than {limits.max_variable_values} values; "
            "send fewer at a time."
        )
    fragment_count = sum(isinstance(d, FragmentDefinitionNode) for d in document.definitions)
    if fragment_count > limits.max_fragments:
        return _refusal(
            f"The document defines {fragment_count} fragments; at most "
            f"{limits.max_fragments} are allowed."
        )
    try:
        tallies = measure(document, schema, variables)
    except DocumentTooExpensive as exc:
        return _refusal(str(exc))
    except RecursionError:
        return _refusal("The document is nested too deeply.")
    for where, tally in tallies.items():
        problem = _over_limit(where, tally, limits)
        if problem:
            return _refusal(problem)
    return None


def _over_limit(where: str, tally: Tally, limits: Limits) -> str | None:
    label = f"'{where.split(' ', 1)[1]}'" if " " in where else "The operation"
    if tally.depth > limits.max_depth:
        return f"{label} exceeds maximum operation depth of {limits.max_depth}."
    if tally.aliases > limits.max_aliases:
        return f"{label} has {_n(tally.aliases)} aliases; at most {limits.max_aliases} are allowed."
    if tally.repeats > limits.max_repeats:
        return (
            f"{label} selects one field {_n(tally.repeats)} times in one selection set; "
            f"at most {limits.max_repeats} are allowed."
        )
    if tally.fields > limits.max_fields:
        return (
            f"{label} selects {_n(tally.fields)} fields once fragments are expanded; "
            f"at most {limits.max_fields} are allowed."
        )
    if tally.cost > limits.max_cost:
        return f"{label} costs {_n(tally.cost)}; at most {limits.max_cost} is allowed."
    return None


def _n(value: int) -> str:
    return "more than 10^12" if value >= _CAP else str(value)


def _refusal(message: str) -> GraphQLError:
    return GraphQLError(message, extensions=extensions_for(GraphQLErrorCode.QUERY_TOO_COMPLEX))
