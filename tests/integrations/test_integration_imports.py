"""The integrations are optional: `import optlint` and `import optlint.integrations` import neither
framework, nor torch."""

from __future__ import annotations

import subprocess
import sys


def test_importing_optlint_and_its_integrations_package_imports_no_framework():
    probe = ("import sys, optlint, optlint.integrations; "
             "print(sorted(m for m in ('torch', 'lightning', 'pytorch_lightning', 'transformers') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
