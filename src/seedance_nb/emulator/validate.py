"""Checks on create bodies per route (reference §2, §3, §5, §10.4).

Errors are raised as `EmuError` with Ark codes; the AceData route turns them
into `bad_request` (see app.py). JSON null means "not given". What a model can do
comes from `catalog.capabilities`; nothing here restates a family's limits.

Here: the route table, the model lookup and `check_json`, which sends a body to the
rules of validate_ark (a new video) or validate_v25 (a draft's final); Comet's
multipart creates are checked in validate_comet. `Params` and the readers are in
params.py, images and frame sizes in geometry.py.
"""
from __future__ import annotations

from typing import Any, Mapping, Optional

from .. import catalog
from .envelopes import EmuError
# Every name the emulator and the tests use stays importable from here.
from .geometry import closest_ratio, decode_data_url, image_size, own_aspect_size  # noqa: F401
from .params import Params, _bad, _given, _missing
from .validate_ark import AUTO_DURATION_S, EDIT_DURATION_S, _content, _generation  # noqa: F401
from .validate_comet import check_comet  # noqa: F401
from .validate_v25 import DraftLookup, _final

# route prefix -> (dialects whose wire ids it accepts, dialect used for capabilities)
_ROUTE_DIALECTS = {"ark": (("ark", "byteplus"), "ark"), "volc": (("comet-volc",), "comet-volc"),
                   "ace": (("acedata",), "acedata")}
REF_VIDEO_S = 5  # seconds billed per reference video (never fetched, §10.5)


def resolve_family(prefix: str, model: Any, endpoints: Mapping[str, str]) -> tuple[str, str]:
    """(family, model id the task reports) for `model` on this route; retired or unknown
    models are not found. An alias reports its dated id."""
    if model is None or model == "":
        raise _missing("model")
    if not isinstance(model, str):
        raise _bad("model", "`model` must be a string")
    dialects, _ = _ROUTE_DIALECTS[prefix]
    found: Optional[tuple[str, str]] = None
    if prefix == "ark" and model in endpoints:
        found = endpoints[model], "ark"
    for dialect in dialects:
        if found:
            break
        family = catalog.family_of_wire_id(model).get(dialect)
        if family is None:
            family = _alias(dialect, model)
        if family is not None:
            found = family, dialect
    if found is None or not catalog.lifecycle(*found).live:
        raise not_found_model(model)
    family, dialect = found
    return family, model if model in endpoints else catalog.WIRE_IDS[dialect][family]


def _alias(dialect: str, model: str) -> Optional[str]:
    """The family of an accepted alias (e.g. byteplus `dreamina-seedance-2-0-mini`)."""
    for spec in catalog.SPECS.values():
        if spec.aliases.get(model) == dialect and dialect in spec.ids:
            return spec.key
    return None


def not_found_model(model: str) -> EmuError:
    return EmuError(404, "InvalidEndpointOrModel.NotFound",
                    f"The model or endpoint {model} does not exist or you do not have access "
                    f"to it.", "model")


def check_json(prefix: str, body: Any, endpoints: Mapping[str, str],
               find_draft: Optional[DraftLookup] = None) -> Params:
    """Validate an Ark-JSON (or AceData) create body for route `prefix`."""
    if not isinstance(body, dict):
        raise _bad("body", "the request body must be a JSON object")
    family, model = resolve_family(prefix, _given(body, "model"), endpoints)
    dialect = _ROUTE_DIALECTS[prefix][1]
    caps = catalog.capabilities(family, dialect)
    if caps is None:  # e.g. an endpoint mapped to a family this route lacks
        raise not_found_model(model)
    content = _content(_given(body, "content"))
    if content.drafts:
        params = _final(prefix, body, caps, content, find_draft)
    else:
        params = _generation(prefix, body, caps, content)
    params.model = model
    return params
