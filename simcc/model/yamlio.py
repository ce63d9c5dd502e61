"""Safe YAML reading for scenario files.

PyYAML's safe loader still lets through things a planner never means: a
repeated key silently wins, ``8:30`` becomes the integer 510, ``0123`` becomes
83, aliases can blow up into billions of nodes. This module reads the node
tree, rejects those, and returns plain Python data plus the line of every
value (so that errors can name the line).
"""
from __future__ import annotations

import os
import re

import yaml

from ..errors import Problem, ScenarioError

try:  # the C loader when PyYAML was built with libyaml
    _Loader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on the PyYAML build
    _Loader = yaml.SafeLoader

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_ALIASES = 100
MAX_NODES = 1_000_000
MAX_DEPTH = 50                # nesting of mappings and lists

_INT_TAG = "tag:yaml.org,2002:int"
_FLOAT_TAG = "tag:yaml.org,2002:float"
_BOOL_TAG = "tag:yaml.org,2002:bool"
_STR_TAG = "tag:yaml.org,2002:str"
_NULL_TAG = "tag:yaml.org,2002:null"
_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_SEXAGESIMAL = re.compile(r"^[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?$")
_LEADING_ZERO = re.compile(r"^[-+]?0[0-9_]+$")
_PLAIN_BOOL = re.compile(r"^(yes|no|on|off|y|n)$", re.IGNORECASE)


def _path(parts) -> str:
    return ".".join(str(p) for p in parts)


class _Builder:
    def __init__(self, loader):
        self.loader = loader
        self.lines: dict[str, int] = {}
        self.problems: list[Problem] = []
        self.nodes = 0
        self.aliases = 0
        self.seen: set[int] = set()

    def build(self, node, parts):
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise ScenarioError(
                [Problem(_path(parts), f"the file expands to more than {MAX_NODES:,} values", node.start_mark.line + 1)]
            )
        if id(node) in self.seen:  # an alias: the same node object met again
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                raise ScenarioError(
                    [
                        Problem(
                            _path(parts),
                            f"more than {MAX_ALIASES} aliases (*refs); write the values out",
                            node.start_mark.line + 1,
                        )
                    ]
                )
        if not isinstance(node, yaml.ScalarNode):
            self.seen.add(id(node))
        line = node.start_mark.line + 1
        self.lines[_path(parts)] = line
        if len(parts) > MAX_DEPTH:
            raise ScenarioError(
                [Problem(_path(parts[:MAX_DEPTH]), f"values are nested more than {MAX_DEPTH} levels deep", line)]
            )
        if not isinstance(node, yaml.ScalarNode) and node.tag not in (_MAP_TAG, _SEQ_TAG):
            # e.g. !!python/object/apply:os.system [...] or !!set: never constructed
            self.problems.append(Problem(_path(parts), f"unsupported YAML tag {node.tag}", line))
            return None
        if isinstance(node, yaml.MappingNode):
            self.loader.flatten_mapping(node)
            out: dict = {}
            first_line: dict = {}
            for key_node, value_node in node.value:
                key = self.build(key_node, parts + ["<key>"])
                if not isinstance(key, (str, int)) or isinstance(key, bool):
                    self.problems.append(
                        Problem(
                            _path(parts),
                            f"key {key!r} is not a name",
                            key_node.start_mark.line + 1,
                            "quote keys such as yes/no/on/off",
                        )
                    )
                    continue
                kline = key_node.start_mark.line + 1
                if key in out:
                    self.problems.append(
                        Problem(
                            _path(parts + [key]),
                            f"duplicate key {key!r} (first defined at line {first_line[key]})",
                            kline,
                        )
                    )
                    continue
                first_line[key] = kline
                out[key] = self.build(value_node, parts + [key])
                self.lines[_path(parts + [key])] = kline
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.build(v, parts + [i]) for i, v in enumerate(node.value)]
        return self._scalar(node, parts, line)

    def _scalar(self, node, parts, line):
        raw = node.value
        plain = not node.style  # unquoted: None from SafeLoader, "" from CSafeLoader
        if node.tag in (_INT_TAG, _FLOAT_TAG) and plain and _SEXAGESIMAL.match(raw):  # 1:45 and 1:45.5
            value = self.loader.construct_object(node, deep=True)
            self.problems.append(
                Problem(
                    _path(parts),
                    f"{raw} would be read as the base-60 number {value:g}",
                    line,
                    f'write a plain number (e.g. {value:g}), or quote it if it is text: "{raw}"',
                )
            )
            return raw
        if node.tag == _INT_TAG and plain:
            if _LEADING_ZERO.match(raw):
                self.problems.append(
                    Problem(
                        _path(parts),
                        f"{raw} has a leading zero and would be read as octal",
                        line,
                        "remove the leading zero",
                    )
                )
                return raw
        if node.tag == _BOOL_TAG and plain and _PLAIN_BOOL.match(raw):
            # YAML 1.1 turns yes/no/on/off into booleans; keep the word so that
            # a string field gets the word and a number field a clear error
            return raw
        if node.tag not in (_INT_TAG, _FLOAT_TAG, _BOOL_TAG, _STR_TAG, _NULL_TAG):
            hint = f'quote it if it is text, e.g. "{raw}"' if node.tag == "tag:yaml.org,2002:timestamp" else None
            self.problems.append(Problem(_path(parts), f"unsupported YAML tag {node.tag}", line, hint))
            return None
        try:
            return self.loader.construct_object(node, deep=True)
        except ValueError:  # e.g. an integer of more than 4300 digits
            self.problems.append(
                Problem(_path(parts), f"cannot read the number {raw[:20]}... ({len(raw)} characters)", line)
            )
            return None


def read_yaml(path: str | os.PathLike) -> tuple[object, dict[str, int]]:
    """Read a scenario file into plain data and a map of field path -> line.

    Raises
    ------
    ScenarioError
        For unreadable, oversized or malformed files, duplicate keys, base-60
        or octal-looking numbers, foreign tags and alias bombs.
    """
    name = os.fspath(path)
    try:
        size = os.path.getsize(name)
    except OSError as exc:
        raise ScenarioError([Problem("", f"cannot read {name}: {exc.strerror or exc}")]) from None
    if size > MAX_FILE_BYTES:
        raise ScenarioError(
            [Problem("", f"file is {size / 1e6:.1f} MB; scenario files are limited to {MAX_FILE_BYTES / 1e6:.0f} MB")],
            name,
        )
    try:
        with open(name, "rb") as fh:
            data = fh.read()
    except OSError as exc:  # a directory, no permission, ...
        raise ScenarioError([Problem("", f"cannot read {name}: {exc.strerror or exc}")]) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(
            [
                Problem(
                    "",
                    f"file is not UTF-8 text ({exc.reason} at byte {exc.start})",
                    data.count(b"\n", 0, exc.start) + 1,
                    "save the file as UTF-8",
                )
            ],
            name,
        ) from None
    return parse_yaml(text, name)


def parse_yaml(text: str, source: str | None = None) -> tuple[object, dict[str, int]]:
    """Parse scenario YAML text; see :func:`read_yaml`."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise ScenarioError([Problem("", "the file is empty")], source)
        builder = _Builder(loader)
        data = builder.build(node, [])
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        msg = f"YAML syntax: {exc.problem or exc.context}"
        lines = text.splitlines()
        if mark is not None and mark.line < len(lines) and "\t" in lines[mark.line]:
            msg += " (tabs are not allowed for indentation; use spaces)"
        raise ScenarioError([Problem("", msg, line)], source) from None
    except yaml.YAMLError as exc:
        raise ScenarioError([Problem("", f"YAML syntax: {exc}")], source) from None
    finally:
        loader.dispose()
    if builder.problems:
        raise ScenarioError(builder.problems, source)
    if not isinstance(data, dict):
        raise ScenarioError(
            [
                Problem(
                    "",
                    f"the top level must be a mapping of keys (name:, call_types:, ...), not a {type(data).__name__}",
                    node.start_mark.line + 1,
                )
            ],
            source,
        )
    return data, builder.lines
