"""GraphQL's own input errors, answered the way a phone can show them.

A value of the wrong type (text for an ``Int``, ``"1"`` for the ``Gender`` enum), a missing
required input field or an unknown one is refused by graphql-core before any resolver runs,
with an English message and no code. :class:`ChineseCoercionErrors` rewrites those errors:
``extensions.code`` is ``BAD_USER_INPUT``, ``extensions.field`` the input's dotted path
(``input.basicInfo.gender``; for a variable, starting with the variable's name) and the
message is Chinese. Other errors (syntax, unknown selections, our own) pass unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from graphql import (
    ArgumentNode,
    DocumentNode,
    GraphQLEnumType,
    GraphQLError,
    GraphQLSchema,
    ListValueNode,
    Node,
    ObjectFieldNode,
    ObjectValueNode,
)
from graphql import ExecutionResult as GraphQLExecutionResult
from graphql.language import Visitor, visit
from strawberry.extensions import SchemaExtension
from strawberry.types.execution import ExecutionResult

from gql.errors import GraphQLErrorCode

CODE = GraphQLErrorCode.BAD_USER_INPUT.value

_VARIABLE = re.compile(
    r"Variable '\$(?P<var>\w+)' has invalid value(?: at (?P<at>[^:]*))?: (?P<detail>.*)", re.S
)
_SCALARS = {
    "Int": "应为整数",
    "Float": "应为数字",
    "Boolean": "应为 true 或 false",
    "String": "应为文本",
    "ID": "应为文本形式的编号",
}
_SCALAR = re.compile(r"(?P<type>Int|Float|Boolean|String|ID) cannot represent")
_ENUM_VALUE = re.compile(r"Value '.*' does not exist in '(?P<type>\w+)' enum", re.S)
_ENUM_LITERAL = re.compile(r"Enum '(?P<type>\w+)' cannot represent", re.S)
_REQUIRED_FIELD = re.compile(r"to include required field '(?P<name>\w+)'")
_UNKNOWN_FIELD = re.compile(r"not to include unknown field '(?P<name>\w+)'")
_NOT_NULL = re.compile(r"non-null type '[^']*' (?:not to be None|to be provided)")
_OBJECT = re.compile(r"Expected value of type '[^']*' to be an object")
_ARGUMENT = re.compile(r"Argument '[^(']*\((?P<name>\w+):\)' of type '[^']*' is required")


@dataclass(frozen=True)
class Translation:
    field: str
    message: str


def _path(var: str, at: str | None) -> str:
    # graphql-core writes ".basicInfo.gender" and "[0]"; the API's paths are dotted
    tail = re.sub(r"\[(\d+)\]", r".\1", at or "")
    return f"{var}{tail}".rstrip(".")


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _enum_values(schema: GraphQLSchema, type_name: str) -> str:
    enum = schema.get_type(type_name)
    if not isinstance(enum, GraphQLEnumType):
        return ""
    return "，可选值：" + "、".join(enum.values)


def _label(path: str) -> str:
    return f"“{path}”" if path else "此项"


def describe(detail: str, path: str, schema: GraphQLSchema) -> Translation | None:
    """The Chinese sentence for one of graphql-core's input messages; None: not an input error."""
    rules: list[tuple[re.Pattern[str], Callable[[re.Match[str]], Translation]]] = [
        (
            _SCALAR,
            lambda m: Translation(path, f"{_label(path)}{_SCALARS[m['type']]}，请检查后重试。"),
        ),
        (
            _ENUM_VALUE,
            lambda m: Translation(
                path, f"{_label(path)}的值不在可选范围内{_enum_values(schema, m['type'])}。"
            ),
        ),
        (
            _ENUM_LITERAL,
            lambda m: Translation(
                path, f"{_label(path)}的值不在可选范围内{_enum_values(schema, m['type'])}。"
            ),
        ),
        (
            _REQUIRED_FIELD,
            lambda m: Translation(
                _join(path, m["name"]), f"缺少必填项“{_join(path, m['name'])}”。"
            ),
        ),
        (
            _UNKNOWN_FIELD,
            lambda m: Translation(
                _join(path, m["name"]), f"“{_join(path, m['name'])}”不是此处可以填写的项目。"
            ),
        ),
        (_NOT_NULL, lambda m: Translation(path, f"{_label(path)}不能为空。")),
        (_OBJECT, lambda m: Translation(path, f"{_label(path)}应为一个对象（{{…}}）。")),
        (_ARGUMENT, lambda m: Translation(m["name"], f"缺少必填参数“{m['name']}”。")),
    ]
    for pattern, make in rules:
        if match := pattern.search(detail):
            return make(match)
    return None


class _LiteralPaths(Visitor):
    """Dotted paths of the values written inline in a document's arguments."""

    def __init__(self) -> None:
        super().__init__()
        self.paths: dict[int, str] = {}

    def enter_argument(self, node: ArgumentNode, *_: Any) -> None:
        self._walk(node.value, node.name.value)

    def _walk(self, node: Node, path: str) -> None:
        self.paths[id(node)] = path
        if isinstance(node, ObjectValueNode):
            for field in node.fields:
                self.paths[id(field)] = _join(path, field.name.value)
                self._walk(field.value, _join(path, field.name.value))
        elif isinstance(node, ListValueNode):
            for index, value in enumerate(node.values):
                self._walk(value, f"{path}.{index}")


def _literal_path(document: DocumentNode | None, error: GraphQLError) -> str:
    if document is None or not error.nodes:
        return ""
    finder = _LiteralPaths()
    visit(document, finder)
    node = error.nodes[0]
    path = finder.paths.get(id(node), "")
    if isinstance(node, ObjectFieldNode):  # an unknown field: the message names it again
        path = path.rpartition(".")[0]
    return path


def translate(
    error: GraphQLError, schema: GraphQLSchema, document: DocumentNode | None
) -> GraphQLError:
    """The error in Chinese with code and path when it is an input error; else the error."""
    if (error.extensions or {}).get("code"):
        return error  # ours, or already translated
    variable = _VARIABLE.match(error.message)
    found: Translation | None
    if variable is not None:
        path = _path(variable["var"], variable["at"])
        found = describe(variable["detail"], path, schema) or Translation(
            path, f"{_label(path)}的值不正确，请检查后重试。"
        )
    else:
        found = describe(error.message, _literal_path(document, error), schema)
        if found is None:
            return error
    return GraphQLError(
        found.message,
        nodes=error.nodes,
        path=error.path,
        extensions={"code": CODE, "field": found.field},
    )


class ChineseCoercionErrors(SchemaExtension):
    """Rewrites input coercion errors (see the module's doc). Register it after MaskErrors:
    extensions finish in reverse order, so it runs first and the masking leaves its errors."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if isinstance(result, (GraphQLExecutionResult, ExecutionResult)) and result.errors:
            schema = self.execution_context.schema._schema
            document = self.execution_context.graphql_document
            result.errors = [translate(e, schema, document) for e in result.errors]
