"""optlint: a linter and runtime checker for PyTorch optimizer and LR-scheduler set-ups.

`import optlint` never imports torch: the runtime names are loaded on first use.
"""

from __future__ import annotations

__version__ = "0.1.0"

_RUNTIME_NAMES = {
    "check_setup": "optlint.runtime.api",
    "assert_setup": "optlint.runtime.api",
    "OptimizerSetupError": "optlint.runtime.api",
    "OptimizerSetupWarning": "optlint.runtime.api",
    "SchedulerSimulationError": "optlint.runtime.api",
    "RankCheckError": "optlint.runtime.api",
    "SetupReport": "optlint.runtime.report",
    "SetupReports": "optlint.runtime.report",
    "probe_step": "optlint.runtime.probe",
    "SwitchLR": "optlint.runtime.switch",
}

__all__ = ["__version__", *_RUNTIME_NAMES]


def __getattr__(name: str):
    if name in _RUNTIME_NAMES:
        import importlib

        return getattr(importlib.import_module(_RUNTIME_NAMES[name]), name)
    raise AttributeError(f"module 'optlint' has no attribute {name!r}")
