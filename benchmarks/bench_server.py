"""How fast `optlint server` answers an edit, and whether it holds on to memory.

A real LSP client (pygls) starts `python -m optlint server` over stdio, opens an 800-line training
file (the optimizer set-up, a scheduler, a training loop and helper code around it, as a real
script has) and edits one line of it, again and again, waiting for each `publishDiagnostics`:

- latency: the median time from sending `didChange` to receiving its diagnostics, over --edits
  edits, each after a pause (the server lints the first change after a pause at once; a change
  within its debounce window waits for the next keystroke, which a benchmark of bursts would time);
- memory: the server's resident set after --warm-edits edits, and again after --memory-edits; the
  growth between them (target: none beyond 10%).

    .venv/bin/python benchmarks/bench_server.py                 # about a minute
    .venv/bin/python benchmarks/bench_server.py --edits 20 --memory-edits 1000
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient

SETUP = """\
import math

import torch
from torch import nn


class Block(nn.Module):
    def __init__(self, width: int):
        super().__init__()
        self.norm = nn.LayerNorm(width)
        self.linear = nn.Linear(width, width)

    def forward(self, x):
        return x + self.linear(self.norm(x))


model = nn.Sequential(*[Block(256) for _ in range(8)], nn.Linear(256, 10))
decay = [p for n, p in model.named_parameters() if p.ndim > 1]
no_decay = [p for n, p in model.named_parameters() if p.ndim <= 1]
optimizer = torch.optim.AdamW(
    [{"params": decay, "weight_decay": 0.05}, {"params": no_decay, "weight_decay": 0.0}],
    lr=3e-4,
)
scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=1e-3, total_steps=10_000)
EDITED_LINE = 0.1
"""
HELPER = """\


def helper_{i}(batch, scale={i}):
    \"\"\"Helper {i}: the kind of code that surrounds a training loop.\"\"\"
    values = [value * scale for value in batch]
    total = sum(values)
    if total > {i}:
        values = [value / total for value in values]
    mean = total / max(len(values), 1)
    spread = math.sqrt(sum((v - mean) ** 2 for v in values) / max(len(values), 1))
    return {{"mean": mean, "spread": spread, "count": len(values)}}
"""
LOOP = """\


def train(loader, epochs: int):
    for epoch in range(epochs):
        for inputs, targets in loader:
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(model(inputs), targets)
            loss.backward()
            scheduler.step()
            optimizer.step()
"""


def training_file(lines: int = 800) -> str:
    helpers, text = 0, SETUP + LOOP
    while text.count("\n") + HELPER.count("\n") <= lines:
        text += HELPER.format(i=helpers)
        helpers += 1
    return text + "\n" * (lines - text.count("\n"))


class Client(LanguageClient):
    def __init__(self):
        super().__init__("optlint-bench", "1")
        self.published: asyncio.Queue = asyncio.Queue()

        @self.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def on_diagnostics(ls: Client, params: types.PublishDiagnosticsParams) -> None:
            ls.published.put_nowait((time.perf_counter(), params))

        @self.feature(types.WINDOW_LOG_MESSAGE)
        def on_log(ls: Client, params) -> None:
            pass

        @self.feature(types.WINDOW_SHOW_MESSAGE)
        def on_message(ls: Client, params) -> None:
            print(f"server says: {params.message}", file=sys.stderr)


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


async def edit(client: Client, uri: str, version: int, text: str) -> float:
    """Seconds from sending the change to the diagnostics of that version."""
    sent = time.perf_counter()
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        types.VersionedTextDocumentIdentifier(uri=uri, version=version),
        [types.TextDocumentContentChangeWholeDocument(text=text)]))
    while True:
        received, params = await asyncio.wait_for(client.published.get(), 60)
        if params.uri == uri and params.version == version:
            return received - sent


async def run(args) -> None:
    root = Path(tempfile.mkdtemp(prefix="optlint-bench-server-"))
    path = root / "train.py"
    text = training_file(args.lines)
    path.write_text(text, encoding="utf-8")
    uri = path.as_uri()
    client = Client()
    await client.start_io(sys.executable, "-m", "optlint", "server")
    await client.initialize_async(types.InitializeParams(capabilities=types.ClientCapabilities(),
                                                         root_uri=root.as_uri()))
    client.initialized(types.InitializedParams())
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)))
    await asyncio.wait_for(client.published.get(), 60)
    version = 1

    def edited(n: int) -> str:  # one value on one line changes, as when typing a number
        return text.replace("EDITED_LINE = 0.1", f"EDITED_LINE = 0.{n + 2}")

    latencies = []
    for n in range(args.edits):
        await asyncio.sleep(args.pause)
        version += 1
        latencies.append(await edit(client, uri, version, edited(n)))
    pid = client._server.pid
    for n in range(args.warm_edits):
        version += 1
        await edit(client, uri, version, edited(n))
    before = rss_kib(pid)
    for n in range(args.memory_edits - args.warm_edits):
        version += 1
        await edit(client, uri, version, edited(n))
    after = rss_kib(pid)
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()

    print(f"file: {text.count(chr(10))} lines; {args.edits} edits, {args.pause}s apart")
    print(f"didChange -> publishDiagnostics: median {statistics.median(latencies) * 1000:.1f} ms, "
          f"min {min(latencies) * 1000:.1f} ms, max {max(latencies) * 1000:.1f} ms (target: median <= 50 ms)")
    print(f"server RSS after {args.warm_edits} edits: {before / 1024:.1f} MiB; after {args.memory_edits} edits: "
          f"{after / 1024:.1f} MiB; growth {100 * (after - before) / before:+.1f}% (target: <= 10%)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=800)
    parser.add_argument("--edits", type=int, default=20, help="timed edits")
    parser.add_argument("--pause", type=float, default=0.3, help="seconds between timed edits")
    parser.add_argument("--warm-edits", type=int, default=100, help="edits before the first memory reading")
    parser.add_argument("--memory-edits", type=int, default=1000, help="edits before the second")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
