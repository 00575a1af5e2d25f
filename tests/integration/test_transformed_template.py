"""What CloudFormation checks only at deploy time, checked on the SAM-transformed template.

template.yaml is not what CloudFormation deploys: the SAM transform turns each function into a
function, a role, permissions, event source mappings and schedules, and those are what
CloudFormation orders and names. moto and a linter of template.yaml both accepted a stack that
CloudFormation refused ("Circular dependency between resources") and one that could not live
twice in an account (schedules named after logical ids). These tests read the transform's output.
"""

from __future__ import annotations

import pytest

from tests.support.cloudformation import cycles, dependency_edges, transformed

# Every optional resource switched on: conditions must not hide a cycle.
ALL_OPTIONS = {
    "AlarmEmail": "ops@example.com",
    "PublicBaseUrl": "https://advocacy.example.com",
}
VARIANTS = {"defaults": {}, "all options": ALL_OPTIONS}


@pytest.mark.parametrize("variant", VARIANTS)
def test_the_transformed_template_has_no_dependency_cycle(variant: str) -> None:
    # Given the template as CloudFormation receives it
    template = transformed(VARIANTS[variant])
    # When its resources are ordered by Ref, Fn::GetAtt, Fn::Sub and DependsOn
    edges = dependency_edges(template)
    # Then nothing waits for itself
    assert len(edges) > len(template["Resources"]), "the graph builder found too few references"
    found = cycles(edges)
    assert not found, "CloudFormation would refuse these circular dependencies:\n" + "\n".join(map(str, found))
