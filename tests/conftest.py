"""Hypothesis profiles: `ci` (the default for the fuzz tests: few examples, the same ones every run) and
`fuzz` (`make fuzz`: many fresh examples). HYPOTHESIS_PROFILE picks one."""

import os

from hypothesis import HealthCheck, settings

_SLOW_GENERATORS = [HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large]
settings.register_profile("ci", max_examples=150, deadline=None, derandomize=True, database=None,
                          suppress_health_check=_SLOW_GENERATORS)
settings.register_profile("fuzz", max_examples=2000, deadline=None, suppress_health_check=_SLOW_GENERATORS)
if "HYPOTHESIS_PROFILE" in os.environ:
    settings.load_profile(os.environ["HYPOTHESIS_PROFILE"])
