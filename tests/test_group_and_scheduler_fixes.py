"""The fixes of OPT003, OPT007 and OPT014: each one's edits, applied to the source, give the
intended code, which then lints clean of that code."""

import ast
import textwrap

import pytest

from optlint.static.engine import lint_source


def findings(source, code):
    return [f for f in lint_source(source) if f.code == code]


def applied(source, finding):
    for edit in sorted(finding.fix.edits, key=lambda e: e.start, reverse=True):
        source = source[: edit.start] + edit.replacement + source[edit.end :]
    return source


def fixed_once(source, code):
    """The source after the fix of the only finding of `code`; it must parse and be clean."""
    [finding] = findings(source, code)
    result = applied(source, finding)
    ast.parse(result)
    assert findings(result, code) == []
    return result


# -- OPT003 -------------------------------------------------------------------------------------


def test_group_key_rename_keeps_the_quote_style():
    source = 'import torch\nopt = torch.optim.AdamW([{"params": w, "learning_rate": 1e-4}], lr=1e-3)\n'
    assert fixed_once(source, "OPT003") == source.replace('"learning_rate"', '"lr"')
    single = source.replace('"', "'")
    assert fixed_once(single, "OPT003") == single.replace("'learning_rate'", "'lr'")


def test_group_key_rename_in_dict_call_renames_the_keyword():
    source = "import torch\nopt = torch.optim.SGD([dict(params=w, momentun=0.9)], lr=0.1)\n"
    assert fixed_once(source, "OPT003") == source.replace("momentun=", "momentum=")


def test_group_key_in_appended_group_is_found_where_it_is_written():
    source = textwrap.dedent(
        """\
        from torch.optim import Adam
        groups = [{"params": body}]
        groups.append({"params": head, "weightDecay": 0.0})
        opt = Adam(groups, lr=1e-3)
        """
    )
    [finding] = findings(source, "OPT003")
    assert (finding.row, finding.column) == (3, 32)
    assert "`weight_decay`" in finding.message and "`Adam`" in finding.message


def test_two_keys_meaning_the_same_hyper_parameter_are_both_reported_without_a_fix():
    source = "import torch\nopt = torch.optim.SGD([{'params': w, 'learning_rate': 1, 'LR': 2}], lr=0.1)\n"
    found = findings(source, "OPT003")
    assert len(found) == 2 and all(f.fix is None for f in found)


# -- OPT007 -------------------------------------------------------------------------------------


def test_attribute_lookup_gains_lr_scheduler():
    source = "import torch.optim as optim\nsched = optim.ReduceLROnPlateau(opt, patience=2)\n"
    assert fixed_once(source, "OPT007") == source.replace("optim.Reduce", "optim.lr_scheduler.Reduce")


def test_import_of_schedulers_only_moves_to_lr_scheduler():
    source = "from torch.optim import StepLR as Step\n"
    assert fixed_once(source, "OPT007") == "from torch.optim.lr_scheduler import StepLR as Step\n"


def test_import_mixing_optimizers_and_schedulers_is_split():
    source = "import torch\nfrom torch.optim import AdamW, OneCycleLR, SGD\n"
    assert fixed_once(source, "OPT007") == (
        "import torch\nfrom torch.optim import AdamW, SGD\nfrom torch.optim.lr_scheduler import OneCycleLR\n"
    )


@pytest.mark.parametrize("newline", ["\r\n", "\r"])
def test_split_import_uses_the_files_line_ending(newline):
    source = f"import torch{newline}from torch.optim import AdamW, OneCycleLR, SGD{newline}x = 1{newline}"
    assert fixed_once(source, "OPT007") == (f"import torch{newline}from torch.optim import AdamW, SGD{newline}"
                                            f"from torch.optim.lr_scheduler import OneCycleLR{newline}x = 1{newline}")


def test_split_import_in_a_mixed_file_uses_its_own_lines_ending():
    source = "import torch\r\nfrom torch.optim import AdamW, OneCycleLR\nx = 1\r\n"
    assert fixed_once(source, "OPT007") == (
        "import torch\r\nfrom torch.optim import AdamW\nfrom torch.optim.lr_scheduler import OneCycleLR\nx = 1\r\n")


def test_parenthesised_import_keeps_its_layout_when_split():
    source = "from torch.optim import (\n    AdamW,\n    StepLR,\n    SGD,\n)\n"
    assert fixed_once(source, "OPT007") == (
        "from torch.optim import (\n    AdamW,\n    SGD,\n)\nfrom torch.optim.lr_scheduler import StepLR\n"
    )


def test_mixed_import_inside_a_block_is_reported_without_a_fix():
    source = "def build():\n    from torch.optim import SGD, StepLR\n"
    [finding] = findings(source, "OPT007")
    assert finding.fix is None and "ImportError" in finding.message


# -- OPT014 -------------------------------------------------------------------------------------


def test_get_lr_becomes_get_last_lr():
    source = textwrap.dedent(
        """\
        import torch
        sched = torch.optim.lr_scheduler.StepLR(opt, 10)
        print(sched.get_lr()[0])
        """
    )
    assert fixed_once(source, "OPT014") == source.replace("get_lr()", "get_last_lr()")
