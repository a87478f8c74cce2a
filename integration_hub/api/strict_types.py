"""JSON bodies are taken at their documented types.

DRF coerces on input: `"enabled": 0` becomes False and `"name": 5` becomes "5". The OpenAPI
schema promises a boolean and a string, and bad input gets a clear error naming the field
(DESIGN.md, "Invariants"), so a request body of another JSON type is a 400 instead.

Only for data given to a serializer as `Serializer(data=request.data)`: a batch import that
calls `run_validation` on CSV text (all strings) keeps DRF's coercion.
"""

from rest_framework import serializers

INVALID_TYPE = "Must be a JSON {expected}, not {actual}."

_JSON_NAMES = {
    bool: "boolean",
    int: "number",
    float: "number",
    str: "string",
    list: "array",
    dict: "object",
    type(None): "null",
}
# First match wins: MultipleChoiceField is a ChoiceField; EmailField, URLField, RegexField and
# SlugField are CharFields.
_EXPECTED: list[tuple[type[serializers.Field], tuple[type, ...], str]] = [
    (serializers.BooleanField, (bool,), "boolean"),
    (serializers.IntegerField, (int,), "integer"),
    (serializers.FloatField, (int, float), "number"),
    # Money and quantities are written as strings ("20.00") or whole numbers (1), never as
    # floats, which cannot hold them exactly.
    (serializers.DecimalField, (str, int), "string or whole number"),
    (serializers.CharField, (str,), "string"),
    (serializers.MultipleChoiceField, (list,), "array"),
    (serializers.ChoiceField, (str,), "string"),
    (serializers.DateField, (str,), "string"),
    (serializers.DateTimeField, (str,), "string"),
]


def _type_error(field: serializers.Field, value) -> str | None:
    """Why `value` is not of the JSON type `field` documents, or None if it is (or if the
    field is of a kind not checked here). null is left to DRF's allow_null."""
    if value is None:
        return None
    for field_class, accepted, expected in _EXPECTED:
        if not isinstance(field, field_class):
            continue
        is_wrong_bool = isinstance(value, bool) and bool not in accepted  # bool is an int
        if isinstance(value, accepted) and not is_wrong_bool:
            return None
        actual = _JSON_NAMES.get(type(value), type(value).__name__)
        return INVALID_TYPE.format(expected=expected, actual=actual)
    return None


# Put first in a serializer's bases to refuse request bodies of the wrong JSON types. (A comment,
# not a docstring: drf-spectacular would give it to every request body as its description.)
class StrictTypesMixin:
    def to_internal_value(self, data):
        if hasattr(self.root, "initial_data") and isinstance(data, dict):
            errors = {}
            for field in self._writable_fields:
                if field.source == "*" or field.field_name not in data:
                    continue
                message = _type_error(field, data[field.field_name])
                if message:
                    errors[field.field_name] = [message]
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)
