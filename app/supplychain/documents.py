"""Reading an evidence document: bounded in size, JSON with the line and column of a
syntax error, and helpers that walk the parsed value naming the field that is wrong."""

from __future__ import annotations

import json
from typing import Any

from app.errors import DomainError, validation


class DocumentError(ValueError):
    """A document that cannot be evidence; `field` names the part (a JSON path) at fault."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field

    def domain_error(self) -> DomainError:
        return validation(str(self), f"document.{self.field}" if self.field else "document")


def parse_json(text: str) -> Any:
    """The JSON value of `text`; a syntax error says where (line and column)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise DocumentError(
            f"document is not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}",
            "",
        ) from error
    except RecursionError as error:
        raise DocumentError("document is nested too deeply", "") from error


def obj(value: Any, field: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise DocumentError(f"{field or 'the document'} must be a JSON object", field)
    return value


_WORDS: dict[type, str] = {dict: "an object", list: "a list", str: "a string"}


def get(parent: dict[str, Any], key: str, path: str, kind: type | tuple[type, ...]) -> Any:
    """parent[key], which must be of `kind`; `path` is the parent's JSON path."""
    field = f"{path}.{key}" if path else key
    value = parent.get(key)
    if not isinstance(value, kind):
        names = kind if isinstance(kind, tuple) else (kind,)
        wanted = " or ".join(_WORDS.get(k, k.__name__) for k in names)
        raise DocumentError(f"{field} must be {wanted}", field)
    return value


def optional(parent: Any, key: str) -> Any:
    """parent[key] when parent is an object (None otherwise): for what a tool may leave out."""
    return parent.get(key) if isinstance(parent, dict) else None


def text(value: Any, limit: int = 500) -> str | None:
    """A string value, cut to `limit` characters; None for anything else."""
    return value[:limit] if isinstance(value, str) and value else None
