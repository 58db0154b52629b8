"""Run by `torchrun --nproc-per-node 2` from test_runtime_distributed.py: each rank runs every scenario
on the gloo backend (CPU) and writes what it saw to OUT_DIR/rank<N>.json. Not a test module.

Every scenario ends with a barrier: a rank left behind in a collective would make it time out.
OPTLINT_TEST_SCENARIOS (comma-separated names) runs some of them only; OPTLINT_TEST_NO_NUMPY makes numpy
unimportable, as where `optlint[runtime]` is installed without it.
"""

from __future__ import annotations

import datetime
import json
import os
import sys
import traceback
from pathlib import Path

if os.environ.get("OPTLINT_TEST_NO_NUMPY"):
    sys.modules["numpy"] = None  # before torch is imported: torch then runs without numpy, as when it is absent

import torch  # noqa: E402
import torch.distributed as dist  # noqa: E402
from torch import nn  # noqa: E402
from torch.distributed.device_mesh import init_device_mesh  # noqa: E402
from torch.distributed.fsdp import FullyShardedDataParallel, fully_shard  # noqa: E402
from torch.distributed.fsdp.wrap import ModuleWrapPolicy  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))

import optlint  # noqa: E402
from runtime_models import Block, TinyViT  # noqa: E402

SCENARIOS = {}


def scenario(fn):
    SCENARIOS[fn.__name__] = fn
    return fn


def without_head(model: nn.Module) -> list:
    return [p for name, p in model.named_parameters() if not name.startswith("head.")]


def outcome(call) -> dict:
    """What a call did on this rank: returned a report, or raised (the type and message)."""
    try:
        report = call()
    except Exception as exc:  # noqa: BLE001 - the error is the result
        return {"raised": type(exc).__name__, "message": str(exc)}
    return {"raised": None, "codes": [f.code for f in report.findings], "notes": [n for part in report for n in part.notes]}


def local(report) -> dict:
    return {"codes": [f.code for f in report.findings], "messages": [f.message for f in report.findings],
            "names": [name for group in report.groups for name in group.names]}


@scenario
def numpy_in_this_worker(rank: int) -> dict:
    try:
        torch.zeros(1).numpy()
    except RuntimeError:  # "Numpy is not available"
        return {"works": False}
    return {"works": True}


@scenario
def assert_passes_on_every_rank(rank: int) -> dict:
    model = TinyViT()
    return outcome(lambda: optlint.assert_setup(model, torch.optim.AdamW(model.parameters())))


@scenario
def only_rank_1_leaves_the_head_out(rank: int) -> dict:
    model = TinyViT()
    optimizer = torch.optim.AdamW(without_head(model) if rank == 1 else model.parameters())
    return outcome(lambda: optlint.assert_setup(model, optimizer))


@scenario
def only_rank_1_cannot_be_checked(rank: int) -> dict:
    model = TinyViT()
    optimizer = torch.optim.AdamW(model.parameters())
    return outcome(lambda: optlint.assert_setup(model, optimizer if rank == 0 else list(model.parameters())))


@scenario
def several_optimizers_rank_1_leaves_the_head_out(rank: int) -> dict:
    model = TinyViT()
    blocks = [p for name, p in model.named_parameters() if name.startswith("blocks.")]
    rest = [p for name, p in model.named_parameters()
            if not name.startswith("blocks.") and (rank == 0 or not name.startswith("head."))]
    return outcome(lambda: optlint.assert_setup(model, [torch.optim.AdamW(blocks), torch.optim.SGD(rest)]))


@scenario
def rank_1_has_a_second_optimizer_with_a_misspelled_key(rank: int) -> dict:
    model = TinyViT()
    if rank == 0:
        return outcome(lambda: optlint.assert_setup(model, [torch.optim.AdamW(model.parameters())]))
    blocks = [p for name, p in model.named_parameters() if name.startswith("blocks.")]
    rest = [p for name, p in model.named_parameters() if not name.startswith("blocks.")]
    optimizers = [torch.optim.AdamW(blocks), torch.optim.SGD([{"params": rest, "learning_rate": 1e-3}], lr=0.1)]
    return outcome(lambda: optlint.assert_setup(model, optimizers))


@scenario
def a_check_on_rank_0_alone(rank: int) -> dict:
    model = TinyViT()
    if rank != 0:
        return {}
    optimizer = torch.optim.AdamW(without_head(model))
    return outcome(lambda: optlint.assert_setup(model, optimizer, all_ranks=False))


@scenario
def ddp(rank: int) -> dict:
    model = nn.parallel.DistributedDataParallel(TinyViT())
    return {"all": local(optlint.check_setup(model, torch.optim.AdamW(model.parameters()))),
            "no_head": local(optlint.check_setup(model, torch.optim.AdamW(without_head(model.module))))}


@scenario
def fsdp2(rank: int) -> dict:
    mesh = init_device_mesh("cpu", (dist.get_world_size(),))
    early = TinyViT()
    built_before_sharding = torch.optim.AdamW(early.parameters())
    model = TinyViT()
    for block in model.blocks:
        fully_shard(block, mesh=mesh)
    fully_shard(model, mesh=mesh)
    fully_shard(early, mesh=mesh)
    return {"dtensor": all(type(p).__name__ == "DTensor" for p in model.parameters()),
            "all": local(optlint.check_setup(model, torch.optim.AdamW(model.parameters()))),
            "no_head": local(optlint.check_setup(model, torch.optim.AdamW(without_head(model)))),
            "built_before_sharding": local(optlint.check_setup(early, built_before_sharding))}


@scenario
def fsdp1_with_original_params(rank: int) -> dict:
    model = FullyShardedDataParallel(TinyViT(), use_orig_params=True, auto_wrap_policy=ModuleWrapPolicy({Block}),
                                     device_id=torch.device("cpu"))
    raw_names = [name for name, _ in model.named_parameters()]
    no_head = torch.optim.AdamW([p for name, p in zip(raw_names, model.parameters()) if ".head." not in name])
    return {"raw_names": raw_names,
            "all": local(optlint.check_setup(model, torch.optim.AdamW(model.parameters()))),
            "no_head": local(optlint.check_setup(model, no_head)),
            "asserted": outcome(lambda: optlint.assert_setup(model, no_head))}


def main(out_dir: Path) -> None:
    (out_dir / f"pid-{os.environ['RANK']}").write_text(str(os.getpid()))  # to end it if torchrun cannot
    dist.init_process_group("gloo", timeout=datetime.timedelta(seconds=60))
    rank = dist.get_rank()
    results = {}
    chosen = os.environ.get("OPTLINT_TEST_SCENARIOS")
    for name, run in SCENARIOS.items():
        if chosen and name not in chosen.split(","):
            continue
        torch.manual_seed(0)
        try:
            results[name] = run(rank)
        except Exception:  # noqa: BLE001 - reported to the test, which fails on it
            results[name] = {"crashed": traceback.format_exc()}
        dist.barrier()
    (out_dir / f"rank{rank}.json").write_text(json.dumps(results, indent=1))
    dist.destroy_process_group()
    # Leave without the interpreter's C++ teardown: torch 2.13's gloo now and then aborts there
    # ("terminate called without an active exception", SIGABRT) after the results are written.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
