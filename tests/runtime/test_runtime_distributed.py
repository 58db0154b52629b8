"""Two ranks under `torchrun --nproc-per-node 2` (gloo, CPU): assert_setup on every rank, and the
wrapped models people train with (DDP, FSDP2's fully_shard, FSDP1 with use_orig_params=True).

One torchrun runs every scenario of distributed_worker.py; each rank writes what it saw. A hard
timeout ends torchrun and its workers, so a rank stuck in a collective fails the test, never hangs it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch

WORKER = Path(__file__).with_name("distributed_worker.py")
TIMEOUT_S = 240
RANKS = 2

pytestmark = pytest.mark.skipif(not torch.distributed.is_available() or not torch.distributed.is_gloo_available(),
                                reason="this torch build has no torch.distributed with the gloo backend")


@pytest.fixture(scope="module")
def ranks(tmp_path_factory) -> list[dict]:
    return torchrun(tmp_path_factory.mktemp("ranks"))


@pytest.fixture(scope="module")
def ranks_without_numpy(tmp_path_factory) -> list[dict]:
    return torchrun(tmp_path_factory.mktemp("no_numpy"), OPTLINT_TEST_NO_NUMPY="1",
                    OPTLINT_TEST_SCENARIOS="numpy_in_this_worker,assert_passes_on_every_rank,"
                                           "several_optimizers_rank_1_leaves_the_head_out")


def torchrun(out: Path, **env: str) -> list[dict]:
    """Run the worker on RANKS ranks; what each rank saw, by scenario."""
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={RANKS}",
               str(WORKER), str(out)]
    log = out / "torchrun.log"
    with log.open("w") as sink:  # a file, not a pipe: a worker left alive could hold a pipe open forever
        run = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True,
                               env={**os.environ, "OMP_NUM_THREADS": "1", **env})
        try:
            run.wait(timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            stop(run, out)
            pytest.fail(f"torchrun did not finish in {TIMEOUT_S} s (a rank waits in a collective):\n"
                        f"{log.read_text()[-3000:]}")
    assert run.returncode == 0, log.read_text()[-3000:]
    results = [json.loads((out / f"rank{rank}.json").read_text()) for rank in range(RANKS)]
    crashed = {(rank, name): r["crashed"] for rank, result in enumerate(results)
               for name, r in result.items() if "crashed" in r}
    assert not crashed, crashed
    return results


def stop(run: subprocess.Popen, out: Path) -> None:
    """End torchrun and its workers. The workers run in sessions of their own, out of reach of a signal to
    torchrun's process group: SIGTERM makes torchrun end them; if it does not, they are killed by their pid."""
    run.terminate()
    try:
        run.wait(timeout=30)
        return
    except subprocess.TimeoutExpired:
        run.kill()
        run.wait()
    for pid_file in out.glob("pid-*"):
        pid = int(pid_file.read_text())
        cmdline = Path(f"/proc/{pid}/cmdline")
        if cmdline.exists() and WORKER.name in cmdline.read_text(errors="replace"):
            os.kill(pid, signal.SIGKILL)


def test_a_correct_setup_passes_on_every_rank(ranks):
    for result in ranks:
        assert result["assert_passes_on_every_rank"]["raised"] is None
        assert result["assert_passes_on_every_rank"]["codes"] == []


def test_a_parameter_missing_on_rank_1_raises_the_same_error_on_every_rank(ranks):
    seen = [result["only_rank_1_leaves_the_head_out"] for result in ranks]
    assert [s["raised"] for s in seen] == ["OptimizerSetupError"] * RANKS
    assert seen[0]["message"] == seen[1]["message"]
    assert "OPT101 [error] param-not-in-optimizer: on rank 1 of 2: 2 trainable parameters" in seen[0]["message"]
    assert "`head.*` (2 tensors)" in seen[0]["message"]


def test_several_optimizers_are_checked_on_every_rank(ranks):
    seen = [result["several_optimizers_rank_1_leaves_the_head_out"] for result in ranks]
    assert [s["raised"] for s in seen] == ["OptimizerSetupError"] * RANKS
    assert seen[0]["message"] == seen[1]["message"]
    assert "on rank 1 of 2: 2 trainable parameters" in seen[0]["message"] and "`head.*` (2 tensors)" in seen[0]["message"]
    assert seen[0]["message"].count("OPT101") == 1 and "AdamW" in seen[0]["message"] and "SGD" in seen[0]["message"]


def test_a_finding_on_an_optimizer_only_rank_1_has_is_not_dropped(ranks):
    seen = [result["rank_1_has_a_second_optimizer_with_a_misspelled_key"] for result in ranks]
    assert [s["raised"] for s in seen] == ["OptimizerSetupError"] * RANKS
    assert seen[0]["message"] == seen[1]["message"]
    assert "on rank 1 of 2: optimizer 1: group 0 has key `learning_rate`" in seen[0]["message"]
    assert "the ranks check different numbers of optimizers (rank 0: 1, rank 1: 2)" in seen[0]["message"]


def test_assert_setup_needs_no_numpy_on_any_rank(ranks_without_numpy):
    for result in ranks_without_numpy:
        assert result["numpy_in_this_worker"] == {"works": False}
        assert result["assert_passes_on_every_rank"]["raised"] is None
        assert result["several_optimizers_rank_1_leaves_the_head_out"]["raised"] == "OptimizerSetupError"
    messages = [result["several_optimizers_rank_1_leaves_the_head_out"]["message"] for result in ranks_without_numpy]
    assert messages[0] == messages[1] and "on rank 1 of 2: 2 trainable parameters" in messages[0]


def test_a_check_that_raises_on_rank_1_raises_on_every_rank(ranks):
    rank0, rank1 = (result["only_rank_1_cannot_be_checked"] for result in ranks)
    assert rank1 == {"raised": "TypeError", "message": "optimizer must be a torch.optim.Optimizer or a list of them, got list"}
    assert rank0["raised"] == "RankCheckError"
    assert rank0["message"] == f"the optimizer set-up check raised on rank 1: TypeError: {rank1['message']}"


def test_all_ranks_false_checks_one_rank_without_a_collective(ranks):
    rank0, rank1 = (result["a_check_on_rank_0_alone"] for result in ranks)
    assert rank0["raised"] == "OptimizerSetupError" and "on rank" not in rank0["message"]
    assert rank1 == {}  # rank 1 never called it, and the barrier after the scenario was still reached


@pytest.mark.parametrize("wrapper", ["ddp", "fsdp2", "fsdp1_with_original_params"])
def test_wrapped_models_are_checked_under_the_names_the_user_wrote_on_every_rank(ranks, wrapper):
    for result in ranks:
        seen = result[wrapper]
        assert seen["all"]["codes"] == []
        names = seen["all"]["names"]
        assert "blocks.0.attn.in_proj_weight" in names and "head.bias" in names and len(names) == 43
        assert not any("module" in name for name in names)
        assert seen["no_head"]["codes"] == ["OPT101"]
        assert "in no param group: `head.*` (2 tensors)" in seen["no_head"]["messages"][0]


def test_fsdp1_names_carry_the_wrapper_attribute_that_the_check_drops(ranks):
    raw = ranks[0]["fsdp1_with_original_params"]["raw_names"]
    assert "_fsdp_wrapped_module.blocks.0._fsdp_wrapped_module.attn.in_proj_weight" in raw


def test_fsdp1_assert_gives_the_same_error_on_every_rank_though_shards_differ(ranks):
    seen = [result["fsdp1_with_original_params"]["asserted"] for result in ranks]
    assert seen[0]["raised"] == "OptimizerSetupError" and seen[0]["message"] == seen[1]["message"]
    assert "on rank" not in seen[0]["message"]  # every rank left the head out: one finding, no rank named


def test_fully_shard_swaps_parameters_for_dtensors_so_an_earlier_optimizer_trains_nothing(ranks):
    for result in ranks:
        seen = result["fsdp2"]
        assert seen["dtensor"]
        assert seen["built_before_sharding"]["codes"] == ["OPT101", "OPT104"]
        assert "the same shapes as all of the model's parameters" in seen["built_before_sharding"]["messages"][1]
