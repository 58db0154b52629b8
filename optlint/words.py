"""The words both passes build messages and summaries with."""

from __future__ import annotations


def plural(n: int, noun: str, nouns: str | None = None) -> str:
    """`1 tensor`, `3 tensors`; `nouns` for an irregular plural (`2 biases`)."""
    return f"{n} {noun if n == 1 else nouns or noun + 's'}"


def verb(items, singular: str, plural_form: str) -> str:
    """The form that agrees with how many `items` there are: verb(missing, "is", "are")."""
    return singular if len(items) == 1 else plural_form
