"""The CRD YAML in crds/ is generated from orgtwin.core's models and complete."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
import yaml

from orgtwin.core.crds import generate, models

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "manifests" / "samples"


@pytest.mark.parametrize("kind", generate.KINDS, ids=lambda k: k.kind)
def test_committed_crd_matches_a_fresh_generation(kind: generate.Kind) -> None:
    committed = (ROOT / "crds" / generate.file_name(kind)).read_text(encoding="utf-8")
    assert committed == generate.render(kind), (
        f"crds/{generate.file_name(kind)} is stale; run `make crds` and commit the result"
    )


def _walk(schema: dict[str, Any], path: str) -> list[str]:
    missing = []
    for name, prop in schema.get("properties", {}).items():
        here = f"{path}.{name}"
        if here.endswith(".metadata") and path.count(".") == 0:
            continue  # the apiserver forbids describing metadata
        if not prop.get("description"):
            missing.append(here)
        missing += _walk(prop, here)
        if isinstance(prop.get("items"), dict):
            missing += _walk(prop["items"], f"{here}[]")
    return missing


@pytest.mark.parametrize("kind", generate.KINDS, ids=lambda k: k.kind)
def test_every_field_has_a_description(kind: generate.Kind) -> None:
    schema = generate.crd(kind)["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    assert _walk(schema, kind.kind) == []


@pytest.mark.parametrize("kind", generate.KINDS, ids=lambda k: k.kind)
def test_schema_is_structural(kind: generate.Kind) -> None:
    """No $ref, anyOf or untyped node survives: the apiserver would reject it."""
    schema = generate.crd(kind)["spec"]["versions"][0]["schema"]["openAPIV3Schema"]

    def check(node: dict[str, Any], path: str) -> None:
        assert "$ref" not in node, path
        assert "anyOf" not in node, path
        assert "type" in node, f"{path} has no type"
        for name, prop in node.get("properties", {}).items():
            check(prop, f"{path}.{name}")
        if isinstance(node.get("items"), dict):
            check(node["items"], f"{path}[]")

    check(schema, kind.kind)


def test_crds_carry_names_columns_and_status_subresource() -> None:
    for kind in generate.KINDS:
        spec = generate.crd(kind)["spec"]
        assert spec["names"]["categories"] == ["orgtwin"]
        assert spec["names"]["shortNames"]
        version = spec["versions"][0]
        assert version["subresources"] == {"status": {}}
        assert [c["name"] for c in version["additionalPrinterColumns"]][-1] == "Age"


def test_sample_profiles_parse_with_the_models() -> None:
    roles = set()
    for path in sorted((SAMPLES / "profiles").glob("*.yaml")):
        doc = yaml.safe_load(path.read_text())
        spec = models.AgentProfileSpec.model_validate(doc["spec"])
        roles.add(spec.role)
        assert doc["metadata"]["name"] == spec.role
    assert roles == {
        "finance",
        "manager",
        "legal",
        "hr",
        "marketing",
        "engineering",
        "support",
        "analyst",
    }
    legal = models.AgentProfileSpec.model_validate(
        yaml.safe_load((SAMPLES / "profiles" / "legal.yaml").read_text())["spec"]
    )
    assert legal.model.provider == "ollama"
    assert legal.privacy.mode == "strict"


def test_org_50_csv_has_the_import_columns_and_one_root() -> None:
    with (SAMPLES / "org-50.csv").open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        assert reader.fieldnames == [
            "employee_id",
            "name",
            "email",
            "department",
            "title",
            "manager_id",
            "profile",
        ]
        rows = list(reader)
    assert len(rows) == 50
    ids = {r["employee_id"] for r in rows}
    assert [r["employee_id"] for r in rows if not r["manager_id"]] == ["E001"]
    assert all(r["manager_id"] in ids for r in rows if r["manager_id"])
    profiles = {p.stem for p in (SAMPLES / "profiles").glob("*.yaml")}
    assert {r["profile"] for r in rows} <= profiles


def test_crds_generate_writes_every_crd_or_names_the_path_it_cannot_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from orgtwin.cli.main import app

    out = tmp_path / "new" / "crds"
    result = CliRunner().invoke(app, ["crds", "generate", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == sorted(map(generate.file_name, generate.KINDS))
    # A path under a file cannot be created: a usage error naming it, no traceback.
    # (Relative, so the error box never folds the path.)
    monkeypatch.chdir(tmp_path)
    Path("a-file").write_text("", encoding="utf-8")
    result = CliRunner().invoke(app, ["crds", "generate", "--out", "a-file/crds"])
    assert result.exit_code == 2
    error = " ".join(result.output.replace("│", " ").split())
    assert "Invalid value for '--out': cannot write a-file/crds: Not a directory" in error
    assert "Traceback" not in result.output
