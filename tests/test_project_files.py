"""The files a user reads or cites beside the code: docs/cli.md regenerated from the commands
(so it cannot go stale), LICENSE, CITATION.cff and the README's BibTeX in step with each other
and with pyproject.toml, the changelog, and `python -m ising_rg`."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from ising_rg import __version__
from ising_rg.cli import COMMAND_ORDER, main
from ising_rg.cli_reference import GENERATED_NOTE, render_reference
from ising_rg.errors import IsingRGError

REPOSITORY = Path(__file__).resolve().parents[1]
TEMPLATE = REPOSITORY / "docs" / "templates" / "cli.md"


def test_the_cli_reference_is_what_make_docs_renders():
    expected = render_reference(TEMPLATE.read_text())
    assert (REPOSITORY / "docs" / "cli.md").read_text() == expected, (
        "docs/cli.md is stale: run `make docs`")


def test_the_reference_holds_every_command_and_option_as_its_help_states_it():
    text = (REPOSITORY / "docs" / "cli.md").read_text()
    assert text.startswith(GENERATED_NOTE)
    for name in COMMAND_ORDER:
        section = text.split(f"## `ising-rg {name}`")[1].split("\n## ")[0]
        assert f"Usage: `ising-rg {name} [OPTIONS]`" in section
        for param in main.commands[name].params:
            for option in (*param.opts, *param.secondary_opts):
                # an option with another name is listed as "--one, --other"
                assert re.search(rf"(`|/ |, ){re.escape(option)}[ /`,]", section), (name, option)
    assert "--likelihood / --no-likelihood" in text  # the option the old page forgot


def test_the_reference_refuses_a_template_without_a_command_or_with_a_stray_one():
    template = TEMPLATE.read_text()
    with pytest.raises(IsingRGError, match=r"without a section \['bench'\]"):
        render_reference(template.replace("<!-- command: bench -->", ""))
    with pytest.raises(IsingRGError, match=r"unknown \['smaple'\]"):
        render_reference(template + "\n<!-- command: smaple -->\n")
    with pytest.raises(IsingRGError, match=r"twice \['exact'\]"):
        render_reference(template + "\n<!-- command: exact -->\n")


def _cff() -> str:
    return (REPOSITORY / "CITATION.cff").read_text()


def _cff_value(key: str) -> str:
    match = re.search(rf"^{key}: *\"?(.*?)\"?$", _cff(), flags=re.MULTILINE)
    assert match, key
    return match.group(1)


def _bibtex(entry: str, field: str) -> str:
    readme = (REPOSITORY / "README.md").read_text()
    block = readme.split(f"@{entry}{{")[1].split("\n    }")[0]
    match = re.search(rf"^\s*{field}\s*=\s*\{{(.*)\}},?$", block, flags=re.MULTILINE)
    assert match, (entry, field)
    return match.group(1)


def test_license_citation_and_readme_agree_with_each_other_and_the_package():
    pyproject = (REPOSITORY / "pyproject.toml").read_text()
    assert 'license = "MIT"' in pyproject
    assert f'version = "{__version__}"' in pyproject
    assert (REPOSITORY / "LICENSE").read_text().startswith("MIT License\n")
    assert _cff_value("cff-version") == "1.2.0"
    assert _cff_value("version") == __version__ == _bibtex("software", "version")
    assert _cff_value("license") == "MIT" == _bibtex("software", "license")
    assert _cff_value("title") == _bibtex("software", "title")
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", _cff_value("date-released"))
    assert _cff_value("date-released")[:4] == _bibtex("software", "year")
    assert '  - name: "The ising_rg developers"' in _cff()
    assert _bibtex("software", "author") == "{The ising_rg developers}"
    # The paper it reproduces: in the references, with the README's author, year and URL.
    assert 'value: "arXiv:1410.3831"' in _cff()
    assert f'url: "{_bibtex("article", "url")}"' in _cff()
    assert _bibtex("article", "url") == "https://arxiv.org/abs/1410.3831"
    assert _bibtex("article", "author") == "Mehta, Pankaj and Schwab, David J."
    assert "family-names: Mehta\n        given-names: Pankaj" in _cff()


def test_the_changelog_names_what_breaks():
    changelog = (REPOSITORY / "CHANGELOG.md").read_text()
    unreleased = changelog.split("## Unreleased")[1].split("\n## ")[0]
    for renamed in ("`n_epochs` -> `epochs`", "`momentum_schedule` ->",
                    "`train --pcd` -> `--persistent`", "`train --chains`", "format 2",
                    "`n_persistent_chains` -> `persistent_chains`", "`ising-rg mcrg`"):
        assert renamed in unreleased, renamed
    assert f"## {__version__}" in changelog


def test_python_dash_m_runs_the_command_line():
    done = subprocess.run([sys.executable, "-m", "ising_rg", "--help"], capture_output=True,
                          text=True, cwd=REPOSITORY, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Usage: ising-rg [OPTIONS] COMMAND")
    listed = [line.split()[0] for line in done.stdout.split("Commands:")[1].splitlines()
              if line.strip()]
    assert listed == list(COMMAND_ORDER)
    version = subprocess.run([sys.executable, "-m", "ising_rg", "--version"],
                             capture_output=True, text=True, cwd=REPOSITORY, timeout=120)
    assert version.stdout.strip() == f"ising-rg, version {__version__}"
