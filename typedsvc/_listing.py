"""``typedsvc routes``: each route of some services, with its parameters, as text or JSON."""

from __future__ import annotations

from typing import TypedDict

from typedsvc._service import Service, routes_of
from typedsvc._signature import describe, type_text
from typedsvc._specs import RouteSpec, StaticSpec, WebsocketSpec


class ParameterRow(TypedDict):
    name: str
    # "path", "query", "header", "cookie" or "body".
    source: str
    # The name on the wire: a query key, a header or cookie name; the group's name.
    wire_name: str
    type: str
    required: bool


class RouteRow(TypedDict):
    service: str
    kind: str
    methods: list[str]
    url: str
    handler: str
    parameters: list[ParameterRow]
    # Why url_for() cannot write its path; None when it can. Static and websocket
    # routes are no url_for() targets.
    not_reversible: str | None


def route_rows(services: list[type[Service]]) -> list[RouteRow]:
    rows: list[RouteRow] = []
    for service in services:
        for attr, spec in routes_of(service).routes:
            row = RouteRow(
                service=service.__name__,
                kind="http",
                methods=list(spec.methods),
                url=spec.url,
                handler=spec.where,
                parameters=[],
                not_reversible=None,
            )
            if isinstance(spec, RouteSpec):
                row["parameters"] = _parameters(spec, getattr(service, attr))
                row["not_reversible"] = spec.reversal
            elif isinstance(spec, StaticSpec):
                row["kind"] = "static"
                row["parameters"] = [
                    ParameterRow(
                        name="filename",
                        source="path",
                        wire_name="filename",
                        type="str",
                        required=True,
                    )
                ]
                row["not_reversible"] = "a static route"
            elif isinstance(spec, WebsocketSpec):
                row["kind"] = "websocket"
                row["not_reversible"] = "a websocket route"
            rows.append(row)
    return rows


def _parameters(spec: RouteSpec, handler: object) -> list[ParameterRow]:
    _, annotations = describe(handler) if callable(handler) else (None, {})
    rows = [
        ParameterRow(
            name=group,
            source="path",
            wire_name=group,
            type=type_text(annotations[group]) if group in annotations else "str",
            required=group in spec.required_groups,
        )
        for group in spec.groups
    ]
    rows.extend(
        ParameterRow(
            name=entry.name,
            source=entry.source.location,
            wire_name=entry.source.wire,
            type=type_text(entry.annotation),
            required=not entry.has_default,
        )
        for entry in spec.inputs
    )
    return rows


def table(rows: list[RouteRow]) -> str:
    """The rows as aligned columns: METHOD, URL, HANDLER, PARAMETERS, URL_FOR."""
    lines = [("METHOD", "URL", "HANDLER", "PARAMETERS", "URL_FOR")]
    for row in rows:
        methods = "WS" if row["kind"] == "websocket" else ",".join(row["methods"])
        parameters = ", ".join(_parameter_text(parameter) for parameter in row["parameters"])
        reversal = row["not_reversible"]
        lines.append(
            (
                methods,
                row["url"],
                row["handler"],
                parameters or "-",
                "yes" if reversal is None else f"no: {reversal}",
            )
        )
    widths = [max(len(line[column]) for line in lines) for column in range(4)]
    return "\n".join(
        "  ".join(
            [*(cell.ljust(width) for cell, width in zip(line, widths, strict=False)), line[4]]
        )
        for line in lines
    )


def _parameter_text(parameter: ParameterRow) -> str:
    where = parameter["source"]
    if parameter["wire_name"] != parameter["name"]:
        where += f' "{parameter["wire_name"]}"'
    optional = "" if parameter["required"] else "?"
    return f"{parameter['name']}{optional}: {parameter['type']} ({where})"
