"""The semantic model of one file: the one place rules ask the torch questions.

Rules import only `optlint.static.rule` (and its examples) and this package. Each question has one
answer here:

- names and scopes (`model`, on the one pass of `scopes`; `expressions` for what a node says alone): `SemanticModel.qualname`, `torch_class`, `is_builtin` /
  `builtin_name` (a user's own `dict` or `list` is not the builtin), `binding_scope`, the `Scope`
  of every function and class, and `values_of(expr, scope)`: what an expression holds, as the
  `Assignment`s (a value and the scope its names resolve in) that may reach it: the same file's
  assignments and, for optimizers and schedulers (`values`), what a parameter gets from every call
  site, what a same-file function returns, tuple elements, containers and their constant
  subscripts, loop elements. Names imported from the project's other modules: `imported` and
  `imported_return` (optlint/static/project/). Guards: `constant` and `static_truth` (literals and module constants).
- instances (`model`): which optimizer or scheduler a name or `self.x` holds (`instance_of`), which
  optimizer a scheduler is bound to, every scheduler build (`scheduler_builds`), and the method
  calls on a provably built scheduler (`scheduler_calls`), leaving out the builds that a flag guarding
  the call excludes (`flags`: `if args.cos:` around the use, `if not args.cos: ... else: ...` around
  the builds).
- param groups (`groups`): each optimizer build with its groups as written (`constructions`,
  `added_groups`, `dict_groups`: keys, `lr`, `add_param_group` later) and as parameter sources
  (`optimizers`, `all_groups`, `sources`).
- modules (`modules`): which `nn.Module` an expression holds.
- loops (`loops`): the optimizer and scheduler steps a loop runs, in order (`loop_events`).
- frameworks (`frameworks`): what Lightning, ignite, accelerate and the HF Trainer do with what a file
  hands them: `lightning_schedulers` (what `configure_optimizers` returns, with interval, frequency and
  monitor), `step_sequences` (every loop's steps, and each ignite engine's epoch in the order ignite runs
  it), `accelerate_prepared` / `is_accelerate_prepared`, `framework_interval`.
- ordering (`ordering`): whether an assignment runs before a call (`runs_before`).
- iterators (`exhaustion`, on `flow`): the uses of a one-shot iterator that find it exhausted.
- torch releases (`optlint.facts`): which releases accept a keyword or behave otherwise.
- access paths (`paths`): `model.fc.weight` as ("model", "fc", "weight"), from the scope that binds it.
- what a file does with an optimizer's and a scheduler's state (`scheduler_state`): param groups written by
  hand (`param_group_writes`), a scheduler's steps and restores, what a checkpoint dict holds, the guards
  of the calls in a loop, a parameter bound to the same optimizer at every call site.
- horizons and accumulation (`horizons`): the unit (batches or epochs) a scheduler's length is proved
  to count in, accumulation guards, calls inside `accelerator.accumulate`, schedulers handed to `prepare`.
- rebindings (`rebinding`): an optimizer variable bound anew after a scheduler was built on it.
- the tree itself (`optlint.static.walk`): `walk`, `calls_in`.
"""

from optlint.facts import LR_SCHEDULER, OPTIM, differs_by_release, spans, versions_accepting
from optlint.static.semantic.exhaustion import OPTIMIZER_USE, ExhaustedUse, exhausted_uses
from optlint.static.semantic.expressions import (argument, bool_literal, call_method, dotted, is_none, number_literal,
                                                 summarised_argument, terminal_name)
from optlint.static.semantic.groups import (
    ELEMENTS,
    WHOLE,
    Construction,
    Group,
    ParamGroup,
    add_param_group_calls,
    added_groups,
    all_groups,
    constructions,
    dict_groups,
    optimizers,
    parameters_call,
    sources,
)
from optlint.static.semantic.flow import FlowWalker, State
from optlint.static.semantic.frameworks import (EPOCH, STEP, LightningScheduler, Prepared, accelerate_prepared, framework_interval,
                                                ignite_runs, is_accelerate_prepared, lightning_schedulers,
                                                step_sequences, trainer_schedulers)
from optlint.static.semantic.horizons import (BATCHES, EPOCHS, calls_in_accumulate, horizon_unit,
                                              is_accumulation_guard, is_epoch_loop, is_self_check, range_bound,
                                              went_through_prepare)
from optlint.static.semantic.loops import Loop, StepEvent, function_events, loop_events, optimizer_matches
from optlint.static.semantic.model import OPTIMIZER, SCHEDULER, Instance, SemanticModel
from optlint.static.semantic.modules import ModuleBuild, describe, is_parameterless, module_builds
from optlint.static.semantic.ordering import runs_before
from optlint.static.semantic.rebinding import optimizer_rebindings, uses_after
from optlint.static.semantic.paths import ParameterSource, access_path, parameter_sources, same_objects
from optlint.static.semantic.scheduler_calls import not_type_dispatched, scheduler_calls
from optlint.static.semantic.scheduler_state import (GroupKeyWrite, checkpoint_contents, guards_of, in_lightning_module,
                                                     mentions, param_group_writes, scheduler_is_restored, scheduler_steps)
from optlint.static.semantic.scopes import Assignment, CallSite, Scope
from optlint.static.walk import calls_in, walk

__all__ = [
    "ELEMENTS", "LR_SCHEDULER", "OPTIM", "OPTIMIZER", "OPTIMIZER_USE", "SCHEDULER", "WHOLE",
    "Assignment", "CallSite", "Construction", "ExhaustedUse", "Group", "Instance", "Loop", "ModuleBuild",
    "ParamGroup", "ParameterSource", "Scope", "SemanticModel", "StepEvent",
    "access_path", "add_param_group_calls", "added_groups", "all_groups", "argument", "bool_literal", "summarised_argument",
    "constructions", "describe", "dict_groups", "differs_by_release", "dotted", "exhausted_uses", "is_none",
    "is_parameterless", "loop_events", "module_builds", "not_type_dispatched", "number_literal", "optimizer_matches", "optimizers",
    "parameter_sources", "parameters_call", "runs_before", "same_objects", "scheduler_calls", "sources",
    "spans", "terminal_name", "versions_accepting",
    "FlowWalker", "GroupKeyWrite", "State", "call_method", "calls_in", "checkpoint_contents", "guards_of",
    "in_lightning_module", "mentions", "param_group_writes", "scheduler_is_restored", "scheduler_steps", "walk",
    "EPOCH", "STEP", "LightningScheduler", "Prepared", "accelerate_prepared", "framework_interval", "function_events", "ignite_runs",
    "is_accelerate_prepared", "lightning_schedulers", "step_sequences", "trainer_schedulers",
    "BATCHES", "EPOCHS", "calls_in_accumulate", "horizon_unit", "is_accumulation_guard", "is_epoch_loop", "is_self_check", "range_bound",
    "went_through_prepare", "optimizer_rebindings", "uses_after",
]  # fmt: skip
