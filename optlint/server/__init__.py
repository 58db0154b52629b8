"""`optlint server`: the Language Server Protocol server (the `optlint[server]` extra, pygls).

Layout: `targets.py` says what one lint covers (a text document, or a notebook's code cells joined)
and how its positions map back to the editor's documents; `linting.py` finds each file's
configuration and lints the in-memory text exactly as `optlint check` would; `actions.py` turns
findings into diagnostics, quick fixes, noqa edits and hovers; `app.py` is the pygls server (events,
debouncing, the worker thread); `command.py` the click command.
"""
