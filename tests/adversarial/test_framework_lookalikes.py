"""Framework code and its look-alikes: generated LightningModules (every return shape, interval,
monitor, base class, manual optimization, scheduler hook) and ignite trainers (every event, filter,
registration style, engine source, an `Events` of another library). What Lightning 2.6 and ignite 0.5
do with each (tests/test_framework_behaviour.py proves those facts) says what must be reported;
anything the file does not spell out for certain must stay silent."""

from __future__ import annotations

import os

from hypothesis import given, settings
from hypothesis import strategies as st

from optlint.static.runner import lint_text

PROFILE = settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
FUZZ = settings(PROFILE, max_examples=max(PROFILE.max_examples // 2, 40))

# -- Lightning -------------------------------------------------------------------------------------------
BASES = {  # base class -> whether it is, for certain, a LightningModule with nothing else mixed in
    "L.LightningModule": True, "pl.LightningModule": True, "LightningModule": True, "Base": True,
    "nn.Module": False, "ProjectModule": False, "L.LightningModule, ProjectMixin": False,
}
SCHEDULERS = {
    "OneCycleLR": "OneCycleLR(opt, 0.1, total_steps=self.trainer.estimated_stepping_batches)",
    "OneCycleLR per epoch": "OneCycleLR(opt, 0.1, total_steps=self.trainer.max_epochs)",
    "CyclicLR": "CyclicLR(opt, 1e-4, 1e-2)",
    "StepLR": "StepLR(opt, 10)",
    "ReduceLROnPlateau": "ReduceLROnPlateau(opt)",
}
INTERVALS = {None: "", "step": ', "interval": "step"', "epoch": ', "interval": "epoch"', "unknown": ', "interval": cfg.interval'}
AUTOMATIC = {"default": "", "False": "        self.automatic_optimization = False\n",
             "True": "        self.automatic_optimization = True\n", "unknown": "        self.automatic_optimization = flag\n"}
SHAPES = ["two lists", "dict", "dict with monitor", "scheduler dict", "scheduler dict with monitor",
          "scheduler dict, monitor outside", "tuple of dicts with monitor", "optimizer only", "spread", "built elsewhere"]


def lightning_source(base, scheduler, interval, automatic, hook, shape) -> str:
    config = '{"scheduler": sched' + INTERVALS[interval] + "}"
    returned = {
        "two lists": "[opt], [sched]",
        "dict": '{"optimizer": opt, "lr_scheduler": sched}',
        "dict with monitor": '{"optimizer": opt, "lr_scheduler": sched, "monitor": "val_loss"}',
        "scheduler dict": '{"optimizer": opt, "lr_scheduler": ' + config + "}",
        "scheduler dict with monitor": '{"optimizer": opt, "lr_scheduler": ' + config[:-1] + ', "monitor": "val_loss"}}',
        "scheduler dict, monitor outside": '{"optimizer": opt, "lr_scheduler": ' + config + ', "monitor": "val_loss"}',
        "tuple of dicts with monitor": '({"optimizer": opt, "lr_scheduler": sched, "monitor": "val_loss"},)',
        "optimizer only": "opt",
        "spread": '{"optimizer": opt, "lr_scheduler": {"scheduler": sched, **extra}}',
        "built elsewhere": "make_config(opt, sched)",
    }[shape]
    hook_text = "    def lr_scheduler_step(self, scheduler, metric):\n        scheduler.step(metric)\n" if hook else ""
    return (
        "import lightning as L\nimport pytorch_lightning as pl\nimport torch\nfrom torch import nn\n"
        "from lightning.pytorch import LightningModule\nfrom project import ProjectModule, ProjectMixin\n"
        "from torch.optim.lr_scheduler import CyclicLR, OneCycleLR, ReduceLROnPlateau, StepLR\n"
        "class Base(L.LightningModule):\n    pass\n"
        f"class Model({base}):\n    def __init__(self, flag, cfg):\n        super().__init__()\n{AUTOMATIC[automatic]}"
        f"{hook_text}    def configure_optimizers(self):\n"
        "        opt = torch.optim.SGD(self.parameters(), lr=0.1)\n"
        f"        sched = {SCHEDULERS[scheduler]}\n        return {returned}\n"
    )


def lightning_expected(base, scheduler, interval, automatic, hook, shape) -> set[str]:
    """What Lightning does with it, written from its source (core/optimizer.py), not from optlint's."""
    if not BASES[base] or automatic in ("False", "unknown") or shape in ("optimizer only", "spread", "built elsewhere"):
        return set()
    in_config = shape.startswith("scheduler dict")
    written = INTERVALS[interval] if in_config else ""
    monitor = shape in ("dict with monitor", "scheduler dict with monitor")
    found = set()
    if scheduler == "ReduceLROnPlateau" and not monitor:
        found.add("OPT013")
    per_epoch = written in ("", INTERVALS["epoch"])
    if scheduler in ("OneCycleLR", "CyclicLR") and per_epoch and not hook:
        found.add("OPT012")
    return found


@FUZZ
@given(st.sampled_from(sorted(BASES)), st.sampled_from(sorted(SCHEDULERS)), st.sampled_from(sorted(INTERVALS, key=str)),
       st.sampled_from(sorted(AUTOMATIC)), st.booleans(), st.sampled_from(SHAPES))
def test_a_lightning_module_is_reported_exactly_where_lightning_misuses_its_scheduler(
        base, scheduler, interval, automatic, hook, shape):
    source = lightning_source(base, scheduler, interval, automatic, hook, shape)
    found = {f.code for f in lint_text(source, "model.py")}
    assert found == lightning_expected(base, scheduler, interval, automatic, hook, shape), source


# -- ignite ----------------------------------------------------------------------------------------------
EVENTS = {  # event as written -> it runs before the first update
    "Events.EPOCH_STARTED": True, "Events.ITERATION_STARTED": True,
    "Events.EPOCH_STARTED(every=1)": True, "Events.ITERATION_STARTED(once=1)": True,
    "Events.EPOCH_COMPLETED": False, "Events.ITERATION_COMPLETED": False,
    "Events.EPOCH_STARTED(every=2)": False, "Events.ITERATION_STARTED(every=10)": False,
    "Events.EPOCH_STARTED(once=4)": False, "Events.EPOCH_STARTED | Events.COMPLETED": False,
}
IMPORTS = {"from ignite.engine import Engine, Events": True, "from ignite.engine.events import Events\n"
           "from ignite.engine import Engine": True, "from otherlib import Engine, Events": False}
ENGINES = {"Engine(update)": True, "make_trainer(optimizer)": True, "Engine(step_fn)": False,
           "build_engine(cfg)": False}
STYLES = ["decorator", "add_event_handler", "lambda"]
STEPS = {"scheduler.step()": True, "scheduler.step(engine.state.metrics['loss'])": False,
         "noise_scheduler.step(out, t, x)": False, "sampler.step()": False}


def ignite_source(imports, engine, event, style, step) -> str:
    if style == "decorator":
        registration = f"    @trainer.on({event})\n    def adjust(engine):\n        {step}\n"
    elif style == "add_event_handler":
        registration = f"    def adjust(engine):\n        {step}\n    trainer.add_event_handler({event}, adjust)\n"
    else:
        registration = f"    trainer.add_event_handler({event}, lambda engine: {step})\n"
    return (
        f"{imports}\nfrom project import build_engine\n"
        "def make_trainer(optimizer):\n    def inner(engine, batch):\n        optimizer.step()\n    return Engine(inner)\n"
        "def run(model, optimizer, scheduler, loader, cfg):\n"
        "    def update(engine, batch):\n        model(batch).backward()\n        optimizer.step()\n"
        f"    trainer = {engine}\n{registration}    trainer.run(loader, max_epochs=10)\n"
    )


@FUZZ
@given(st.sampled_from(sorted(IMPORTS)), st.sampled_from(sorted(ENGINES)), st.sampled_from(sorted(EVENTS)),
       st.sampled_from(STYLES), st.sampled_from(sorted(STEPS)))
def test_an_ignite_handler_is_reported_exactly_when_it_steps_before_the_update(imports, engine, event, style, step):
    source = ignite_source(imports, engine, event, style, step)
    expected = {"OPT011"} if IMPORTS[imports] and ENGINES[engine] and EVENTS[event] and STEPS[step] else set()
    assert {f.code for f in lint_text(source, "train.py")} == expected, source
