"""The ``attributes`` and ``excludedAttributes`` parameters (RFC 7644 3.4.2.5 and 3.9): which
attributes of a returned resource go into the response.

Names are in attribute notation (RFC 7644 3.10: ``name.givenName``, optionally behind the
schema's URN), case-insensitive (RFC 7643 2.1). ``id`` and ``schemas`` are returned always.
"""

from __future__ import annotations

from typing import Any

from django_scim import constants, exceptions

ALWAYS = frozenset({"id", "schemas"})
_URNS = tuple(u.lower() + ":" for u in (constants.SchemaURI.USER, constants.SchemaURI.GROUP))


def parse(names: Any) -> dict[str, set[str]]:
    """``{attribute: sub-attributes}`` of a comma-separated string or a list of names (an empty
    set: the whole attribute); lower-cased."""
    if names is None:
        return {}
    if isinstance(names, str):
        names = names.split(",")
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise exceptions.BadRequestError("attributes must be a list of attribute names.",
                                         scim_type="invalidSyntax")
    whole: set[str] = set()
    parts: dict[str, set[str]] = {}
    for raw in names:
        name = raw.strip().lower()
        for urn in _URNS:
            name = name.removeprefix(urn)
        top, _, sub = name.partition(".")
        if sub:
            parts.setdefault(top, set()).add(sub)
        elif top:
            whole.add(top)
    return {top: set() if top in whole else parts.get(top, set()) for top in whole | set(parts)}


def _each(value: Any, keep: Any) -> Any:
    """Apply ``keep(dict)`` to a complex value or to each element of a multi-valued one."""
    if isinstance(value, list):
        return [keep(v) if isinstance(v, dict) else v for v in value]
    return keep(value) if isinstance(value, dict) else value


def select(resource: dict[str, Any], attributes: dict[str, set[str]],
           excluded: dict[str, set[str]]) -> dict[str, Any]:
    """``resource`` with only the attributes asked for, or without the excluded ones."""
    out: dict[str, Any] = {}
    for key, value in resource.items():
        lower = key.lower()
        if lower in ALWAYS:
            out[key] = value
        elif attributes:
            if lower not in attributes:
                continue
            subs = attributes[lower]
            out[key] = _each(value, lambda d, subs=subs: {k: v for k, v in d.items()
                                                          if k.lower() in subs}) if subs else value
        elif lower in excluded:
            subs = excluded[lower]
            if subs:
                out[key] = _each(value, lambda d, subs=subs: {k: v for k, v in d.items()
                                                              if k.lower() not in subs})
        else:
            out[key] = value
    return out


def select_document(doc: dict[str, Any], attributes: Any, excluded: Any) -> dict[str, Any]:
    """A resource or a ListResponse with ``select`` applied to its resources."""
    if attributes is not None and excluded is not None:
        raise exceptions.BadRequestError("attributes and excludedAttributes are mutually exclusive.",
                                         scim_type="invalidSyntax")
    wanted, unwanted = parse(attributes), parse(excluded)
    if not wanted and not unwanted:
        return doc
    if constants.SchemaURI.LIST_RESPONSE in doc.get("schemas", []):
        return {**doc, "Resources": [select(r, wanted, unwanted) for r in doc.get("Resources", [])]}
    return select(doc, wanted, unwanted)
