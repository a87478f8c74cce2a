"""The one table of error answers the API documents (DESIGN.md, "REST API": errors).

An operation lists the codes it can answer, `error_responses(400, 401, 403, 404)`, and may say
what a code means for it: `error_responses(401, 404, notes={404: "No such customer."})`.
429 is not listed here: the schema adds it, with `Retry-After`, to every operation.
"""

from drf_spectacular.utils import OpenApiResponse

DESCRIPTIONS = {
    400: "Invalid input: each field named with its messages.",
    401: "No or bad credentials.",
    403: "The role does not allow this.",
    404: "No such object (an id that names nothing, or one beyond the database's range).",
    409: "A conflict: the resource already exists, or a conflicting run is going on.",
    413: "The body is over 2.5 MB.",
    502: "The partner failed or could not be reached; the message names the cause.",
}


# What a write that names ids and business keys can answer: invalid input, no or bad
# credentials, a role without access, an id naming nothing, a conflict.
WRITE_ERROR_CODES = (400, 401, 403, 404, 409)


def error_responses(*codes: int, notes: dict[int, str] | None = None) -> dict:
    """`responses=` entries for these error codes, in the house words unless `notes` says
    what a code means for this operation."""
    notes = notes or {}
    unknown = set(codes) - DESCRIPTIONS.keys() - notes.keys()
    if unknown:
        raise ValueError(f"No description for status {sorted(unknown)}: pass it in notes.")
    return {
        code: OpenApiResponse(description=notes.get(code, DESCRIPTIONS.get(code, "")))
        for code in codes
    }
