from __future__ import annotations

import libcst as cst

from optlint.static.examples import Invalid, Valid
from optlint.static.semantic import (
    OPTIMIZER, SCHEDULER, call_method, calls_in, CallSite, checkpoint_contents, in_lightning_module, Instance,
    mentions, scheduler_is_restored, scheduler_steps, SemanticModel, summarised_argument
)
from optlint.static.rule import Rule


class SchedulerStateNotSaved(Rule):
    """A checkpoint that saves an optimizer's state but not the state of the scheduler driving it,
    or a resume that restores the optimizer but not its scheduler.

    The scheduler's position (`last_epoch`, warm-up progress, restarts) lives only in its own state
    dict: without it a resumed run starts the schedule over.
    """

    code = "OPT023"

    VALID = (
        Valid("""
            import torch
            opt = torch.optim.SGD(m.parameters(), lr=0.1)
            sched = torch.optim.lr_scheduler.StepLR(opt, 30)
            for epoch in range(90):
                opt.step()
                sched.step()
                torch.save({"optimizer": opt.state_dict(), "scheduler": sched.state_dict()}, "last.pt")
        """),
        # The checkpoint is built in steps.
        Valid("""
            import torch
            opt = torch.optim.SGD(m.parameters(), lr=0.1)
            sched = torch.optim.lr_scheduler.StepLR(opt, 30)
            for epoch in range(90):
                opt.step()
                sched.step()
                ckpt = {"model": m.state_dict(), "optimizer": opt.state_dict()}
                ckpt["scheduler"] = sched.state_dict()
                torch.save(ckpt, "last.pt")
        """),
        # The schedule is restored from the epoch when resuming.
        Valid("""
            import torch
            opt = torch.optim.SGD(m.parameters(), lr=0.1)
            if resume:
                opt.load_state_dict(torch.load(path)["optimizer"])
            sched = torch.optim.lr_scheduler.StepLR(opt, 30, last_epoch=start - 1)
            for epoch in range(start, 90):
                opt.step()
                sched.step()
                torch.save({"optimizer": opt.state_dict(), "epoch": epoch}, path)
        """),
        # Fast-forwarded on resume: a loop that steps the scheduler alone.
        Valid("""
            import torch
            opt = torch.optim.SGD(m.parameters(), lr=0.1)
            sched = torch.optim.lr_scheduler.StepLR(opt, 30)
            opt.load_state_dict(state["optimizer"])
            for _ in range(start_epoch):
                sched.step()
            for epoch in range(start_epoch, 90):
                opt.step()
                sched.step()
        """),
        # Handed to a framework (HF Trainer, accelerate) that saves it with the rest.
        Valid("""
            import torch
            opt = torch.optim.AdamW(m.parameters())
            sched = torch.optim.lr_scheduler.LinearLR(opt)
            model, opt, sched = accelerator.prepare(model, opt, sched)
            for batch in loader:
                opt.step()
                sched.step()
            accelerator.save_state("ckpt")
            torch.save({"optimizer": opt.state_dict()}, "opt.pt")
        """),
        # HF Trainer checkpoints the scheduler it is given.
        Valid("""
            import torch
            from transformers import Trainer
            opt = torch.optim.AdamW(m.parameters())
            sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.0)
            trainer = Trainer(model=m, optimizers=(opt, sched))
            trainer.train()
            sched.step()
            torch.save({"optimizer": opt.state_dict()}, "opt.pt")
        """),
        # An optimizer rebuilt together with its scheduler for each stage: nothing to resume across stages.
        Valid("""
            import torch
            for stage in stages:
                opt = torch.optim.SGD(m.parameters(), lr=stage.lr)
                sched = torch.optim.lr_scheduler.StepLR(opt, 10)
                for epoch in range(stage.epochs):
                    opt.step()
                    sched.step()
                torch.save({"optimizer": opt.state_dict()}, f"{stage.name}.pt")
        """),
        # A GAN: each scheduler steps with its own optimizer, and each is saved beside it.
        Valid("""
            import torch
            opt_g = torch.optim.Adam(g.parameters())
            opt_d = torch.optim.Adam(d.parameters())
            sched_g = torch.optim.lr_scheduler.StepLR(opt_g, 10)
            sched_d = torch.optim.lr_scheduler.StepLR(opt_d, 10)
            for epoch in range(100):
                opt_d.step()
                opt_g.step()
                sched_d.step()
                sched_g.step()
                torch.save({"g": opt_g.state_dict(), "sg": sched_g.state_dict(),
                            "d": opt_d.state_dict(), "sd": sched_d.state_dict()}, "gan.pt")
        """),
        # Lightning saves and restores the schedulers of `configure_optimizers` itself.
        Valid("""
            import torch
            import lightning as L
            class Model(L.LightningModule):
                def configure_optimizers(self):
                    self.opt = torch.optim.AdamW(self.parameters())
                    self.sched = torch.optim.lr_scheduler.StepLR(self.opt, 10)
                    return [self.opt], [self.sched]
                def on_train_epoch_end(self):
                    self.sched.step()
                    torch.save({"optimizer": self.opt.state_dict()}, "extra.pt")
        """),
        # A scheduler that is never stepped here has no position to lose.
        Valid("""
            import torch
            opt = torch.optim.SGD(m.parameters(), lr=0.1)
            sched = torch.optim.lr_scheduler.StepLR(opt, 30)
            torch.save({"optimizer": opt.state_dict()}, "init.pt")
        """),
        # A `**spread` may hold the scheduler's state.
        Valid("""
            import torch
            opt = torch.optim.SGD(m.parameters(), lr=0.1)
            sched = torch.optim.lr_scheduler.StepLR(opt, 30)
            for epoch in range(3):
                opt.step()
                sched.step()
                torch.save({"optimizer": opt.state_dict(), **extra_states()}, "last.pt")
        """),
        # A checkpoint passed through a helper may get the scheduler there.
        Valid("""
            import torch
            opt = torch.optim.SGD(m.parameters(), lr=0.1)
            sched = torch.optim.lr_scheduler.StepLR(opt, 30)
            for epoch in range(3):
                opt.step()
                sched.step()
                state = {"optimizer": opt.state_dict()}
                add_extras(state)
                torch.save(state, "last.pt")
        """),
    )
    INVALID = (
        Invalid("""
            import torch
            opt = torch.optim.SGD(m.parameters(), lr=0.1)
            sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, 90)
            for epoch in range(90):
                opt.step()
                sched.step()
                torch.save({"model": m.state_dict(), "optimizer": opt.state_dict(), "epoch": epoch}, "last.pt")
        """, at="7:5", message="`sched`"),
        # The checkpoint built in steps, and the resume that restores only the optimizer.
        Invalid("""
            import torch
            class Trainer:
                def __init__(self, model):
                    self.optimizer = torch.optim.AdamW(model.parameters())
                    self.scheduler = torch.optim.lr_scheduler.LinearLR(self.optimizer, 0.01, total_iters=500)
                def step(self):
                    self.optimizer.step()
                    self.scheduler.step()
                def save(self, path):
                    checkpoint = {}
                    checkpoint["optimizer"] = self.optimizer.state_dict()
                    torch.save(checkpoint, path)
                def load(self, path):
                    self.optimizer.load_state_dict(torch.load(path)["optimizer"])
        """, at=("12:9", "14:9")),
    )

    def check(self, ctx) -> None:
        model = ctx.model
        for site, optimizer, contents in _optimizer_saves(model):
            for scheduler in _forgotten(model, optimizer, site, contents):
                self._report(ctx, site.node, optimizer, scheduler, "this checkpoint saves `{opt}`'s state but"
                             " not the state of `{sched}`", "Save `{sched}.state_dict()` in it")
        helpers = _helper_calls(model)
        for site, optimizer, origin in helpers["saves"]:
            for scheduler in _forgotten(model, optimizer, site, []):
                self._report(ctx, site.node, optimizer, scheduler, f"the checkpoint this call saves (in `{origin}`)"
                             " holds `{opt}`'s state but not the state of `{sched}`",
                             "Give the helper `{sched}` and save `{sched}.state_dict()` beside the optimizer's")
        for site, optimizer, origin in (*_optimizer_loads(model), *helpers["restores"]):
            where = f" (in `{origin}`, called from here)" if origin else ""
            for scheduler in _forgotten(model, optimizer, site, []):
                self._report(ctx, site.node, optimizer, scheduler, f"`{{opt}}`'s state is restored here{where} but"
                             " not the state of `{sched}`", "Restore it with `{sched}.load_state_dict(...)`")

    @staticmethod
    def _report(ctx, node, optimizer: Instance, scheduler: Instance, what: str, hint: str) -> None:
        names = {"opt": _label(optimizer), "sched": _label(scheduler)}
        what = what.format(**names)
        ctx.report(
            node,
            f"{what[0].upper()}{what[1:]}, which drives it: a run resumed from it starts the schedule over"
            " (warm-up again, the cosine from the top).",
            hint=hint.format(**names) + ", or rebuild the scheduler with `last_epoch=`.",
        )


def _label(instance: Instance) -> str:
    target = instance.assignment.target
    return f"self.{target}" if instance.is_self_attribute else target


def _optimizer_saves(model: SemanticModel):
    """`torch.save(checkpoint, ...)` calls, each optimizer whose `state_dict()` the checkpoint holds,
    and what the checkpoint holds."""
    for site in model.calls:
        if model.qualname(site.node.func, site.scope) != "torch.save" or not site.node.args:
            continue
        contents = checkpoint_contents(model, site)
        for call in (c for expr in contents or () for c in calls_in(expr)):
            optimizer = _method_of_optimizer(model, call, "state_dict", site)
            if optimizer is not None:
                yield site, optimizer, contents


def _optimizer_loads(model: SemanticModel):
    for site in model.calls:
        optimizer = _method_of_optimizer(model, site.node, "load_state_dict", site)
        if optimizer is not None:
            yield site, optimizer, None


def _helper_calls(model: SemanticModel) -> dict[str, list[tuple[CallSite, Instance, str]]]:
    """Calls of a project function that restores ("restores") or saves ("saves") the state of the
    optimizer it is given (`utils.load_checkpoint(model, optimizer, path)`), with that function's file
    and line."""
    found = {"restores": [], "saves": []}
    for site in model.calls:
        imported = model.imported(site.node.func, site.scope)
        if imported is None or imported[0] != "function":
            continue
        _, entry, origin = imported
        for use, calls in found.items():
            for parameter, line in entry.get(use, ()):
                given = summarised_argument(site.node, entry, parameter)
                instance = model.instance_of(given, site.scope) if given is not None else None
                if instance is not None and instance.kind == OPTIMIZER:
                    calls.append((site, instance, f"{origin}:{line}"))
    return found


def _method_of_optimizer(model, call: cst.Call, method: str, site: CallSite) -> Instance | None:
    found = call_method(call)
    if found is None or found[1] != method:
        return None
    instance = model.instance_of(found[0], site.scope)
    return instance if instance is not None and instance.kind == OPTIMIZER else None


def _forgotten(model: SemanticModel, optimizer: Instance, site: CallSite, contents) -> list[Instance]:
    """The schedulers bound to `optimizer` and stepped in the file, when the file keeps the state of
    none of the schedulers bound to it (keeping one, it handles phases such as SWA on purpose)."""
    if in_lightning_module(model, site.scope):
        return []
    bound = [s for s in model.instances_of_kind(SCHEDULER) if s.optimizer is not None and s.optimizer.call is optimizer.call]
    if any(in_lightning_module(model, s.assignment.resolution_scope) or scheduler_is_restored(model, s)
           or mentions(model, contents, site.scope, s) for s in bound):
        return []
    return [scheduler for scheduler in bound if scheduler_steps(model, scheduler)]
