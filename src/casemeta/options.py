"""Command-line options checked by the rules of the plan schema: one definition for an option and its plan key.

`casemeta qca --incl-cut` and a plan's `qca: [{incl_cut: ...}]` are the same setting; so are `fit --method`
and `models: {method: ...}`. Each option's argparse `type=` is made here from the part of plan.schema.yaml
that defines its plan key (options without a plan key are defined under the schema's
`$defs/command_line`), and checked by the validator plans are checked by (casemeta.coded.yaml_files: finite
numbers only). A bad value raises CasemetaError, which argparse lets through to `casemeta`'s one error
message: the option, the value as typed, what is wrong and what was expected.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import reduce

from casemeta.errors import CasemetaError
from casemeta.coded.yaml_files import FiniteValidator, packaged_schema, problem_text

NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
INTEGER = re.compile(r"^[+-]?\d+$")
NOT_FINITE = re.compile(r"^[+-]?(nan|inf|infinity)$", re.IGNORECASE)


def schema_part(pointer: str) -> dict:
    """The part of plan.schema.yaml at a JSON pointer such as "$defs/qca/properties/incl_cut"."""
    return reduce(lambda part, key: part[key], pointer.split("/"), packaged_schema("plan.schema.yaml"))


def number(text: str, option: str, given: str | None = None):
    """A number as typed: an int where it is whole digits, a float otherwise (nan and inf included, for
    the schema to refuse by name)."""
    value = text.strip()
    if INTEGER.match(value):
        return int(value)
    if NUMBER.match(value) or NOT_FINITE.match(value):
        return float(value)
    raise CasemetaError(f"{option} {given if given is not None else text!r}: {value!r} is not a number")


def _scalar(text: str):
    """A value of an enum as typed: a whole number as an int (dir_exp's 0 and 1), else the text."""
    value = text.strip()
    return int(value) if INTEGER.match(value) else value


def check(value, schema: dict, option: str, text: str, expected: str, extra: Callable | None = None):
    """`value` (read from `text`) if it follows `schema` (and `extra`, which returns a problem or None)."""
    errors = sorted(FiniteValidator(schema).iter_errors(value), key=lambda e: list(e.absolute_path))
    problem = problem_text(errors[0]) if errors else (extra(value) if extra else None)
    if problem:
        raise CasemetaError(f"{option} {text!r}: {problem}; expected {expected}")
    return value


def plan_option(option: str, pointer: str, parse: Callable[[str], object], expected: str,
                extra: Callable | None = None) -> Callable[[str], object]:
    """An argparse `type=`: the text parsed by `parse(text)`, then checked against the schema at `pointer`."""
    key = pointer.rsplit("/", 1)[-1]
    where = f" (as {key} in a plan)" if "command_line" not in pointer else ""

    def convert(text: str):
        return check(parse(text), schema_part(pointer), option, text, expected + where, extra)
    convert.__name__ = option.lstrip("-").replace("-", "_")  # argparse names the type in its own messages
    return convert


def choice(option: str, pointer: str) -> Callable[[str], str]:
    """An option with the values of a plan key's enum."""
    values = schema_part(pointer)["enum"]
    return plan_option(option, pointer, str.strip, "one of " + ", ".join(map(str, values)))


def one_of(option: str, values) -> Callable[[str], str]:
    """An option whose values are a list the code holds (export formats, workflow steps, interval kinds): checked
    by the same validator, with the same message, as a plan key's enum (`--format 'pdf': 'pdf' is not one of
    [...]; expected one of ...`), not argparse's own usage error."""
    values = list(values)
    schema = {"enum": values}

    def convert(text: str):
        return check(text.strip(), schema, option, text, "one of " + ", ".join(values))
    convert.__name__ = option.lstrip("-").replace("-", "_")
    return convert


def whole_number(option: str, low: int, high: int) -> Callable[[str], int]:
    """A whole number from low to high, checked (and worded) as plan numbers are."""
    schema = {"type": "integer", "minimum": low, "maximum": high}

    def convert(text: str):
        return check(number(text, option), schema, option, text, f"a whole number from {low} to {high}")
    convert.__name__ = option.lstrip("-").replace("-", "_")
    return convert


def pairs(text: str, option: str, value: Callable[[str], object]) -> dict:
    """`A=1,B=0` as {"A": value("1"), "B": value("0")}; a name given twice is refused."""
    out: dict = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, rest = part.partition("=")
        if not sep or not name.strip():
            raise CasemetaError(f"{option} {text!r}: {part!r} is not NAME=VALUE; expected NAME=VALUE pairs "
                                "separated by commas, e.g. A=1,B=0")
        if name.strip() in out:
            raise CasemetaError(f"{option} {text!r}: {name.strip()!r} is given twice; keep one")
        out[name.strip()] = value(rest)
    return out


def anchor_problem(anchors) -> str | None:
    """Direct calibration needs the crossover strictly between full non-membership and full membership."""
    full_out, crossover, full_in = anchors
    if not (full_out < crossover < full_in or full_out > crossover > full_in):
        return (f"anchors {full_out:g}, {crossover:g}, {full_in:g}: the crossover must lie strictly between "
                "full non-membership and full membership")
    return None


def _incl_cut(text: str):
    parts = text.split(",")
    return number(text, "--incl-cut") if len(parts) == 1 else [number(p, "--incl-cut", text) for p in parts]


def _calibrate(text: str) -> dict:
    return pairs(text, "--calibrate", lambda a: [number(x, "--calibrate", text) for x in a.split(":")])


def _calibrate_order(value: dict) -> str | None:
    return next((f"{name}: {p}" for name, a in value.items() if (p := anchor_problem(a))), None)


QCA = "$defs/qca/properties"
INCL_CUT = plan_option("--incl-cut", f"{QCA}/incl_cut", _incl_cut,
                       "a number from 0 to 1, or two such numbers I,E")
N_CUT = plan_option("--n-cut", f"{QCA}/n_cut", lambda t: number(t, "--n-cut"), "a whole number 1 or more")
PRI_CUT = plan_option("--pri-cut", f"{QCA}/pri_cut", lambda t: number(t, "--pri-cut"), "a number from 0 to 1")
DIR_EXP = plan_option("--dir-exp", f"{QCA}/dir_exp", lambda t: pairs(t, "--dir-exp", _scalar),
                      "CONDITION=1 or CONDITION=0 pairs separated by commas, e.g. A=1,B=0")
CALIBRATE = plan_option("--calibrate", f"{QCA}/calibrate", _calibrate,
                        "VAR=full_out:crossover:full_in (three finite numbers), comma-separated", _calibrate_order)
METHOD = choice("--method", "properties/models/properties/method")
CORRECTION = choice("--correction", "properties/models/properties/correction")
DRAWS = plan_option("--draws", "$defs/command_line/draws", lambda t: number(t, "--draws"),
                    "a whole number from 1 to 100000000")
SEED = plan_option("--seed", "$defs/command_line/seed", lambda t: number(t, "--seed"),
                   "a whole number from 0 to 4294967295")


def column_list(text: str, option: str) -> list[str]:
    """`A,B,C` as names; an empty name (`A,,B`) or a name given twice is refused."""
    names = [c.strip() for c in text.split(",")]
    if not text.strip() or any(not n for n in names):
        raise CasemetaError(f"{option} {text!r}: an empty column name; expected column names separated by commas, e.g. A,B,C")
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise CasemetaError(f"{option} {text!r}: {', '.join(map(repr, twice))} given more than once; name each column once")
    return names


def missing_columns(source, wanted: list[str], columns: list[str], options: str = "") -> str | None:
    """The problem with columns named on the command line that the file lacks, or None. A name that differs
    from one of the file's only by Unicode normalisation (é typed as one character, stored as e + accent, or
    the other way round) or by spaces around it is named as such: the two look alike but are not the same."""
    missing = [c for c in wanted if c not in columns]
    if not missing:
        return None
    hints = []
    for name in missing:
        twin = next((c for c in columns if unicodedata.normalize("NFC", str(c)) == unicodedata.normalize("NFC", name)), None)
        if twin is not None:
            hints.append(f"{name!r} looks like the file's column {twin!r} but is encoded differently (Unicode "
                         "normalisation NFC vs NFD); type the name as the file spells it, or re-save the file")
            continue
        twin = next((c for c in columns if str(c).strip() == name.strip()), None)
        if twin is not None:
            hints.append(f"{name!r} differs from the file's column {twin!r} by spaces")
    what = f" ({options})" if options else ""
    text = f"{source}: no column {', '.join(map(repr, missing))}{what}; the columns are {', '.join(map(str, columns))}"
    return text + ("; " + "; ".join(hints) if hints else "")

