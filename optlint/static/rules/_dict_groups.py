"""Shared by OPT003 and OPT004: every dict param group handed to a torch optimizer class."""

from __future__ import annotations

from typing import Iterator

from optlint.static.groups import ParamGroup, added_groups, constructions


def dict_groups(model) -> Iterator[tuple[str, ParamGroup]]:
    """(optimizer class, group) for groups in constructions and in `opt.add_param_group({...})`."""
    for construction in constructions(model):
        for group in construction.groups:
            if group.is_dict:
                yield construction.cls, group
    for _, instance, group in added_groups(model):
        if instance.cls is not None:
            yield instance.cls, group
