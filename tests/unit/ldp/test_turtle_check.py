from __future__ import annotations

import pytest

from pod_server.errors import BadRequest
from pod_server.ldp.turtle_check import quick_check

BASE = "http://pod.example/doc"


def test_valid_rdf11_turtle_passes() -> None:
    assert quick_check(b'@prefix ex: <http://e/>.\n<#a> ex:p "x"@en, 1, _:b; a ex:T.', BASE)
    assert quick_check(b"", BASE)


@pytest.mark.parametrize(
    "text",
    [
        b"<#a> <#p> <<( <#s> <#p> <#o> )>> .",
        b"<#a> <#p> <#o> {| <#q> 1 |} .",
        b'VERSION "1.2"\n<#a> <#p> <#o> .',
        b'<#a> <#p> "x"@en--ltr .',
    ],
)
def test_rdf12_syntax_is_left_to_rdflib(text: bytes) -> None:
    assert quick_check(text, BASE) is False


@pytest.mark.parametrize("text", [b"<#a> <#b> .", b"\n\n<#a> <#b> <#c>", b"<a b> <#p> 1."])
def test_syntax_errors_say_where(text: bytes) -> None:
    with pytest.raises(BadRequest, match="line"):
        quick_check(text, BASE)
