"""Copies for the LR preview that share no mutable state with the real run and copy no tensor of it.

`copy.deepcopy` shares functions: a `LambdaLR` whose lambda counts its calls in a closed-over list would
be advanced by the preview. And it copies tensors: `LambdaLR(opt, self.lr_at)` would copy `self` with
its weights. Here, while the preview copies a scheduler or a factory:
  - a function is copied with its own closure cells, defaults and a namespace of its own, in which
    the globals its code names are copies; a value that cannot be copied (a lock, a file) is shared,
    and named in a note;
  - the model's tensors and the optimizer's are never copied: the copies share them; the model's
    modules are copied (sharing those tensors), so that what a schedule writes to `self` stays in the
    copy; where a module cannot be copied (one holding a process group), the modules are shared, and
    a note says so;
  - references to the real optimizer, its `param_groups`, each group and its `state` lead to the
    stand-in's, so a scheduler subclass that keeps `optimizer.param_groups` writes the stand-in's LRs.
Classes are not copied: state kept in class attributes is shared with the real run.
"""

from __future__ import annotations

import contextlib
import copy
import threading
import types
from collections.abc import Iterator

import torch

_DISPATCH_LOCK = threading.Lock()
_SHARED = "optlint-shared"  # memo key: what could not be copied, by name
MODULES_SHARED = "the model's modules"


def isolated_copy(obj, model, aliases: list, standin=None) -> tuple[object, list[str]]:
    """A deep copy of `obj` (a scheduler, a factory) as described above, and what it shares with the real run.

    With a stand-in, references to the real optimizer lead to it; without (to copy a factory, which is
    given the stand-in), the real optimizer stays itself, so that a factory that builds on it is caught."""
    memo = _memo(model, aliases, standin)
    try:
        return _copied(obj, {**memo, _SHARED: []})
    except Exception:  # noqa: BLE001 - a module that cannot be copied: share the modules, copy the rest
        return _copied(obj, {**memo, **{id(m): m for m in model.modules()}, _SHARED: [MODULES_SHARED]})


def _memo(model, aliases: list, standin) -> dict:
    memo = {}
    for module in model.modules():
        memo.update({id(value): value for value in vars(module).values() if isinstance(value, torch.Tensor)})
    for tensor in (*model.parameters(), *model.buffers()):
        memo[id(tensor)] = tensor
    for alias in aliases:  # the optimizer and the framework wrappers around it
        memo[id(alias)] = standin or alias
        groups, state = getattr(alias, "param_groups", None), getattr(alias, "state", None)
        if isinstance(groups, list):
            memo.update({id(p): p for group in groups for p in group["params"]})
        if isinstance(state, dict):
            memo.update({id(t): t for per_param in state.values() for t in per_param.values()
                         if isinstance(t, torch.Tensor)})
        if standin is not None and isinstance(groups, list) and len(groups) == len(standin.param_groups):
            memo[id(groups)] = standin.param_groups
            memo.update({id(real): fake for real, fake in zip(groups, standin.param_groups)})
        if standin is not None and isinstance(state, dict):
            memo[id(state)] = standin.state
    return memo


def _copied(obj, memo: dict) -> tuple[object, list[str]]:
    with _functions_copied():
        copied = copy.deepcopy(obj, memo)
    return copied, list(dict.fromkeys(memo[_SHARED]))


@contextlib.contextmanager
def _functions_copied() -> Iterator[None]:
    # copy.deepcopy looks functions and methods up in this table by their exact type; the lock keeps two
    # previews in two threads from restoring each other's entries.
    dispatch = copy._deepcopy_dispatch  # noqa: SLF001 - the only hook deepcopy has for functions
    with _DISPATCH_LOCK:
        saved = {kind: dispatch.get(kind) for kind in (types.FunctionType, types.MethodType)}
        dispatch[types.FunctionType] = _copy_function
        dispatch[types.MethodType] = _copy_method
        try:
            yield
        finally:
            dispatch.update(saved)


def _copy_function(function: types.FunctionType, memo: dict) -> types.FunctionType:
    cells = None if function.__closure__ is None else tuple(types.CellType() for _ in function.__closure__)
    copied = types.FunctionType(function.__code__, _namespace(function, memo), function.__name__, None, cells)
    memo[id(function)] = copied  # before the cells are filled: a recursive inner function refers to itself
    for cell, original, name in zip(cells or (), function.__closure__ or (), function.__code__.co_freevars):
        with contextlib.suppress(ValueError):  # an empty cell: a variable not assigned yet
            cell.cell_contents = _copied_or_shared(original.cell_contents, memo, name)
    copied.__defaults__ = _copied_or_shared(function.__defaults__, memo, f"{function.__qualname__} defaults")
    copied.__kwdefaults__ = _copied_or_shared(function.__kwdefaults__, memo, f"{function.__qualname__} defaults")
    copied.__dict__.update(_copied_or_shared(vars(function), memo, function.__qualname__))
    copied.__qualname__, copied.__module__, copied.__doc__ = function.__qualname__, function.__module__, function.__doc__
    return copied


def _namespace(function: types.FunctionType, memo: dict) -> dict:
    """The globals of the copied function: the module's, with copies of the values its code names
    (one namespace per module, shared by all the functions copied from it)."""
    real = function.__globals__
    namespace = memo.get(id(real))
    if namespace is None:
        namespace = memo[id(real)] = dict(real)
    for name in _global_names(function.__code__):
        if name in real and namespace.get(name) is real[name] and not isinstance(real[name], types.ModuleType):
            namespace[name] = _copied_or_shared(real[name], memo, name)
    return namespace


def _global_names(code: types.CodeType) -> set[str]:
    """The names a code object and the functions defined in it may look up as globals."""
    names = set(code.co_names)
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            names |= _global_names(constant)
    return names


def _copy_method(method: types.MethodType, memo: dict) -> types.MethodType:
    """The function is copied too (deepcopy shares it), so that the globals the method writes are copies."""
    owner = _copied_or_shared(method.__self__, memo, type(method.__self__).__name__)
    return types.MethodType(copy.deepcopy(method.__func__, memo), owner)


def _copied_or_shared(value, memo: dict, name: str):
    try:
        return copy.deepcopy(value, memo)
    except Exception:  # noqa: BLE001 - locks, files, C objects: shared, and said so in a note
        memo[_SHARED].append(name)
        return value
