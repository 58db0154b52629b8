# Two commands do everything on a machine with only Python 3.11: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test fuzz bench facts library-facts clean

# torch==2.13.0 first, and again on every line: a bare `torch>=2.1` would resolve to a multi-GB CUDA
# build; the pinned CPU wheel already satisfies the extras' torch ranges, so pip installs no other torch.
# deepspeed is an sdist whose setup.py imports torch: --no-build-isolation builds it against the torch
# installed here (an isolated build would download a CUDA torch first), hence setuptools in the venv.
# timm without its dependencies: it requires torchvision, and every torchvision wheel on PyPI links
# libtorch_cuda, which the CPU torch lacks, so an installed torchvision breaks `import transformers`'s
# Trainer here. timm's other requirements come with transformers; its schedulers need only torch.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip 'setuptools>=77' wheel
	$(PY) -m pip install -q torch==2.13.0 numpy
	$(PY) -m pip install -q --no-build-isolation torch==2.13.0 \
		-e '.[runtime,plot,dev,lightning,transformers,server,deepspeed,peft,schedulefree,ignite]'
	$(PY) -m pip install -q --no-deps 'timm>=1.0,<2'
	touch $(STAMP)

demo: $(STAMP)
	@$(PY) scripts/demo.py

test: $(STAMP)
	$(PY) -m pytest

# The corpus and the tools compared (ruff, TorchFix) live in ~/.cache/optlint-bench, never in the repo.
bench: $(STAMP)
	$(PY) benchmarks/bench_static.py

# The properties of tests/test_fuzz.py and the attacks of tests/adversarial/ with many fresh examples
# (minutes; `make test` runs a few of each).
fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=fuzz $(PY) -m pytest tests/test_fuzz.py tests/test_reparse.py tests/adversarial tests/test_interruption.py

# One table per torch minor release (optlint/torch_facts/): the installed torch's measured here, each
# other release's in a scratch venv under ~/.cache/optlint-facts (never in the repo), which also caches
# the tables measured by this generator so a rerun downloads nothing. About 2 minutes a release.
facts: $(STAMP)
	$(PY) scripts/gen_torch_facts.py

# Which attributes of torchvision/timm/transformers models own no parameters (optlint/library_facts.json),
# read from their source: the installed timm and transformers, torchvision's wheel downloaded once
# into ~/.cache/optlint-libfacts (it cannot be imported beside the CPU torch). About a minute.
library-facts: $(STAMP)
	$(PY) scripts/gen_library_facts.py

clean:
	rm -rf $(VENV) .optlint_cache .pytest_cache
