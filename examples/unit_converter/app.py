"""Unit converter: tools an agent can call (over MCP, the control API or `cove tool call`).

`convert` is pure; `stats` reads what `convert` counted in state. Each call
runs in the sandbox under this module's limits, and the count it writes
commits only when the call succeeds.
"""

from cove_sdk import HostError, ToolProvider, WitWorld, state, tool

__all__ = ["ToolProvider", "WitWorld"]

# Factor to the base unit of each dimension (metre, kilogram, second).
FACTORS = {
    "length": {"mm": 0.001, "cm": 0.01, "m": 1.0, "km": 1000.0, "in": 0.0254, "ft": 0.3048,
               "mi": 1609.344},
    "mass": {"g": 0.001, "kg": 1.0, "t": 1000.0, "oz": 0.028349523125, "lb": 0.45359237},
    "time": {"ms": 0.001, "s": 1.0, "min": 60.0, "h": 3600.0, "d": 86400.0},
}  # fmt: skip
TEMPERATURES = ("C", "F", "K")
UNITS = sorted({u for table in FACTORS.values() for u in table} | set(TEMPERATURES))


def _dimension(unit):
    for name, table in FACTORS.items():
        if unit in table:
            return name
    return "temperature"


def _to_kelvin(value, unit):
    return {"C": value + 273.15, "F": (value - 32) * 5 / 9 + 273.15, "K": value}[unit]


def _from_kelvin(value, unit):
    return {"C": value - 273.15, "F": (value - 273.15) * 9 / 5 + 32, "K": value}[unit]


@tool(
    "convert",
    f"Convert a value between units of length, mass, time or temperature ({', '.join(UNITS)}).",
    {
        "type": "object",
        "properties": {
            "value": {"type": "number"},
            "from": {"type": "string", "enum": UNITS},
            "to": {"type": "string", "enum": UNITS},
        },
        "required": ["value", "from", "to"],
        "additionalProperties": False,
    },
)
def convert(value, **units):
    source, target = units["from"], units["to"]
    dimension = _dimension(source)
    if _dimension(target) != dimension:
        raise HostError("invalid-input", f"cannot convert {source} ({dimension}) to {target}")
    if dimension == "temperature":
        result = _from_kelvin(_to_kelvin(value, source), target)
    else:
        table = FACTORS[dimension]
        result = value * table[source] / table[target]
    state.incr(f"count:{dimension}")
    return {"value": round(result, 10), "unit": target}


@tool("stats", "How many conversions were made, by dimension.")
def stats():
    dimensions = [*FACTORS, "temperature"]
    return {name: state.get(f"count:{name}", 0) for name in dimensions}
