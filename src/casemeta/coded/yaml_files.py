"""YAML configuration files (plans, codebooks, concepts) read strictly, and checked against their JSON schema.

PyYAML's safe_load keeps the last of two equal keys (a plan with `models:` twice silently loses the
first), expands aliases without limit (a few lines of `&a [*a, *a, ...]` become billions of nodes for
the schema check to walk) and accepts `.nan` and `.inf` as numbers. Here a key given twice is refused
with both lines, a document that aliases expand beyond MAX_NODES nodes (or into a loop) is refused
before anything walks it, and the schema's `number` and `integer` are finite numbers only. Every schema
problem names the line it is on.

The same validator checks the command line's options (casemeta.options), so that an option and its
plan key follow one rule.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import TypeVar

import jsonschema
import yaml
from jsonschema.validators import extend

from casemeta.errors import CasemetaError

MAX_NODES = 100_000  # far above any real plan or codebook (hundreds of nodes), far below an alias bomb

T = TypeVar("T")
# What a warm process (casemeta.forkserver) made of the project's codebooks and plans before forking its jobs, with
# the files it was made from: (kind, paths as given) -> (each file's bytes and modification time, what else it was
# made from, the object). Empty in any other process.
_KEPT: dict[tuple, tuple[tuple[tuple[bytes, int], ...], object, object]] = {}
_KEEPING = False


@contextmanager
def keeping() -> Iterator[None]:
    """Within the block, what kept() makes is kept for the processes forked from this one afterwards."""
    global _KEEPING
    _KEEPING = True
    try:
        yield
    finally:
        _KEEPING = False


def _contents(paths: Sequence[str | Path]) -> tuple[tuple[bytes, int], ...] | None:
    """Each file's bytes and modification time (a file changed and changed back while it was read has another)."""
    try:
        return tuple((Path(p).read_bytes(), os.stat(p).st_mtime_ns) for p in paths)
    except OSError:
        return None


def kept(kind: str, paths: Sequence[str | Path], make: Callable[[], T], uses: object = None) -> T:
    """make(), or what a warm process made with it from the same paths (as given: the objects hold their path),
    holding the same bytes with the same modification times, and from the very same `uses` object (a job forked
    from it: parsing and checking a plan against its codebook took ~25 ms of every job). `make` must read only
    `paths` and `uses`; its result is shared, so it must not be changed (the codebook and plan objects are frozen)."""
    if not _KEPT and not _KEEPING:
        return make()
    key = (kind, *map(os.fspath, paths))
    before = _contents(paths)
    found = _KEPT.get(key)
    if found is not None and before is not None and found[0] == before and found[1] is uses:
        return found[2]  # type: ignore[return-value]
    made = make()
    if _KEEPING and before is not None and _contents(paths) == before:  # not kept if a file changed meanwhile
        _KEPT[key] = (before, uses, made)
    return made


@cache
def packaged_schema(name: str) -> dict:
    """One of casemeta's own schemas (plan.schema.yaml, ...), read once, by libyaml where PyYAML has it (a
    tenth of the pure-Python parser's time, in every command: the options are checked against it). Only
    for these files: a user's file is read by _Loader, whose messages name the line of a mistake."""
    return yaml.load(files("casemeta").joinpath(name).read_text("utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def _finite(kind: str):
    base = jsonschema.Draft202012Validator.TYPE_CHECKER

    def check(checker, instance) -> bool:
        return base.is_type(instance, kind) and (not isinstance(instance, float) or math.isfinite(instance))
    return check


# JSON has no NaN or infinity; YAML's .nan and .inf (and the command line's "nan", "inf") are not numbers here
FiniteValidator = extend(
    jsonschema.Draft202012Validator,
    type_checker=jsonschema.Draft202012Validator.TYPE_CHECKER.redefine_many(
        {"number": _finite("number"), "integer": _finite("integer")}),
)


def problem_text(error: jsonschema.ValidationError) -> str:
    """A schema problem in words; a non-finite number is named as such (not "nan is not of type 'number'")."""
    instance = error.instance
    if isinstance(instance, float) and not math.isfinite(instance):
        return f"{instance} is not a finite number"
    if error.validator in ("oneOf", "anyOf") and error.context:
        finite = [e for e in error.context if isinstance(e.instance, float) and not math.isfinite(e.instance)]
        if finite:
            return problem_text(finite[0])
        fitting = [e for e in error.context if e.validator != "type"]  # the branch of the value's own type
        if fitting:
            return problem_text(fitting[0])
    return error.message


def schema_problems(data, schema: dict, lines: dict[tuple, int] | None = None) -> list[str]:
    """Every way `data` breaks `schema`: 'line N, at a/b/c: message' (the line where known)."""
    out = []
    for error in FiniteValidator(schema).iter_errors(data):
        where = "/".join(map(str, error.absolute_path)) or "top level"
        line = line_of(lines or {}, tuple(error.absolute_path))
        out.append((f"line {line}, " if line else "") + f"at {where}: {problem_text(error)}")
    return out


def line_of(lines: dict[tuple, int], path: tuple) -> int | None:
    """The line of the value at `path`, or of its nearest enclosing value with a known line."""
    path = tuple(path)
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return lines.get(())


# LibYAML's parser where PyYAML was built with it (the wheels are): the pure-Python scanner took about
# 0.1 s of every job that reads a codebook; the constructor, and so the check below, stays Python.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_SafeLoader):
    """SafeLoader that refuses a mapping key given twice."""

    def construct_mapping(self, node, deep=False):
        seen: dict = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                first = seen.get(key)
            except TypeError:  # an unhashable key: PyYAML's own error follows
                break
            if first is not None:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} is given twice (first on line {first}); keep one", key_node.start_mark)
            seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep)


def _expanded_size(root: yaml.Node) -> int:
    """How many nodes the document has once every alias is expanded (memoised: linear in the nodes written);
    MAX_NODES + 1 for a loop of aliases."""
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def size(node: yaml.Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in active:
            return MAX_NODES + 1
        active.add(key)
        if isinstance(node, yaml.MappingNode):
            total = 1 + sum(size(k) + size(v) for k, v in node.value)
        elif isinstance(node, yaml.SequenceNode):
            total = 1 + sum(size(v) for v in node.value)
        else:
            total = 1
        active.discard(key)
        sizes[key] = total = min(total, MAX_NODES + 1)
        return total
    return size(root)


def _lines(node: yaml.Node, path: tuple, out: dict[tuple, int], seen: set[int]) -> None:
    """The line of every value reachable without passing an alias twice."""
    if id(node) in seen:
        return
    seen.add(id(node))
    out.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            name = key.value if isinstance(key, yaml.ScalarNode) else None
            if name is not None:
                out.setdefault((*path, name), key.start_mark.line + 1)
                _lines(value, (*path, name), out, seen)
    elif isinstance(node, yaml.SequenceNode):
        for i, value in enumerate(node.value):
            _lines(value, (*path, i), out, seen)


def load_yaml(path: str | Path, what: str) -> tuple[object, dict[tuple, int]]:
    """A YAML file's data and the line of each value (by its path of keys and indexes); `what` names the
    file in errors ("analysis plan"). Duplicate keys and alias bombs are refused with their line."""
    path = Path(path)
    if not path.is_file():
        raise CasemetaError(f"{path}: {what} not found")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise CasemetaError(f"{path}: not a readable YAML {what}: {exc}") from exc
    except OSError as exc:
        from casemeta.errors import file_error

        raise file_error(exc, "read", path) from exc
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return {}, {}
        if _expanded_size(node) > MAX_NODES:
            raise CasemetaError(f"{path}: line {node.start_mark.line + 1}: its aliases (*name) expand to more than "
                                f"{MAX_NODES:,} values (or into a loop), far more than any {what} holds; write the values out")
        data = loader.construct_document(node)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f": line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise CasemetaError(f"{path}{where}: not a readable YAML {what}: {problem}") from None
    finally:
        loader.dispose()
    lines: dict[tuple, int] = {}
    _lines(node, (), lines, set())
    return data, lines


def read_checked_yaml(path: str | Path, schema: dict, what: str, schema_name: str) -> dict:
    """A YAML file as a dict, checked against a JSON schema (all problems at once, each with its line);
    `what` and `schema_name` name the file and its schema in errors."""
    data, lines = load_yaml(path, what)
    data = {} if data is None else data
    problems = schema_problems(data, schema, lines)
    if problems:
        raise CasemetaError(f"{path}: the {what} does not follow the {schema_name} schema", problems)
    return data
