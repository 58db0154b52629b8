"""Framework semantics in the model: what Lightning's `configure_optimizers` returns (each shape it
accepts), the order of an ignite engine's handlers and update, what `accelerator.prepare` gives back,
what the HF Trainer is handed; and the findings the loop rules draw from them."""

from textwrap import dedent

import libcst as cst
import pytest

from optlint.facts import load
from optlint.static.runner import lint_text
from optlint.static.semantic import (EPOCH, OPTIMIZER, SCHEDULER, STEP, SemanticModel, accelerate_prepared,
                                     framework_interval, ignite_runs, is_accelerate_prepared, lightning_schedulers,
                                     trainer_schedulers)


def model_of(source: str) -> SemanticModel:
    return SemanticModel(cst.parse_module(dedent(source)), load())


def codes(source: str) -> list[tuple[str, int]]:
    return [(f.code, f.row) for f in lint_text(dedent(source), "train.py")]


LIGHTNING = """\
import lightning as L
import torch
from torch.optim.lr_scheduler import OneCycleLR, ReduceLROnPlateau, StepLR

class Model(L.LightningModule):
    def configure_optimizers(self):
        opt = torch.optim.SGD(self.parameters(), lr=0.1)
        sched = StepLR(opt, 10)
        return {returned}
"""


def returned(expression: str, source: str = LIGHTNING):
    model = model_of(source.format(returned=expression))
    return model, lightning_schedulers(model)


# -- Lightning ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("expression", [
    "[opt], [sched]",
    "([opt], [sched])",
    "[opt], sched",
    '{"optimizer": opt, "lr_scheduler": sched}',
    '{"optimizer": opt, "lr_scheduler": {"scheduler": sched}}',
    '({"optimizer": opt, "lr_scheduler": sched},)',
    '[{"optimizer": opt, "lr_scheduler": {"scheduler": sched}}]',
    'dict(optimizer=opt, lr_scheduler=dict(scheduler=sched))',
])
def test_each_return_shape_gives_the_scheduler_at_lightnings_default_interval(expression):
    model, found = returned(expression)
    assert len(found) == 1
    assert found[0].instance.cls == "StepLR" and found[0].instance.kind == SCHEDULER
    assert (found[0].interval, found[0].frequency, found[0].interval_written) == (EPOCH, 1, False)
    assert found[0].automatic and found[0].hook is None


def test_a_scheduler_config_carries_interval_frequency_and_monitor():
    model, found = returned('{"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step",'
                            ' "frequency": 4, "monitor": "val_loss"}}')
    [config] = found
    assert (config.interval, config.frequency, config.interval_written) == (STEP, 4, True)
    assert isinstance(config.monitor, cst.SimpleString)
    assert isinstance(config.config, cst.Dict)  # reported where "interval" would be written


def test_a_config_bound_to_a_name_first_is_read_through_it():
    source = LIGHTNING.replace("        return {returned}", '        config = {"scheduler": sched, "interval": "step"}\n'
                               '        return {"optimizer": opt, "lr_scheduler": config}')
    [config] = lightning_schedulers(model_of(source))
    assert config.interval == STEP and config.instance.cls == "StepLR"


def test_several_optimizers_and_schedulers_are_each_returned():
    source = LIGHTNING.replace("        return {returned}", "        other = OneCycleLR(opt, 0.1, total_steps=100)\n"
                               "        return [opt, opt], [sched, {'scheduler': other, 'interval': 'step'}]")
    found = lightning_schedulers(model_of(source))
    assert [(f.instance.cls, f.interval) for f in found] == [("StepLR", EPOCH), ("OneCycleLR", STEP)]


@pytest.mark.parametrize("expression", [
    "opt",  # an optimizer alone
    "[opt]",
    "[opt, opt]",
    "(opt,), (sched,)",  # Lightning refuses it: no list of optimizers
    "build_config(opt, sched)",  # a config built elsewhere
    '{"optimizer": opt, **extra}',
    '{"optimizer": opt, "lr_scheduler": {"scheduler": sched, **extra}}',
])
def test_a_shape_that_is_not_spelt_out_returns_no_scheduler(expression):
    assert returned(expression)[1] == []


def test_a_monitor_is_the_top_level_one_only_for_a_bare_scheduler_of_one_dict():
    def monitor_of(expression):
        [config] = returned(expression)[1]
        return config.monitor is not None

    assert monitor_of('{"optimizer": opt, "lr_scheduler": sched, "monitor": "val"}')
    assert not monitor_of('{"optimizer": opt, "lr_scheduler": {"scheduler": sched}, "monitor": "val"}')
    assert not monitor_of('({"optimizer": opt, "lr_scheduler": sched, "monitor": "val"},)')


def test_an_interval_that_is_not_a_literal_is_unknown():
    [config] = returned('{"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": cfg.interval}}')[1]
    assert config.interval is None


def test_manual_optimization_and_the_scheduler_hook_are_carried():
    source = LIGHTNING.replace("class Model(L.LightningModule):\n", "class Model(L.LightningModule):\n"
                               "    def __init__(self):\n        self.automatic_optimization = False\n"
                               "    def lr_scheduler_step(self, scheduler, metric):\n        scheduler.step()\n")
    [config] = lightning_schedulers(model_of(source.format(returned="[opt], [sched]")))
    assert not config.automatic
    assert config.hook is not None and config.hook.name.value == "lr_scheduler_step"


@pytest.mark.parametrize("base", ["nn.Module", "BaseModule", "L.LightningModule, Mixin", "object"])
def test_a_class_whose_bases_are_not_all_seen_to_be_lightning_gives_nothing(base):
    source = "from torch import nn\nfrom project import BaseModule, Mixin\n" + LIGHTNING.replace(
        "L.LightningModule", base)
    assert lightning_schedulers(model_of(source.format(returned="[opt], [sched]"))) == []


def test_a_same_file_base_class_that_is_a_lightning_module_counts():
    source = LIGHTNING.replace("class Model(L.LightningModule):", "class Base(L.LightningModule):\n"
                               "    def lr_scheduler_step(self, scheduler, metric):\n        scheduler.step()\n"
                               "class Model(Base):")
    [config] = lightning_schedulers(model_of(source.format(returned="[opt], [sched]")))
    assert config.hook is not None and config.module_class.name.value == "Model"


@pytest.mark.parametrize("value, automatic", [("False", False), ("True", True), ("flag", None)])
def test_automatic_optimization_comes_from_a_literal_only(value, automatic):
    source = LIGHTNING.replace("class Model(L.LightningModule):\n", "class Model(L.LightningModule):\n"
                               f"    def __init__(self, flag):\n        self.automatic_optimization = {value}\n")
    found = lightning_schedulers(model_of(source.format(returned="[opt], [sched]")))
    assert [f.automatic for f in found] == ([] if automatic is None else [automatic])


# -- the findings Lightning's semantics give ----------------------------------------------------------------
ONECYCLE = LIGHTNING.replace("sched = StepLR(opt, 10)",
                             "sched = OneCycleLR(opt, max_lr=0.1, total_steps=self.trainer.estimated_stepping_batches)")


@pytest.mark.parametrize("expression", [
    "[opt], [sched]", '{"optimizer": opt, "lr_scheduler": sched}',
    '{"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "epoch"}}',
])
def test_a_onecycle_lightning_steps_per_epoch_is_reported(expression):
    assert codes(ONECYCLE.format(returned=expression)) == [("OPT012", 9)]


@pytest.mark.parametrize("source", [
    ONECYCLE.format(returned='{"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}'),
    ONECYCLE.replace("total_steps=self.trainer.estimated_stepping_batches", "total_steps=self.trainer.max_epochs")
            .format(returned="[opt], [sched]"),
    ONECYCLE.replace("total_steps=self.trainer.estimated_stepping_batches", "epochs=10, steps_per_epoch=1")
            .format(returned="[opt], [sched]"),
    ONECYCLE.replace("class Model(L.LightningModule):\n", "class Model(L.LightningModule):\n"
                     "    def __init__(self):\n        self.automatic_optimization = False\n")
            .format(returned="[opt], [sched]"),
    ONECYCLE.format(returned='{"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": cfg.interval}}'),
], ids=["interval step", "sized in epochs", "one step per epoch", "manual optimization", "unknown interval"])
def test_a_onecycle_stepped_per_step_or_by_design_is_not_reported(source):
    assert codes(source) == []


PLATEAU = LIGHTNING.replace("sched = StepLR(opt, 10)", "sched = ReduceLROnPlateau(opt)")


@pytest.mark.parametrize("expression", [
    "[opt], [sched]", '{"optimizer": opt, "lr_scheduler": sched}',
    '{"optimizer": opt, "lr_scheduler": {"scheduler": sched}, "monitor": "val_loss"}',
    '({"optimizer": opt, "lr_scheduler": sched, "monitor": "val_loss"},)',
])
def test_a_plateau_returned_without_a_monitor_is_reported(expression):
    assert codes(PLATEAU.format(returned=expression)) == [("OPT013", 9)]


@pytest.mark.parametrize("expression", [
    '{"optimizer": opt, "lr_scheduler": sched, "monitor": "val_loss"}',
    '{"optimizer": opt, "lr_scheduler": {"scheduler": sched, "monitor": "val_loss"}}',
    '{"optimizer": opt, "lr_scheduler": {"scheduler": sched, "monitor": cfg.metric}}',
    '{"optimizer": opt, "lr_scheduler": {"scheduler": sched, "reduce_on_plateau": False}}',
])
def test_a_plateau_with_a_monitor_is_not_reported(expression):
    assert codes(PLATEAU.format(returned=expression)) == []


def test_a_plateau_in_manual_optimization_needs_no_monitor():
    source = PLATEAU.replace("class Model(L.LightningModule):\n", "class Model(L.LightningModule):\n"
                             "    def __init__(self):\n        self.automatic_optimization = False\n"
                             "    def training_step(self, batch, batch_idx):\n"
                             "        opt, sch = self.optimizers(), self.lr_schedulers()\n"
                             "        opt.step()\n        sch.step(self.trainer.callback_metrics['val_loss'])\n")
    assert codes(source.format(returned="[opt], [sched]")) == []


def test_a_scheduler_stepped_by_the_hook_with_its_metric_is_not_reported():
    source = PLATEAU.replace("class Model(L.LightningModule):\n", "class Model(L.LightningModule):\n"
                             "    def lr_scheduler_step(self, scheduler, metric):\n        scheduler.step(metric)\n")
    assert codes(source.format(returned='{"optimizer": opt, "lr_scheduler": sched, "monitor": "val_loss"}')) == []


# -- ignite ---------------------------------------------------------------------------------------------
IGNITE = """\
from ignite.engine import Engine, Events

def build_trainer(model, optimizer):
    def update(engine, batch):
        loss = model(batch)
        loss.backward()
        optimizer.step()
    return Engine(update)

def run(model, optimizer, scheduler, loader):
    trainer = build_trainer(model, optimizer)
    {registration}
    trainer.run(loader, max_epochs=10)
"""


def ignite_source(registration: str) -> str:
    return IGNITE.replace("    {registration}", dedent(registration).strip().replace("\n", "\n    ").join(["    ", ""]))


@pytest.mark.parametrize("registration, row", [
    ("@trainer.on(Events.EPOCH_STARTED)\ndef adjust(engine):\n    scheduler.step()", 14),
    ("@trainer.on(Events.ITERATION_STARTED)\ndef adjust(engine):\n    scheduler.step()", 14),
    ("@trainer.on(Events.EPOCH_STARTED(every=1))\ndef adjust(engine):\n    scheduler.step()", 14),
    ("trainer.add_event_handler(Events.EPOCH_STARTED, lambda engine: scheduler.step())", 12),
    ("def adjust(engine):\n    scheduler.step()\ntrainer.add_event_handler(Events.EPOCH_STARTED, adjust)", 13),
])
def test_a_scheduler_stepped_before_the_update_in_an_ignite_handler_is_reported(registration, row):
    assert codes(ignite_source(registration)) == [("OPT011", row)]


@pytest.mark.parametrize("registration", [
    "@trainer.on(Events.EPOCH_COMPLETED)\ndef adjust(engine):\n    scheduler.step()",
    "@trainer.on(Events.ITERATION_COMPLETED)\ndef adjust(engine):\n    scheduler.step()",
    "@trainer.on(Events.EPOCH_STARTED(every=2))\ndef adjust(engine):\n    scheduler.step()",
    "@trainer.on(Events.EPOCH_STARTED(once=3))\ndef adjust(engine):\n    scheduler.step()",
    "@trainer.on(Events.EPOCH_STARTED | Events.STARTED)\ndef adjust(engine):\n    scheduler.step()",
    "@other.on(Events.EPOCH_STARTED)\ndef adjust(engine):\n    scheduler.step()",  # not the trainer
    "@trainer.on(Events.EPOCH_STARTED)\ndef adjust(engine):\n    scheduler.step(engine.state.metrics['loss'])",
    "trainer.add_event_handler(Events.ITERATION_STARTED, scheduler)",  # ignite's own param scheduler
])
def test_a_scheduler_stepped_after_the_update_or_not_for_certain_is_not_reported(registration):
    assert codes(ignite_source(registration)) == []


def test_the_update_function_and_its_handlers_run_in_ignites_order():
    source = ignite_source("@trainer.on(Events.EPOCH_COMPLETED)\ndef after(engine):\n    scheduler.step()\n"
                           "@trainer.on(Events.ITERATION_STARTED)\ndef warm(engine):\n    warmup_scheduler.step()")
    [run] = ignite_runs(model_of(source))
    order = [(e.kind, cst.Module([]).code_for_node(e.receiver), e.depth) for e in run.events]
    assert order == [(SCHEDULER, "warmup_scheduler", 1), (OPTIMIZER, "optimizer", 1), (SCHEDULER, "scheduler", 0)]


@pytest.mark.parametrize("trainer", [
    "Engine(step_fn)",  # a function no code of this file defines
    "make_engine(model)",  # another module's factory
    "build_trainer(model, optimizer) if fast else other",
])
def test_an_engine_whose_update_is_not_seen_gives_no_run(trainer):
    source = ignite_source("@trainer.on(Events.EPOCH_STARTED)\ndef adjust(engine):\n    scheduler.step()")
    source = source.replace("trainer = build_trainer(model, optimizer)", f"trainer = {trainer}")
    assert ignite_runs(model_of(source)) == [] and codes(source) == []


def test_ignites_create_supervised_trainer_steps_its_optimizer_each_iteration():
    source = """\
        import torch
        from ignite.engine import Events, create_supervised_trainer
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        scheduler = torch.optim.lr_scheduler.StepLR(optimizer, 10)
        trainer = create_supervised_trainer(model, optimizer, loss_fn)
        @trainer.on(Events.EPOCH_STARTED)
        def adjust(engine):
            scheduler.step()
    """
    [run] = ignite_runs(model_of(source))
    assert [(e.kind, e.depth) for e in run.events] == [(SCHEDULER, 0), (OPTIMIZER, 1)]
    assert run.events[1].instance is run.events[0].instance.optimizer
    assert codes(source) == [("OPT011", 8)]


def test_a_onecycle_stepped_per_epoch_by_an_ignite_handler_is_reported():
    source = """\
        import torch
        from ignite.engine import Engine, Events
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, 0.1, total_steps=1000)
        class Loop:
            def update(self, engine, batch):
                optimizer.step()
            def adjust(self, engine):
                scheduler.step()
            def run(self, loader):
                trainer = Engine(self.update)
                trainer.add_event_handler(Events.EPOCH_COMPLETED, self.adjust)
                trainer.run(loader)
    """
    assert codes(source) == [("OPT012", 9)]


# -- accelerate -----------------------------------------------------------------------------------------
ACCELERATE = """\
import torch
from accelerate import Accelerator
accelerator = Accelerator()
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, 1e-3, total_steps=100)
model, optimizer, loader, scheduler = accelerator.prepare(model, optimizer, loader, scheduler)
plain = scheduler
"""


def test_prepare_gives_back_each_position_as_the_kind_and_class_it_was_given():
    model = model_of(ACCELERATE)
    prepared = {p.target: p for p in accelerate_prepared(model)}
    assert list(prepared) == ["model", "optimizer", "loader", "scheduler"]
    assert prepared["optimizer"].instance.kind == OPTIMIZER and prepared["optimizer"].instance.cls == "AdamW"
    assert prepared["scheduler"].instance.kind == SCHEDULER and prepared["scheduler"].instance.cls == "OneCycleLR"
    assert prepared["model"].instance is None


def test_a_name_bound_by_prepare_is_known_as_prepared():
    model = model_of(ACCELERATE)
    scope = model.module_scope
    assert is_accelerate_prepared(model, cst.Name("scheduler"), scope)
    assert not is_accelerate_prepared(model, cst.Name("plain"), scope)


def test_a_prepared_self_attribute_is_known_as_prepared():
    model = model_of("""\
        class Runner:
            def setup(self, accelerator):
                self.model, self.sched = accelerator.prepare(self.model, self.sched)
            def train(self):
                self.sched.step()
    """)
    train = next(s for s in model.scopes if getattr(s.node, "name", None) and s.node.name.value == "train")
    assert is_accelerate_prepared(model, cst.parse_expression("self.sched"), train)
    assert not is_accelerate_prepared(model, cst.parse_expression("self.model2"), train)


@pytest.mark.parametrize("call", [
    "accelerator.prepare(model, *rest)",  # positions unknown
    "accelerator.prepare(model, optimizer, loader)",  # counts disagree
    "pipeline.prepare(model, optimizer, loader, scheduler)",  # not an Accelerator
])
def test_a_prepare_that_does_not_line_up_binds_nothing(call):
    model = model_of(ACCELERATE.replace("accelerator.prepare(model, optimizer, loader, scheduler)", call))
    assert accelerate_prepared(model) == []


def test_a_starred_target_of_prepare_binds_nothing():
    source = ACCELERATE.replace("model, optimizer, loader, scheduler = ", "model, *objects, scheduler = ")
    assert accelerate_prepared(model_of(source)) == []


# -- HF Trainer -----------------------------------------------------------------------------------------
def test_a_scheduler_handed_to_the_hf_trainer_is_stepped_per_step():
    model = model_of("""\
        import torch
        from transformers import Trainer, get_linear_schedule_with_warmup
        optimizer = torch.optim.AdamW(model.parameters(), lr=5e-5)
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=1000)
        other = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=10)
        trainer = Trainer(model=model, args=args, optimizers=(optimizer, scheduler))
    """)
    [(call, handed, _)] = trainer_schedulers(model)
    by_target = {i.assignment.target: i for i in model.instances_of_kind(SCHEDULER)}
    assert framework_interval(model, by_target["scheduler"]) == STEP
    assert framework_interval(model, by_target["other"]) is None


def test_a_scheduler_returned_to_lightning_has_its_interval():
    model = model_of(LIGHTNING.format(returned="[opt], [sched]"))
    [instance] = model.instances_of_kind(SCHEDULER)
    assert framework_interval(model, instance) == EPOCH
