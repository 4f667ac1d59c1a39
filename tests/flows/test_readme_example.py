"""The survey the README shows as "a new flow in YAML, no Python" loads as it is written there."""
from __future__ import annotations

import re
from pathlib import Path

from flows.loader import load_flows

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_survey_is_a_valid_flow(tmp_path):
    example = re.search(r"```yaml\n(id: satisfaction_survey.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert example, "README.md lost its YAML flow example"
    (tmp_path / "survey.yaml").write_text(example.group(1), encoding="utf-8")
    registry = load_flows(tmp_path, strict=True)
    assert [f.id for f in registry.menu()] == ["satisfaction_survey"]
