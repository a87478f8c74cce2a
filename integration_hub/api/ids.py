"""Database ids in paths and queries. Ids are 64-bit integers; one beyond that range names
nothing (404), and must never reach a query, where SQLite would overflow (500)."""

from rest_framework import exceptions

# A path segment that is an id: 1 to 18 digits always fit a signed 64-bit integer.
ID = r"[0-9]{1,18}"
ID_MAXIMUM = 10**18 - 1


def id_parse(value, *, field: str) -> int:
    """A whole number given for `field` (a query parameter or a body value): 400 if it is not
    one, 404 if it is beyond any id."""
    if isinstance(value, bool):
        raise exceptions.ValidationError({field: ["Must be a whole number."]})
    if isinstance(value, str):
        if not (value.isascii() and value.isdecimal()):
            raise exceptions.ValidationError({field: ["Must be a whole number."]})
        value = int(value)
    if not isinstance(value, int):
        raise exceptions.ValidationError({field: ["Must be a whole number."]})
    if not 1 <= value <= ID_MAXIMUM:
        raise exceptions.NotFound(f"No object with {field} {value}.")
    return value
