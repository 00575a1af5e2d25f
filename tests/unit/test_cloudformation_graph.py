"""The dependency-graph reader behind the cycle check: it must see every kind of reference
CloudFormation orders resources by, and find every cycle (checked against graphlib)."""

from __future__ import annotations

from graphlib import CycleError, TopologicalSorter
from itertools import pairwise
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from tests.support.cloudformation import Edge, Stack, cycles, dependency_edges


def _template(**resources: dict[str, Any]) -> dict[str, Any]:
    return {
        "Parameters": {"Stage": {"Type": "String", "Default": "dev"}},
        "Conditions": {"Yes": {"Fn::Equals": ["a", "a"]}},
        "Resources": {name: {"Type": "AWS::SQS::Queue", **body} for name, body in resources.items()},
    }


def _targets(template: dict[str, Any], source: str) -> set[str]:
    return {edge.target for edge in dependency_edges(template) if edge.source == source}


def test_every_kind_of_reference_is_an_edge() -> None:
    # Given a resource that refers to others in each way a template can
    template = _template(
        A={
            "DependsOn": "B",
            "Properties": {
                "Ref": {"Ref": "C"},
                "GetAttList": {"Fn::GetAtt": ["D", "Arn"]},
                "GetAttText": {"Fn::GetAtt": "E.Arn"},
                "Sub": {"Fn::Sub": "arn:${AWS::Partition}:x:::${F}/${G.Arn}/${Stage}"},
                "SubWithVariables": {"Fn::Sub": ["${Own}-${H}", {"Own": {"Ref": "I"}}]},
                "Conditional": {"Fn::If": ["Yes", {"Ref": "J"}, {"Ref": "K"}]},
            },
        },
        **{name: {} for name in "BCDEFGHIJK"},
    )
    # When the graph is built / Then each is an edge, parameters and pseudo parameters are not
    assert _targets(template, "A") == set("BCDEFGHIJK")


def test_a_sub_literal_and_a_sub_variable_shadowing_a_resource_are_not_edges() -> None:
    template = _template(
        A={"Properties": {"Name": {"Fn::Sub": ["${!B}-${C}", {"C": "literal"}]}}},
        B={},
        C={},
    )
    assert _targets(template, "A") == set()


def test_depends_on_as_a_list() -> None:
    template = _template(A={"DependsOn": ["B", "C"]}, B={}, C={})
    assert _targets(template, "A") == {"B", "C"}


def test_a_cycle_through_a_condition_branch_is_found_and_named() -> None:
    # Given A -> B only in the branch a condition picks, and B -> A
    template = _template(
        A={"Properties": {"Url": {"Fn::If": ["Yes", "fixed", {"Fn::Sub": "https://${B}.example.com"}]}}},
        B={"Properties": {"Target": {"Fn::GetAtt": ["A", "Arn"]}}},
        C={"DependsOn": "A"},
    )
    # When cycles are looked for
    found = cycles(dependency_edges(template))
    # Then the cycle is reported with the place of each reference
    assert len(found) == 1
    assert found[0].members == ("A", "B")
    text = str(found[0])
    assert "A -> B -> A" in text
    assert "Fn::Sub ${B} at Properties.Url.Fn::If[2]" in text
    assert "Fn::GetAtt at Properties.Target" in text


def test_a_resource_depending_on_itself_is_a_cycle() -> None:
    found = cycles(dependency_edges(_template(A={"Properties": {"Arn": {"Fn::GetAtt": "A.Arn"}}})))
    assert [cycle.members for cycle in found] == [("A",)]


def test_the_stack_resolves_names_from_parameters_and_conditions() -> None:
    # Given a name built from a parameter, a pseudo parameter and a condition
    template = _template(
        Q={
            "Properties": {
                "QueueName": {"Fn::If": ["Yes", {"Fn::Sub": "chorus-${Stage}-${AWS::Region}-${Other.Arn}"}, "unused"]}
            }
        },
        Other={},
    )
    # When a stack resolves it
    names = Stack(template, {"Stage": "blue"}, stack_name="one").physical_names()
    # Then parameters are substituted and another resource's attribute is unique to this stack
    assert [name.name for name in names] == ["chorus-blue-eu-west-1-<one/Other.Arn>"]


nodes = st.sampled_from([f"R{index}" for index in range(8)])


@given(st.lists(st.tuples(nodes, nodes), max_size=20))
def test_cycles_are_found_exactly_when_no_creation_order_exists(pairs: list[tuple[str, str]]) -> None:
    # Given any graph of references
    edges = [Edge(source, target, "Ref") for source, target in pairs]
    sorter: TopologicalSorter[str] = TopologicalSorter()
    for edge in edges:
        sorter.add(edge.source, edge.target)
    try:
        tuple(sorter.static_order())
        orderable = True
    except CycleError:
        orderable = False
    # When cycles are looked for
    found = cycles(edges)
    # Then there are some exactly when no order exists, and each example really is a cycle
    assert (not found) == orderable
    for cycle in found:
        chain = list(cycle.example)
        assert chain[0].source == chain[-1].target
        assert all(left.target == right.source for left, right in pairwise(chain))
        assert {edge.source for edge in chain} <= set(cycle.members)
