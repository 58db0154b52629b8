"""Python blocks of Markdown and reStructuredText tutorials: linted when named or `extend-include`d, as
one program, at the document's rows and columns; a block that is not complete Python is skipped."""

import json
import textwrap

import pytest
from click.testing import CliRunner

from optlint.cli import main
from optlint.static.runner import lint_file

TYPO = "opt = torch.optim.AdamW(model.parameters(), learning_rate=1e-3)"


def check(*args):
    return CliRunner().invoke(main, ["check", "--no-cache", *map(str, args)], catch_exceptions=False)


def document(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


def found(path) -> list[tuple[int, int, str]]:
    return [(f.row, f.column, f.code) for f in lint_file(str(path))]


def test_a_python_fence_is_linted_at_the_document_position(tmp_path):
    readme = document(tmp_path, "README.md", f"""
        # Training

        ```python
        import torch
        {TYPO}
        ```
    """)
    result = check(readme)
    assert result.exit_code == 1 and f"{readme}:5:45: OPT001" in result.output


@pytest.mark.parametrize("fence", ["```py", "```python3", "~~~python", "```{.python}", "````python title='x'"])
def test_every_python_fence_spelling_is_read(tmp_path, fence):
    closing = fence[0] * (4 if fence.startswith("````") else 3)
    readme = document(tmp_path, "README.md", f"{fence}\nimport torch\n{TYPO}\n{closing}\n")
    assert found(readme) == [(3, 45, "OPT001")]


def test_other_fences_and_prose_are_not_python(tmp_path):
    readme = document(tmp_path, "README.md", f"""
        import torch
        {TYPO}

        ```bash
        {TYPO}
        ```

        ```
        {TYPO}
        ```
    """)
    assert found(readme) == [] and check(readme).exit_code == 0


def test_a_console_session_is_read_from_its_prompts_in_an_indented_fence(tmp_path):
    readme = document(tmp_path, "README.md", """
        1. Build the optimizer:

            ```pycon
            >>> import torch
            >>> opt = torch.optim.AdamW(
            ...     model.parameters(), learning_rate=1e-3)
            AdamW (...)
            ```
    """)
    assert found(readme) == [(6, 33, "OPT001")]


def test_blocks_are_one_program_and_a_fragment_is_skipped_without_error(tmp_path):
    readme = document(tmp_path, "README.md", """
        ```python
        import torch
        plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(opt)
        ```

        Elided:

        ```python
        trainer = Trainer(model=model, ...)
            loss.backward()
        ```

        ```python
        for epoch in range(3):
            opt.step()
            plateau.step()
        ```
    """)
    assert found(readme) == [(16, 5, "OPT013")]
    assert "OPT000" not in check(readme).output


def test_noqa_in_a_block_is_honoured(tmp_path):
    readme = document(tmp_path, "README.md", f"```python\nimport torch\n{TYPO}  # noqa: OPT001\n{TYPO}\n```\n")
    assert found(readme) == [(4, 45, "OPT001")]


def test_rst_code_blocks_literal_blocks_and_doctests_are_read(tmp_path):
    guide = document(tmp_path, "guide.rst", f"""
        .. code-block:: python
           :caption: setup

           import torch
           {TYPO}

        Example::

            {TYPO}

        >>> {TYPO}

        .. code-block:: bash

           {TYPO}
    """)
    assert found(guide) == [(5, 48, "OPT001"), (9, 49, "OPT001"), (11, 49, "OPT001")]


def test_findings_in_documents_offer_no_fix_and_fix_leaves_the_document(tmp_path):
    readme = document(tmp_path, "README.md", f"```python\nimport torch\n{TYPO}\n```\n")
    before = readme.read_bytes()
    [finding] = json.loads(check("--output-format", "json", readme).output)
    assert finding["fix"] is None and finding["cell"] is None
    assert check("--fix", readme).exit_code == 1
    assert readme.read_bytes() == before


def test_documents_are_walked_only_when_extend_include_names_them(tmp_path):
    (tmp_path / "docs").mkdir()
    document(tmp_path, "docs/tutorial.md", f"```python\nimport torch\n{TYPO}\n```\n")
    document(tmp_path, "docs/notes.txt", f"import torch\n{TYPO}\n")
    (tmp_path / "pyproject.toml").write_text("[tool.optlint]\n")
    assert check(tmp_path).exit_code == 0
    (tmp_path / "pyproject.toml").write_text('[tool.optlint]\nextend-include = ["docs"]\n')
    assert check(tmp_path).exit_code == 0  # a folder's name includes no file of it
    (tmp_path / "pyproject.toml").write_text('[tool.optlint]\nextend-include = ["*.md"]\n')
    result = check(tmp_path)
    assert result.exit_code == 1 and "tutorial.md:3:45: OPT001" in result.output and "notes.txt" not in result.output


def test_extend_include_must_be_a_list_of_strings(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.optlint]\nextend-include = "*.md"\n')
    result = check(tmp_path)
    assert result.exit_code == 2
    assert result.output.strip().endswith("[tool.optlint] extend-include: expected a list of strings, got a string "
                                          "('*.md')")
