"""Validate each sh:property shape once for all value nodes, not once per value node.

pyshacl 0.40 evaluates a property shape separately for every focus node
(``PropertyConstraintComponent._evaluate_property_shape`` calls ``Shape.validate``
with one node at a time), and ``Shape.validate`` re-creates every constraint component
(re-reading its parameters, sh:in lists included, from the shapes graph) on each call.
For a bank month (300 transactions x 15 property shapes) that is 4,500 shape
evaluations and ~90 % of the validation time.

``Shape.validate`` accepts a list of focus nodes, so passing them all at once gives
the same results (each focus node is still checked independently) in one evaluation:
a bank month validates in ~0.1 s instead of ~1 s. The test suite checks that reports
are identical with and without this patch.

The patch is applied only to the pyshacl versions it was checked against; any other
version runs unpatched (correct, slower).
"""

from __future__ import annotations

from typing import Any

import pyshacl
from pyshacl.constraints.core import shape_based_constraints

CHECKED_VERSIONS = ("0.40.",)

_component = shape_based_constraints.PropertyConstraintComponent
_original = _component._evaluate_property_shape


def _evaluate_all_at_once(
    self: Any,
    executor: Any,
    prop_shape: Any,
    target_graph: Any,
    focus_value_nodes: dict[Any, Any],
    potentially_recursive: Any,
    _evaluation_path: list[Any],
) -> tuple[bool, list[Any]]:
    found_prop_shape = self.shape.get_other_shape(prop_shape)
    if (
        not found_prop_shape
        or not found_prop_shape.is_property_shape
        or (potentially_recursive and found_prop_shape in potentially_recursive)
    ):
        # Missing or recursive shapes: let pyshacl raise or warn exactly as it does.
        return _original(
            self,
            executor,
            prop_shape,
            target_graph,
            focus_value_nodes,
            potentially_recursive,
            _evaluation_path,
        )
    values = list(dict.fromkeys(v for nodes in focus_value_nodes.values() for v in nodes))
    if not values:
        return False, []
    conforms, reports = found_prop_shape.validate(
        executor, target_graph, focus=values, _evaluation_path=_evaluation_path[:]
    )
    return (not conforms), reports


def supported() -> bool:
    return pyshacl.__version__.startswith(CHECKED_VERSIONS)


def enable() -> bool:
    """Install the faster evaluation; False (and nothing changed) if not supported."""
    if not supported():
        return False
    _component._evaluate_property_shape = _evaluate_all_at_once
    return True


def disable() -> None:
    """Restore pyshacl's own evaluation (tests compare both)."""
    _component._evaluate_property_shape = _original
