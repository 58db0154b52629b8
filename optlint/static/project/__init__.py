"""The project's other modules: where an imported name's file is, and what that file's functions do.

    linted file -> roots.py (project root, package roots) -> resolve.py (import -> file in the project)
               -> summary.py (per-module summary: returns, parameter steps, module-level objects)
               -> index.py (summaries per process and in the signed results cache; the dependencies
                  a file's findings rest on, so that a change in engine.py re-lints train.py)

Nothing here imports or runs the project's code: files are read as text, only inside the project
folder (a symlink that leads out of it is never followed), and a file that does not parse has no
summary.
"""
