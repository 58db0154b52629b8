"""check_setup on what `accelerator.prepare` returns, against the LRs of a real loop written as accelerate's
`*_no_trainer` examples write it (`scheduler.step()` after every batch inside `accelerator.accumulate`).

Several processes are simulated in this one process: the shared PartialState says `num_processes=2`, which is
all AcceleratedScheduler and the data loader sharding read (launching real processes costs tens of seconds)."""

from __future__ import annotations

import pytest
import torch

accelerate = pytest.importorskip("accelerate", reason="the `accelerate` extra is not installed")
transformers = pytest.importorskip("transformers", reason="the `transformers` extra is not installed")

from accelerate.state import AcceleratorState, GradientState, PartialState  # noqa: E402
from accelerate.utils import DataLoaderConfiguration  # noqa: E402

import optlint  # noqa: E402

BATCHES = 24  # of the whole data set; each process gets BATCHES / num_processes


@pytest.fixture
def accelerator_of():
    def make(processes=1, **options):
        accelerator = accelerate.Accelerator(cpu=True, **options)
        PartialState._shared_state["num_processes"] = processes
        return accelerator

    yield make
    AcceleratorState._reset_state(reset_partial_state=True)
    GradientState._reset_state()


def prepared(accelerator, schedule):
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    data = accelerator.prepare(
        torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.randn(BATCHES * 2, 4)), batch_size=2))
    steps = len(data) // accelerator.gradient_accumulation_steps  # this process's optimizer steps
    scheduler = schedule(optimizer, steps, AcceleratorState().num_processes)
    return (*accelerator.prepare(model, optimizer), data, accelerator.prepare(scheduler), steps)


def real_lrs(accelerator, model, optimizer, data, scheduler) -> list[float]:
    """The LR of each real optimizer step of one epoch."""
    lrs = []
    for (inputs,) in data:
        with accelerator.accumulate(model):
            accelerator.backward(model(inputs).square().mean())
            if accelerator.sync_gradients:
                lrs.append(optimizer.param_groups[0]["lr"])
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
    return lrs


def hf_linear_as_the_examples_size_it(optimizer, steps, processes):
    return transformers.get_linear_schedule_with_warmup(optimizer, 2 * processes, steps * processes)


RUNS = {
    "two-processes": (dict(processes=2), hf_linear_as_the_examples_size_it),
    "two-processes-split-batches": (
        dict(processes=2, dataloader_config=DataLoaderConfiguration(split_batches=True)),
        lambda o, steps, processes: transformers.get_linear_schedule_with_warmup(o, 2, steps)),
    "accumulating-3": (dict(gradient_accumulation_steps=3), hf_linear_as_the_examples_size_it),
    "onecycle-two-processes": (dict(processes=2),
                               lambda o, steps, processes: torch.optim.lr_scheduler.OneCycleLR(
                                   o, max_lr=1e-3, total_steps=steps * processes)),
}


@pytest.mark.parametrize("run", RUNS)
def test_the_preview_is_what_accelerate_steps(accelerator_of, run):
    options, schedule = RUNS[run]
    accelerator = accelerator_of(**options)
    model, optimizer, data, scheduler, steps = prepared(accelerator, schedule)
    report = optlint.check_setup(model, optimizer, scheduler, epochs=1, steps_per_epoch=steps)
    assert report.findings == [], str(report)
    assert report.schedule[0] == real_lrs(accelerator, model, optimizer, data, scheduler)
    assert any(note.startswith("accelerate steps the scheduler") for note in report.notes)


def test_a_schedule_sized_for_one_process_decays_twice_as_fast_and_is_opt113(accelerator_of):
    accelerator = accelerator_of(processes=2)
    model, optimizer, data, scheduler, steps = prepared(
        accelerator, lambda o, steps, processes: transformers.get_linear_schedule_with_warmup(o, 2, steps))
    report = optlint.check_setup(model, optimizer, scheduler, epochs=1, steps_per_epoch=steps)
    assert report.schedule[0] == real_lrs(accelerator, model, optimizer, data, scheduler)
    assert report.schedule[0][steps // 2:] == [0.0] * (steps - steps // 2)
    [finding] = report.findings
    assert finding.code == "OPT113" and f"`num_training_steps={steps * 2}` would fit" in finding.message
