"""`optlint server` driven by a real LSP client (pytest-lsp) over stdio, one server process per test."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
import pytest_lsp
from click.testing import CliRunner
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from optlint.cli import main

TIMEOUT_S = 30  # generous: the machine may be loaded; every wait ends as soon as its condition holds

TRAIN = """\
import torch

model = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.Linear(4, 2))
optimizer = torch.optim.AdamW(
    [{"params": model[0].parameters()}, {"params": model[1].parameters(), "learning_rate": 1e-3}],
    lr=1e-5,
)
scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.9)
for epoch in range(10):
    optimizer.step()
    scheduler.step()
    print(scheduler.get_lr())
"""
KEY_COLUMN = TRAIN.splitlines()[4].index('"learning_rate"')


def _workspace(root: Path, optlint_table: str = 'ignore = ["OPT014"]\n') -> Path:
    (root / "pyproject.toml").write_text(f"[tool.optlint]\n{optlint_table}", encoding="utf-8")
    return root


def _editor_client() -> LanguageClient:
    """pytest-lsp's client, taking dynamic registrations as an editor does (and keeping them)."""
    client = pytest_lsp.make_test_lsp_client()
    client.registrations = []

    @client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register(ls: LanguageClient, params: types.RegistrationParams) -> None:
        ls.registrations.extend(params.registrations)

    return client


SERVER = ClientServerConfig(server_command=[sys.executable, "-m", "optlint", "server"], client_factory=_editor_client)


@pytest_lsp.fixture(config=SERVER)
async def client(lsp_client: LanguageClient, tmp_path: Path):
    root = _workspace(tmp_path)
    await lsp_client.initialize_session(types.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"),
        workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name="project")],
        root_uri=root.as_uri()))
    yield
    await lsp_client.shutdown_session()


async def _until(condition, what: str):
    deadline = time.monotonic() + TIMEOUT_S
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


async def _diagnostics(client: LanguageClient, uri: str, codes: list[str]) -> list[types.Diagnostic]:
    """The diagnostics of `uri` once they are exactly `codes`."""
    def shown():
        return [d.code for d in client.diagnostics.get(uri, [None])] if uri in client.diagnostics else None

    await _until(lambda: shown() == codes, f"{codes} on {uri} (last: {shown()})")
    return list(client.diagnostics[uri])


def _open(client: LanguageClient, path: Path, text: str, language: str = "python") -> str:
    path.write_text(text, encoding="utf-8")
    uri = path.as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        types.TextDocumentItem(uri=uri, language_id=language, version=1, text=text)))
    return uri


def _apply(text: str, edit: types.TextEdit) -> str:
    lines = text.splitlines(keepends=True)
    def offset(p: types.Position) -> int:
        return sum(len(line) for line in lines[:p.line]) + p.character
    return text[: offset(edit.range.start)] + edit.new_text + text[offset(edit.range.end):]


def _change(client: LanguageClient, uri: str, version: int, text: str) -> None:
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        types.VersionedTextDocumentIdentifier(uri=uri, version=version),
        [types.TextDocumentContentChangeWholeDocument(text=text)]))


async def _actions(client: LanguageClient, uri: str, diagnostic: types.Diagnostic) -> list[types.CodeAction]:
    return await client.text_document_code_action_async(types.CodeActionParams(
        types.TextDocumentIdentifier(uri), diagnostic.range, types.CodeActionContext(diagnostics=[diagnostic])))


@pytest.mark.asyncio
async def test_finding_shown_at_its_range_then_quick_fix_clears_it(client: LanguageClient, tmp_path: Path):
    uri = _open(client, tmp_path / "train.py", TRAIN)
    [diagnostic] = await _diagnostics(client, uri, ["OPT003"])  # OPT014 is ignored by the workspace's config
    assert diagnostic.range == types.Range(types.Position(4, KEY_COLUMN),
                                           types.Position(4, KEY_COLUMN + len('"learning_rate"')))
    assert diagnostic.source == "optlint"
    assert diagnostic.severity == types.DiagnosticSeverity.Error
    assert diagnostic.code_description.href.endswith("/OPT003.md")
    assert Path(unquote(urlparse(diagnostic.code_description.href).path)).read_text().startswith(
        "---\nname: unknown-param-group-key\n")

    actions = await _actions(client, uri, diagnostic)
    fix = next(a for a in actions if a.is_preferred)
    [edit] = fix.edit.changes[uri]
    fixed = _apply(TRAIN, edit)
    assert '"lr": 1e-3' in fixed and "learning_rate" not in fixed

    _change(client, uri, 2, fixed)
    assert await _diagnostics(client, uri, []) == []


@pytest.mark.asyncio
async def test_noqa_action_silences_the_finding(client: LanguageClient, tmp_path: Path):
    uri = _open(client, tmp_path / "train.py", TRAIN)
    [diagnostic] = await _diagnostics(client, uri, ["OPT003"])
    noqa = next(a for a in await _actions(client, uri, diagnostic) if "noqa" in a.title)
    silenced = _apply(TRAIN, noqa.edit.changes[uri][0])
    assert "# noqa: OPT003" in silenced.splitlines()[4]

    _change(client, uri, 2, silenced)
    await _diagnostics(client, uri, [])


@pytest.mark.asyncio
async def test_hover_on_a_finding_shows_its_rule_page(client: LanguageClient, tmp_path: Path):
    uri = _open(client, tmp_path / "train.py", TRAIN)
    [diagnostic] = await _diagnostics(client, uri, ["OPT003"])
    hover = await client.text_document_hover_async(types.HoverParams(
        types.TextDocumentIdentifier(uri), diagnostic.range.start))
    assert hover.contents.value.startswith("# OPT003 unknown-param-group-key")
    nothing = await client.text_document_hover_async(types.HoverParams(
        types.TextDocumentIdentifier(uri), types.Position(0, 0)))
    assert nothing is None


@pytest.mark.asyncio
async def test_edits_are_linted_in_memory_not_from_disk(client: LanguageClient, tmp_path: Path):
    uri = _open(client, tmp_path / "train.py", TRAIN)
    await _diagnostics(client, uri, ["OPT003"])
    _change(client, uri, 2, TRAIN.replace('"learning_rate"', '"momentun"').replace("AdamW", "SGD"))
    # The disk still says learning_rate; the finding follows the editor.
    await _until(lambda: "`momentun`" in str(client.diagnostics[uri]), "the finding for the edited key")


@pytest.mark.asyncio
async def test_a_file_that_does_not_parse_gives_one_opt000(client: LanguageClient, tmp_path: Path):
    uri = _open(client, tmp_path / "broken.py", "import torch\noptimizer = torch.optim.SGD(params, lr=(\n")
    [diagnostic] = await _diagnostics(client, uri, ["OPT000"])
    assert diagnostic.severity == types.DiagnosticSeverity.Error
    _change(client, uri, 2, TRAIN)  # the server is still there
    await _diagnostics(client, uri, ["OPT003"])


@pytest.mark.asyncio
async def test_pyproject_change_reloads_the_configuration(client: LanguageClient, tmp_path: Path):
    uri = _open(client, tmp_path / "train.py", TRAIN)
    await _diagnostics(client, uri, ["OPT003"])
    watched = [w["globPattern"] for r in client.registrations for w in r.register_options["watchers"]]
    assert "**/pyproject.toml" in watched and "**/*.py" in watched
    _workspace(tmp_path, 'ignore = ["OPT003"]\n')
    client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams([types.FileEvent(
        uri=(tmp_path / "pyproject.toml").as_uri(), type=types.FileChangeType.Changed)]))
    await _diagnostics(client, uri, ["OPT014"])


@pytest.mark.asyncio
async def test_editor_settings_are_a_layer_over_the_file(client: LanguageClient, tmp_path: Path):
    uri = _open(client, tmp_path / "train.py", TRAIN)
    await _diagnostics(client, uri, ["OPT003"])
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"optlint": {"extendSelect": ["OPT014"], "ignore": ["OPT003"]}}))
    await _diagnostics(client, uri, ["OPT014"])


@pytest.mark.asyncio
async def test_bad_editor_settings_are_one_message_and_the_server_goes_on(client: LanguageClient, tmp_path: Path):
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"optlint": {"ignore": ["OPT9999"]}}))
    await _until(lambda: any("OPT9999" in m.message for m in client.messages), "the error message")
    uri = _open(client, tmp_path / "train.py", TRAIN)
    await _diagnostics(client, uri, ["OPT003"])


@pytest.mark.asyncio
async def test_excluded_file_has_no_diagnostics(client: LanguageClient, tmp_path: Path):
    _workspace(tmp_path, 'extend-exclude = ["legacy"]\n')
    (tmp_path / "legacy").mkdir()
    uri = _open(client, tmp_path / "legacy" / "train.py", TRAIN)
    await _diagnostics(client, uri, [])


@pytest.mark.asyncio
async def test_notebook_cells_get_their_own_findings(client: LanguageClient, tmp_path: Path):
    notebook_uri = (tmp_path / "train.ipynb").as_uri()
    setup, loop = TRAIN.split("for epoch")
    cells = ["%matplotlib inline\n" + setup, "!nvidia-smi\nfor epoch" + loop]
    cell_uris = [f"{notebook_uri}#cell{i}" for i in range(len(cells))]
    client.notebook_document_did_open(types.DidOpenNotebookDocumentParams(
        notebook_document=types.NotebookDocument(uri=notebook_uri, notebook_type="jupyter-notebook", version=1,
            cells=[types.NotebookCell(kind=types.NotebookCellKind.Code, document=u) for u in cell_uris]),
        cell_text_documents=[types.TextDocumentItem(uri=u, language_id="python", version=1, text=text)
                             for u, text in zip(cell_uris, cells)]))
    [diagnostic] = await _diagnostics(client, cell_uris[0], ["OPT003"])
    assert diagnostic.range.start == types.Position(5, KEY_COLUMN)  # one row lower: the magic stays in the cell
    await _diagnostics(client, cell_uris[1], [])

    client.notebook_document_did_change(types.DidChangeNotebookDocumentParams(  # the user fixes the key
        types.VersionedNotebookDocumentIdentifier(version=2, uri=notebook_uri),
        types.NotebookDocumentChangeEvent(cells=types.NotebookDocumentCellChanges(text_content=[
            types.NotebookDocumentCellContentChanges(
                document=types.VersionedTextDocumentIdentifier(uri=cell_uris[0], version=2),
                changes=[types.TextDocumentContentChangeWholeDocument(cells[0].replace("learning_rate", "lr"))])]))))
    await _diagnostics(client, cell_uris[0], [])

    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"optlint": {"extendSelect": ["OPT014"], "ignore": ["OPT003"]}}))
    [diagnostic] = await _diagnostics(client, cell_uris[1], ["OPT014"])  # found across cells: the scheduler is
    assert diagnostic.range.start.line == 4  # built in the first one                          (row 4 of cell 2)

    client.notebook_document_did_close(types.DidCloseNotebookDocumentParams(
        types.NotebookDocumentIdentifier(notebook_uri), [types.TextDocumentIdentifier(u) for u in cell_uris]))
    await _diagnostics(client, cell_uris[1], [])


NOTEBOOK_CELLS = [
    ("markdown", "# Train"),
    ("code", "%matplotlib inline\nimport torch\nfiles = !ls\ntorch.optim.AdamW?\n?torch.optim\n"
             "model = torch.nn.Linear(2, 2)\nopt = torch.optim.AdamW(model.parameters(), learning_rate=1e-3)"),
    ("code", "%%bash\necho $((1 + 1))"),
    ("code", "%%time\nfor epoch in range(2):\n    !echo $epoch\n"
             "    tuned = torch.optim.SGD(model.parameters(), learning_rate=0.1)"),
]


@pytest.mark.asyncio
async def test_the_editor_shows_what_optlint_check_reports_for_a_notebook(client: LanguageClient, tmp_path: Path):
    path = tmp_path / "train.ipynb"
    path.write_text(json.dumps({"cells": [{"cell_type": kind, "metadata": {}, "source": source}
                                          for kind, source in NOTEBOOK_CELLS],
                                "metadata": {"language_info": {"name": "python"}}, "nbformat": 4, "nbformat_minor": 5}))
    result = CliRunner().invoke(main, ["check", "--no-cache", "--output-format", "json", str(path)])
    reported = sorted((f["code"], f["cell"], f["location"]["row"], f["location"]["column"])
                      for f in json.loads(result.output))
    assert {cell for _, cell, _, _ in reported} == {2, 4}  # after masked lines, in a `%%time` cell; no `%%bash`

    cell_uris = [f"{path.as_uri()}#cell{i}" for i in range(len(NOTEBOOK_CELLS))]
    kinds = {"markdown": types.NotebookCellKind.Markup, "code": types.NotebookCellKind.Code}
    client.notebook_document_did_open(types.DidOpenNotebookDocumentParams(
        notebook_document=types.NotebookDocument(uri=path.as_uri(), notebook_type="jupyter-notebook", version=1,
            cells=[types.NotebookCell(kind=kinds[kind], document=u) for u, (kind, _) in zip(cell_uris, NOTEBOOK_CELLS)]),
        cell_text_documents=[types.TextDocumentItem(uri=u, language_id="markdown" if kind == "markdown" else "python",
                                                    version=1, text=text)
                             for u, (kind, text) in zip(cell_uris, NOTEBOOK_CELLS)]))
    shown = []
    for number, uri in enumerate(cell_uris[1:], start=2):
        for d in await _diagnostics(client, uri, sorted(code for code, cell, _, _ in reported if cell == number)):
            shown.append((d.code, number, d.range.start.line + 1, d.range.start.character + 1))
    assert sorted(shown) == reported


@pytest.mark.asyncio
async def test_shutdown_then_exit_within_two_seconds(tmp_path: Path):
    """Own client: the fixture's teardown would shut the server down a second time."""
    lsp = await SERVER.start()
    root = _workspace(tmp_path)
    await lsp.initialize_session(types.InitializeParams(  # Helix's way: the settings object itself
        capabilities=client_capabilities("neovim"), root_uri=root.as_uri(),
        initialization_options={"extendSelect": ["OPT014"]}))
    uri = _open(lsp, root / "train.py", TRAIN)
    await _diagnostics(lsp, uri, ["OPT003", "OPT014"])  # the editor's layer over the file's `ignore`
    _change(lsp, uri, 2, TRAIN * 60)  # a long lint under way at shutdown must not hold the exit up
    await asyncio.sleep(0.2)
    await lsp.shutdown_async(None)
    started = time.monotonic()
    lsp.exit(None)
    await asyncio.wait_for(lsp._server.wait(), TIMEOUT_S)
    assert time.monotonic() - started < 2.0
    assert lsp._server.returncode == 0
    await lsp.stop()


@pytest.mark.asyncio
async def test_saving_another_python_file_relints_the_open_ones(client: LanguageClient, tmp_path: Path):
    uri = _open(client, tmp_path / "train.py", TRAIN)
    await _diagnostics(client, uri, ["OPT003"])
    client.diagnostics.pop(uri)
    helper = _open(client, tmp_path / "helpers.py", "def step(optimizer):\n    optimizer.step()\n")
    await _diagnostics(client, helper, [])
    client.diagnostics.pop(uri, None)
    client.text_document_did_save(types.DidSaveTextDocumentParams(types.TextDocumentIdentifier(helper)))
    await _diagnostics(client, uri, ["OPT003"])  # published again: its findings may depend on helpers.py


@pytest.mark.asyncio
async def test_the_server_survives_what_the_cli_survives(client: LanguageClient, tmp_path: Path):
    nasty = {"nul.py": "import torch\x00\n", "deep.py": "import torch.optim\nx = " + "(" * 3000 + ")" * 3000 + "\n",
             "chain.py": "import torch.optim\nx = " + " or ".join(["a"] * 20000) + "\n",
             "huge.py": "import torch.optim\n" + "# padding\n" * 250_000, "bom.py": "\ufeffimport torch\n",
             "astral.py": "import torch.optim\nx = '😀'\n" * 3}
    for name, text in nasty.items():
        uri = _open(client, tmp_path / name, text)
        await _until(lambda: uri in client.diagnostics, f"diagnostics for {name}")
        assert {d.code for d in client.diagnostics[uri]} <= {"OPT000"}
    assert any("huge.py: larger than 2 MB" in m.message for m in client.messages)
    notes = _open(client, tmp_path / "notes.md", "# Notes\n\nimport torch.optim? (\n", language="markdown")
    uri = _open(client, tmp_path / "train.py", TRAIN)
    await _diagnostics(client, uri, ["OPT003"])
    assert notes not in client.diagnostics  # one lint at a time, in order: it would have come first


def test_the_server_never_imports_torch(tmp_path: Path):
    script = (
        "import sys; from optlint.server.app import create_server; from optlint.server.linting import "
        "Configurations, lint; from pathlib import Path\n"
        f"create_server(); outcome = lint({TRAIN!r}, {str(tmp_path / 'train.py')!r}, Configurations(Path))\n"
        "assert [f.code for f in outcome.findings] == ['OPT003', 'OPT014'], outcome\n"
        "assert 'torch' not in sys.modules\n")
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
