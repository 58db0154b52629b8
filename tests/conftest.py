"""Hypothesis profiles: `ci` (the default for the fuzz tests: few examples, the same ones every run) and
`fuzz` (`make fuzz`: many fresh examples). HYPOTHESIS_PROFILE picks one. And a user cache folder of the tests' own."""

import os

import pytest
from hypothesis import HealthCheck, settings

_SLOW_GENERATORS = [HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large]
settings.register_profile("ci", max_examples=150, deadline=None, derandomize=True, database=None,
                          suppress_health_check=_SLOW_GENERATORS)
settings.register_profile("fuzz", max_examples=2000, deadline=None, suppress_health_check=_SLOW_GENERATORS)
if "HYPOTHESIS_PROFILE" in os.environ:
    settings.load_profile(os.environ["HYPOTHESIS_PROFILE"])


@pytest.fixture(autouse=True, scope="session")
def _private_user_cache(tmp_path_factory):
    """No test reads or writes the user's own cache folder (optlint's key for its result caches)."""
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("user-cache"))
