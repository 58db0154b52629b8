"""timm's scheduler package, as the tests load it here.

`import timm` fails on this machine: timm/__init__ imports timm.layers, which imports torchvision, and every
torchvision wheel links libtorch_cuda.so, which the pinned CPU torch lacks. timm/scheduler/*.py import only
torch, so where `import timm` fails the package is entered without running timm/__init__: the modules are
timm's own files under their own names (`timm.scheduler.cosine_lr`), the code optlint replays is timm's.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types


def timm_scheduler():
    try:
        return importlib.import_module("timm.scheduler")
    except Exception:  # noqa: BLE001 - ImportError without torchvision, OSError with a CUDA-linked one
        _forget("timm", "torchvision")
    spec = importlib.util.find_spec("timm")
    package = types.ModuleType("timm")
    package.__path__ = list(spec.submodule_search_locations)
    package.__spec__ = spec
    sys.modules["timm"] = package
    return importlib.import_module("timm.scheduler")


def _forget(*packages: str) -> None:
    for name in [n for n in sys.modules if n.split(".")[0] in packages]:
        del sys.modules[name]
