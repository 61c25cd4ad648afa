"""Load scene files, turning every problem into one readable message."""

from __future__ import annotations

import difflib
import os
import stat
import typing
from pathlib import Path

import yaml
from pydantic import BaseModel, ValidationError

from simulator.limits import LIMITS
from simulator.scene import EVENT_TYPES, Scene, SpawnEvent, StepSpec
from simulator.scene import Event as _Event

_EVENT_MODELS = {
    typing.get_args(m.model_fields["type"].annotation)[0]: m
    for m in typing.get_args(typing.get_args(_Event)[0])
}


class _StrictLoader(yaml.SafeLoader):
    """A safe YAML loader with limits: string keys only, each once per mapping; nesting at most
    ``max_yaml_depth`` deep; at most ``max_yaml_aliases`` aliases and ``max_yaml_nodes`` values once
    they are expanded; integers of at most ``max_int_digits`` digits."""

    def __init__(self, stream):
        super().__init__(stream)
        self._depth = 0
        self._aliases = 0

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > LIMITS.max_yaml_aliases:
                raise _limit(f"more than {LIMITS.max_yaml_aliases} aliases (*name)", self.peek_event().start_mark)
        self._depth += 1
        if self._depth > LIMITS.max_yaml_depth:
            raise _limit(f"nesting deeper than {LIMITS.max_yaml_depth} levels", self.peek_event().start_mark)
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            if not (isinstance(key_node, yaml.ScalarNode) and key_node.tag == "tag:yaml.org,2002:str"):
                shown = key_node.value if isinstance(key_node, yaml.ScalarNode) else f"a {key_node.id}"
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {str(shown)[:40]!r} is not a plain string; every key must be a name such as "
                    "'entities' or 'position'", key_node.start_mark)
            key = key_node.value
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}; each key may appear once per mapping", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_int(self, node):
        digits = sum(c.isdigit() for c in str(node.value))
        if digits > LIMITS.max_int_digits:
            raise _limit(f"an integer of {digits} digits (the limit is {LIMITS.max_int_digits})", node.start_mark)
        return super().construct_yaml_int(node)


_StrictLoader.add_constructor("tag:yaml.org,2002:int", _StrictLoader.construct_yaml_int)


class _YamlLimit(yaml.constructor.ConstructorError):
    """A YAML file beyond one of the limits (not malformed, just too much)."""


def _limit(what: str, mark) -> yaml.YAMLError:
    return _YamlLimit(None, None, f"the file has {what}; simplify it", mark)


def _count_values(raw, budget: int) -> int:
    """Values in `raw` with shared (aliased) parts counted each time they appear, up to `budget`."""
    count, stack = 0, [raw]
    while stack:
        item = stack.pop()
        count += 1
        if count > budget:
            return count
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return count


class SceneError(ValueError):
    """A scene file that cannot be loaded; the message names the file, the field, the value and the fix."""


def load_scene(path: str | Path) -> Scene:
    """Read and validate a scene YAML file (a regular file of at most ``max_scene_bytes``)."""
    path = Path(path)
    cap = LIMITS.max_scene_bytes
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))  # a FIFO must not block the open
    except FileNotFoundError:
        raise SceneError(f"{path}: no such scene file") from None
    except OSError as exc:
        raise SceneError(f"{path}: cannot read the scene file ({exc.strerror or exc})") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise SceneError(f"{path}: not a regular file (a folder, device, pipe or socket); give a scene .yaml file")
        if info.st_size > cap:
            raise SceneError(f"{path}: the file is {info.st_size} bytes; scene files are at most {cap} bytes")
        with os.fdopen(fd, "rb", closefd=False) as f:
            data = f.read(cap + 1)
    except OSError as exc:
        raise SceneError(f"{path}: cannot read the scene file ({exc.strerror or exc})") from None
    finally:
        os.close(fd)
    if len(data) > cap:
        raise SceneError(f"{path}: the file grew past {cap} bytes while being read; scene files are at most {cap} bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SceneError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8") from None
    return parse_scene(text, source=str(path))


def parse_scene(text: str, source: str = "<scene>") -> Scene:
    """Validate scene YAML text; `source` names it in errors."""
    if len(text) > LIMITS.max_scene_bytes:
        raise SceneError(f"{source}: the text is {len(text)} characters; scene files are at most "
                         f"{LIMITS.max_scene_bytes} bytes")
    try:
        raw = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 (a SafeLoader subclass)
    except (ValueError, RecursionError) as exc:  # e.g. a number the YAML constructor cannot convert
        raise SceneError(f"{source}: malformed YAML: {str(exc)[:200]}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        kind = "too much YAML" if isinstance(exc, _YamlLimit) else "malformed YAML"
        raise SceneError(f"{source}: {kind}{where}: {problem}") from None
    if not isinstance(raw, dict):
        raise SceneError(f"{source}: a scene file must be a mapping of keys (name, entities, steps, ...), "
                         f"got {type(raw).__name__}")
    if _count_values(raw, LIMITS.max_yaml_nodes) > LIMITS.max_yaml_nodes:
        raise SceneError(f"{source}: the file expands to more than {LIMITS.max_yaml_nodes} values (aliases "
                         "repeat what they point to); simplify it")
    try:
        return Scene.model_validate(raw)
    except ValidationError as exc:
        raise SceneError(f"{source}: " + describe_errors(exc, Scene)) from None


def describe_errors(exc: ValidationError, root: type[BaseModel]) -> str:
    """One line per pydantic error: field path, bad value, what is allowed."""
    lines = []
    seen = set()
    for err in exc.errors(include_url=False):
        loc, model = _clean_loc(err["loc"], root)
        path = _format_path(loc)
        line = _describe_one(err, path, model)
        if line not in seen:
            seen.add(line)
            lines.append(line)
    return "\n".join(lines[:8]) + (f"\n(and {len(lines) - 8} more)" if len(lines) > 8 else "")


def _describe_one(err: dict, path: str, model: type[BaseModel] | None) -> str:
    kind, value = err["type"], err.get("input")
    if kind == "extra_forbidden":
        key = path.rsplit(".", 1)[-1]
        allowed = sorted(model.model_fields) if model else []
        close = difflib.get_close_matches(key, allowed, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return f"{path}: unknown key {key!r}{hint} Allowed keys here: {', '.join(allowed)}"
    if kind == "union_tag_invalid":
        return f"{path}.type: unknown event type {_show(err['ctx'].get('tag'))}; allowed: {', '.join(EVENT_TYPES)}"
    if kind == "union_tag_not_found":
        return f"{path}: an event needs a 'type'; allowed: {', '.join(EVENT_TYPES)}"
    if kind == "literal_error":
        return f"{path}: {_show(value)} is not allowed; expected {err['ctx']['expected']}"
    if kind == "missing":
        return f"{path}: required field is missing"
    msg = err["msg"].removeprefix("Value error, ")
    if kind == "value_error" and not path:
        return msg
    return f"{path or '(top level)'}: {msg} (got {_show(value)})" if "got" not in msg else f"{path}: {msg}"


def _show(value) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _clean_loc(loc: tuple, root: type[BaseModel]) -> tuple[tuple, type[BaseModel] | None]:
    """Drop union-tag segments from a pydantic location and find the model that owns its end."""
    out: list = []
    model: type[BaseModel] | None = root
    for part in loc:
        if isinstance(part, str) and part in _EVENT_MODELS and out and isinstance(out[-1], int):
            model = _EVENT_MODELS[part]
            continue
        out.append(part)
        if isinstance(part, str) and model is not None and part in model.model_fields:
            model = _nested_model(model, part)
    return tuple(out), model


def _nested_model(model: type[BaseModel], field: str) -> type[BaseModel] | None:
    if model is StepSpec and field == "events":
        return None  # resolved by the union tag that follows
    if model is SpawnEvent and field == "entity":
        from simulator.scene import EntitySpec

        return EntitySpec
    for arg in _flatten(model.model_fields[field].annotation):
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg
    return model


def _flatten(tp) -> list:
    args = typing.get_args(tp)
    return [tp] if not args else [a for t in args for a in _flatten(t)]


def _format_path(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out

