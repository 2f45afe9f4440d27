"""The documentation stays whole: a README a newcomer can read whose quickstart stack
synthesizes without a warning, every rule and warning in docs/rules.md, and no link (nor heading
anchor) that leads nowhere."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import pytest
import sagemaker_rollout
from aws_cdk import App
from aws_cdk.assertions import Annotations, Match, Template
from sagemaker_rollout.rules import Rule, WarningId

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
RULES = DOCS / "rules.md"
#: The README is the way in; reference material lives in docs/.
README_MAX_LINES = 450

DOCUMENTS = [README, *sorted(DOCS.glob("*.md"))]
#: [text](target): Markdown links, images included.
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)


def prose(document: Path) -> str:
    """The document without its code blocks (whose `#` lines are comments, not headings)."""
    return FENCE.sub("", document.read_text())


def anchors(document: Path) -> set[str]:
    """The anchors of the document's headings, as GitHub makes them."""
    found = set()
    for heading in re.findall(r"^#+ (.+)$", prose(document), re.MULTILINE):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        found.add(slug)
    return found


def local_links(document: Path) -> list[str]:
    return [
        target
        for target in LINK.findall(prose(document))
        if not re.match(r"[a-z]+:", target)  # https:, mailto:
    ]


def test_readme_is_short_enough_to_read() -> None:
    assert len(README.read_text().splitlines()) <= README_MAX_LINES


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: path.name)
def test_every_local_link_and_anchor_exists(document: Path) -> None:
    broken = []
    for target in local_links(document):
        path_part, _, anchor = target.partition("#")
        linked = (document.parent / path_part).resolve() if path_part else document
        if not linked.exists():
            broken.append(f"{target}: no file {linked}")
        elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
            broken.append(f"{target}: no heading #{anchor} in {linked.name}")
    assert broken == []


def test_every_reference_document_is_linked_from_the_readme() -> None:
    linked = {(ROOT / target.partition("#")[0]).resolve() for target in local_links(README)}
    assert [path.name for path in DOCS.glob("*.md") if path.resolve() not in linked] == []


def warning_ids_outside_the_enum() -> set[str]:
    """`WARNING_* = "sagemaker-rollout:<id>"` constants of the library's modules."""
    found = set()
    for module_info in pkgutil.walk_packages(sagemaker_rollout.__path__, "sagemaker_rollout."):
        module = importlib.import_module(module_info.name)
        for name, value in vars(module).items():
            if name.startswith("WARNING_") and isinstance(value, str):
                found.add(value.removeprefix("sagemaker-rollout:"))
    return found


def test_every_rule_and_warning_is_documented_in_the_rules_table() -> None:
    documented = set(re.findall(r"`sagemaker-rollout:([a-z0-9-]+)`", RULES.read_text()))
    ids = {rule.id for rule in Rule} | {warning.value for warning in WarningId}
    ids |= warning_ids_outside_the_enum()
    assert sorted(ids - documented) == [], f"add them to {RULES.relative_to(ROOT)}"


def test_readme_quickstart_stack_synthesizes_without_a_warning() -> None:
    text = README.read_text()
    start = text.index("```python\nfrom aws_cdk import Duration, Stack\n") + len("```python\n")
    namespace: dict[str, object] = {}
    exec(compile(text[start : text.index("```", start)], "README quickstart", "exec"), namespace)
    app = App(context={"aws:cdk:bundling-stacks": []})
    stack = namespace["MyEndpointStack"](app, "MyEndpointStack")  # type: ignore[operator]
    annotations = Annotations.from_stack(stack)
    assert annotations.find_warning("*", Match.any_value()) == []
    assert annotations.find_error("*", Match.any_value()) == []
    Template.from_stack(stack).resource_count_is("Custom::SageMakerEndpointRollout", 1)
