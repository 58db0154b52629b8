"""Module names reach the runtime and probe reports: whatever characters they hold, the text a terminal
shows has no control character and no line break of theirs (see optlint.report.escape)."""

from __future__ import annotations

import os

import pytest

torch = pytest.importorskip("torch")

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from torch import nn  # noqa: E402

import optlint  # noqa: E402
from optlint.report.escape import UNSAFE_BETWEEN_LINES  # noqa: E402

PLAIN = st.text(st.characters(blacklist_characters=".", blacklist_categories=("Cc", "Cf", "Zl", "Zp")), max_size=4)
CONTROL = st.sampled_from(["\x1b[2J", "\n", "\r", "\x00", "\u202e", "\u2028", "\x9b", "\x07"])
NAMES = st.builds(lambda a, c, b: a + c + b, PLAIN, CONTROL, PLAIN)
PROFILE = settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
FUZZ = settings(PROFILE, max_examples=PROFILE.max_examples // 10)  # each example runs a check: a few ms


def model_with_child(name: str) -> nn.Module:
    model = nn.Sequential(nn.Linear(2, 2))
    model.add_module(name, nn.Linear(2, 2))
    return model


def loss_fn(model, batch):
    return model[0](batch).sum()  # the named child gets no gradient: OPT117 names it


def report_text(name: str) -> str:
    model = model_with_child(name)
    report = optlint.check_setup(model, torch.optim.SGD(model[0].parameters(), lr=0.1))
    assert [f.code for f in report.findings] == ["OPT101"]
    return str(report)


@settings(FUZZ)
@given(NAMES)
def test_a_module_name_with_control_characters_is_escaped_in_the_runtime_report(name):
    text = report_text(name)
    assert not UNSAFE_BETWEEN_LINES.search(text) and "\r" not in text
    assert text.count("\n") == report_text("child").count("\n")


@settings(FUZZ)
@given(NAMES)
def test_a_module_name_with_control_characters_is_escaped_in_the_probe_report(name):
    model = model_with_child(name)
    report = optlint.probe_step(model, torch.optim.SGD(model.parameters(), lr=0.1), loss_fn, torch.ones(1, 2))
    assert [f.code for f in report.findings] == ["OPT117"]
    assert not UNSAFE_BETWEEN_LINES.search(str(report)) and "\r" not in str(report)


def test_an_escape_sequence_in_a_name_shows_as_text():
    model = model_with_child("\x1b]52;c;aGk=\x07")
    text = str(optlint.check_setup(model, torch.optim.SGD(model[0].parameters(), lr=0.1)))
    assert "\x1b" not in text and "`\\x1b]52;c;aGk=\\x07.*` (2 tensors)" in text
