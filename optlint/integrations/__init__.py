"""Callbacks that run the runtime check where training frameworks build the optimizer and scheduler.

`optlint.integrations.lightning` needs `lightning` (or `pytorch_lightning`), `optlint.integrations.transformers`
needs `transformers`; `import optlint` imports neither.
"""
