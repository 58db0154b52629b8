"""The pygls server: document events in, diagnostics out.

Every lint runs on one worker thread, so the event loop keeps answering while libcst parses. An
open or a save is linted at once, and so is a change when the document's last lint is done; a change
that comes while a lint of the document is still on its way waits DEBOUNCE_S for the next
keystroke instead, so a burst of typing costs few lints. A result is
published only if its document still holds the text that was linted (else a newer lint is on its
way). Open documents are always linted from the editor's text, never from the disk.

A finding may depend on another file of the project (an imported helper that steps the optimizer):
saving a Python file, or the client reporting one changed on disk, re-lints every open document,
and a changed pyproject.toml reloads the configuration first.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from lsprotocol import types
from pygls import uris
from pygls.lsp.server import LanguageServer

from optlint import __version__
from optlint.config import ConfigError
from optlint.server import actions, targets
from optlint.server.linting import EDITOR_SELECTORS, Configurations, Outcome, lint
from optlint.static import notebooks
from optlint.static.reparse import Document

DEBOUNCE_S = 0.12
SETTINGS_SECTION = "optlint"
PYTHON_SUFFIXES = (".py", ".pyi")
WATCHED = ("**/*.py", "**/*.pyi", "**/pyproject.toml")
NOTEBOOK_SYNC = types.NotebookDocumentSyncOptions(
    notebook_selector=[types.NotebookDocumentFilterWithCells(
        cells=[types.NotebookCellLanguage(language="python")], notebook="*")],
    save=True,
)

# Document events that come down to one action on the document: lint it now, lint it after a
# change (debounced while typing), or forget it (its diagnostics cleared).
DOCUMENT_EVENTS = {
    types.TEXT_DOCUMENT_DID_OPEN: ("text_document", "schedule"),
    types.TEXT_DOCUMENT_DID_CHANGE: ("text_document", "schedule_change"),
    types.TEXT_DOCUMENT_DID_CLOSE: ("text_document", "forget"),
    types.NOTEBOOK_DOCUMENT_DID_OPEN: ("notebook_document", "schedule"),
    types.NOTEBOOK_DOCUMENT_DID_CHANGE: ("notebook_document", "schedule_change"),
    types.NOTEBOOK_DOCUMENT_DID_SAVE: ("notebook_document", "schedule"),
    types.NOTEBOOK_DOCUMENT_DID_CLOSE: ("notebook_document", "forget"),
}

logger = logging.getLogger(__name__)


class OptlintServer(LanguageServer):
    def __init__(self):
        super().__init__("optlint", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
                         notebook_document_sync=NOTEBOOK_SYNC)
        self.configurations = Configurations(self.root_of)
        self.linter = ThreadPoolExecutor(1, thread_name_prefix="optlint-lint")
        self.pending: dict[str, asyncio.Task] = {}  # target key -> its scheduled lint
        self.parses: dict[str, Document] = {}  # target key -> its last parse, used only on the linter thread
        self.shown: dict[str, list[actions.Published]] = {}  # editor document URI -> what it shows
        self.covers: dict[str, set[str]] = {}  # target key -> the document URIs it published to
        self.problems_shown: set[str] = set()  # each problem pops up once; the log has every one
        self.stopped = False  # after `shutdown`, nothing more is linted

    # --- what to lint -------------------------------------------------------------------------------------

    def root_of(self, path: str) -> Path:
        """The innermost workspace folder holding `path`, else the file's own directory."""
        absolute = os.path.abspath(path)
        folders = [uris.to_fs_path(folder.uri) for folder in self.workspace.folders.values()]
        holding = [f for f in folders if f and (absolute + os.sep).startswith(os.path.abspath(f) + os.sep)]
        return Path(max(holding, key=len) if holding else os.path.dirname(absolute))

    def target(self, key: str) -> targets.Target | None:
        """The text document or notebook `key` as the editor holds it now; None once closed."""
        notebook = self.workspace.get_notebook_document(notebook_uri=key)
        if notebook is not None:
            return targets.notebook(key, self._path(key), [self._cell(cell) for cell in notebook.cells])
        document = self.workspace.text_documents.get(key)
        if document is None or self.workspace.get_notebook_document(cell_uri=key) is not None:
            return None
        if document.language_id not in (None, "python") and not key.endswith(PYTHON_SUFFIXES):
            return None  # a client that sends every file it opens: only Python is optlint's
        return targets.text_document(key, self._path(key), document.source)

    def _cell(self, cell: types.NotebookCell) -> tuple[str, str, str]:
        """(URI, kind, text) of a notebook cell, its kind notebooks.CODE when it is Python code; the text
        of any other cell is not needed, only its place in the count."""
        if cell.kind != types.NotebookCellKind.Code:
            return cell.document, "markup", ""
        document = self.workspace.get_text_document(cell.document)
        python = document.language_id in (None, "python")
        return cell.document, notebooks.CODE if python else f"code in {document.language_id}", document.source

    def _path(self, uri: str) -> str:
        """The file a document is, for the configuration; an unsaved one is named after its URI, in the
        first workspace folder."""
        path = uris.to_fs_path(uri)
        if path:
            return path
        folder = next(iter(self.workspace.folders.values()), None)
        base = uris.to_fs_path(folder.uri) if folder else None
        return os.path.join(base or os.getcwd(), uri.rpartition("/")[2].replace(":", "_") or "untitled.py")

    def open_targets(self) -> list[str]:
        texts = [uri for uri in self.workspace.text_documents if self.target(uri) is not None]
        return [*texts, *self.workspace.notebook_documents]

    # --- linting ------------------------------------------------------------------------------------------

    def schedule(self, key: str, delay: float = 0.0) -> None:
        if self.stopped:
            return
        if (earlier := self.pending.pop(key, None)) is not None:
            earlier.cancel()
        self.pending[key] = asyncio.ensure_future(self._lint_later(key, delay))

    def schedule_change(self, key: str) -> None:
        """At once when idle; while an earlier lint of the document is still on its way: after DEBOUNCE_S."""
        self.schedule(key, DEBOUNCE_S if key in self.pending else 0.0)

    def schedule_all(self, delay: float = 0.0, besides: str | None = None) -> None:
        for key in self.open_targets():
            if key != besides:
                self.schedule(key, delay)

    async def _lint_later(self, key: str, delay: float) -> None:
        try:
            await asyncio.sleep(delay)
            target = self.target(key)
            if target is None:
                return
            document = self.parses.setdefault(key, Document())
            outcome = await asyncio.get_running_loop().run_in_executor(self.linter, lint, target.text, target.path,
                                                                        self.configurations, document)
            current = self.target(key)
            if current is not None and current.documents == target.documents:  # else closed or edited meanwhile
                self.publish(target, outcome)
        finally:
            if self.pending.get(key) is asyncio.current_task():
                del self.pending[key]

    def publish(self, target: targets.Target, outcome: Outcome) -> None:
        positions = self.positions(target)
        by_uri = actions.published(target, outcome.findings, positions)
        for gone in self.covers.get(target.key, set()) - set(by_uri):  # a cell removed or no longer code
            self.clear(gone)
        self.covers[target.key] = set(by_uri)
        for uri, shown in by_uri.items():
            self.shown[uri] = shown
            self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
                uri, [item.diagnostic for item in shown], version=self._version(uri)))
        if outcome.problem:
            self.report_problem(outcome.problem)

    def positions(self, target: targets.Target) -> actions.Positions:
        return actions.Positions(target, self.workspace.position_codec)

    def _version(self, uri: str) -> int | None:
        document = self.workspace.text_documents.get(uri)
        return document.version if document is not None else None

    def clear(self, uri: str) -> None:
        self.shown.pop(uri, None)
        self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri, []))

    def forget(self, key: str) -> None:
        if (pending := self.pending.pop(key, None)) is not None:
            pending.cancel()
        self.parses.pop(key, None)
        for uri in self.covers.pop(key, {key}):
            self.clear(uri)

    def report_problem(self, problem: str) -> None:
        self.window_log_message(types.LogMessageParams(types.MessageType.Error, f"optlint: {problem}"))
        if problem not in self.problems_shown:
            self.problems_shown.add(problem)
            self.window_show_message(types.ShowMessageParams(types.MessageType.Error, f"optlint: {problem}"))

    def reload(self, settings=None, *, from_editor: bool = False) -> None:
        """Read the configuration afresh (and the editor's settings, when given) and re-lint everything open."""
        self.problems_shown.clear()
        try:
            if from_editor:
                self.configurations.set_editor_settings(settings)
            else:
                self.configurations.forget()
        except ConfigError as error:
            self.report_problem(str(error))
        self.schedule_all()

    def fix_all_linter(self, target: targets.Target):
        return lambda text: lint(text, target.path, self.configurations).findings

    def stop_linting(self) -> None:
        self.stopped = True
        for task in self.pending.values():
            task.cancel()
        self.pending.clear()
        self.linter.shutdown(wait=False, cancel_futures=True)


def create_server() -> OptlintServer:
    server = OptlintServer()

    @server.feature(types.INITIALIZE)
    def on_initialize(ls: OptlintServer, params: types.InitializeParams) -> None:
        ls.reload(_section(params.initialization_options), from_editor=True)

    @server.feature(types.INITIALIZED)
    def on_initialized(ls: OptlintServer, params: types.InitializedParams) -> None:
        capabilities = ls.client_capabilities.workspace
        watch = capabilities and capabilities.did_change_watched_files
        if watch and watch.dynamic_registration:
            asyncio.ensure_future(_watch_files(ls))
        ls.linter.submit(_warm_up)

    for method, (document, action) in DOCUMENT_EVENTS.items():
        server.feature(method)(_document_event(document, action))

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def on_save(ls: OptlintServer, params: types.DidSaveTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri)
        if params.text_document.uri.endswith(PYTHON_SUFFIXES):  # another open file may import it
            ls.schedule_all(DEBOUNCE_S, besides=params.text_document.uri)

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    def on_configuration(ls: OptlintServer, params: types.DidChangeConfigurationParams) -> None:
        ls.reload(_section(params.settings), from_editor=True)

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def on_watched_files(ls: OptlintServer, params: types.DidChangeWatchedFilesParams) -> None:
        names = {change.uri.rpartition("/")[2] for change in params.changes}
        if "pyproject.toml" in names:
            ls.reload()
        elif any(name.endswith(PYTHON_SUFFIXES) for name in names):
            ls.schedule_all(DEBOUNCE_S)

    @server.feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
    def on_folders(ls: OptlintServer, params: types.DidChangeWorkspaceFoldersParams) -> None:
        ls.reload()

    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION, types.CodeActionOptions(
        code_action_kinds=[types.CodeActionKind.QuickFix, actions.FIX_ALL_KIND]))
    async def on_code_action(ls: OptlintServer, params: types.CodeActionParams) -> list[types.CodeAction] | None:
        uri = params.text_document.uri
        shown = ls.shown.get(uri, [])
        current = ls.target(shown[0].target.key) if shown else None
        if current is None or current.documents != shown[0].target.documents:
            return None  # nothing shown, or the text changed since: its new findings are on their way
        return await asyncio.get_running_loop().run_in_executor(
            ls.linter, actions.code_actions, shown, params.context, ls.positions, ls.fix_all_linter(current))

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    def on_hover(ls: OptlintServer, params: types.HoverParams) -> types.Hover | None:
        return actions.hover(ls.shown.get(params.text_document.uri, []), params.position)

    @server.feature(types.SHUTDOWN)
    def on_shutdown(ls: OptlintServer, *_) -> None:
        ls.stop_linting()

    @server.feature(types.EXIT)
    def on_exit(ls: OptlintServer, *_) -> None:
        # At once: a lint under way cannot be interrupted (libcst), and Python would wait for its thread.
        sys.stdout.flush()
        os._exit(0 if ls.stopped else 1)

    return server


def _document_event(document: str, action: str):
    """A handler that calls `ls.<action>(uri)` with the URI of the event's text or notebook document."""
    def handler(ls: OptlintServer, params) -> None:
        getattr(ls, action)(getattr(params, document).uri)

    return handler


def _section(settings):
    """The `optlint` settings, under an "optlint" key (as VS Code and Neovim send them) or as the object
    itself (as Helix sends its `config`); another object (other tools' settings) is no settings at all."""
    if not isinstance(settings, dict):
        return settings
    if SETTINGS_SECTION in settings:
        return settings[SETTINGS_SECTION]
    return settings if set(settings) <= set(EDITOR_SELECTORS) else None


def _warm_up() -> None:
    """Import libcst, the engine and the rules while the editor opens its first file."""
    from optlint.static.rules import all_rules

    all_rules()
    import optlint.static.engine  # noqa: F401


async def _watch_files(ls: OptlintServer) -> None:
    options = types.DidChangeWatchedFilesRegistrationOptions(
        watchers=[types.FileSystemWatcher(glob_pattern=pattern) for pattern in WATCHED])
    try:
        await ls.client_register_capability_async(types.RegistrationParams(registrations=[types.Registration(
            id="optlint-watched-files", method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES, register_options=options)]))
    except Exception as error:  # noqa: BLE001 - a client that refuses still gets diagnostics on save
        logger.info("the client did not take the file watchers: %s", error)
