from __future__ import annotations

import pytest

from pod_server.errors import BadRequest
from pod_server.ldp import turtle_check
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


@pytest.mark.parametrize(
    "text",
    [
        b"<#a> <#p> 1 .",
        b'<#a> <#p> "Version 2" .',  # a word match the regex then refuses: no \b
        b'<#a> <#p> "conversions" .',
        b'@VERSION "1.2" .',
        b'<#a> <#p> "x"@en--RTL .',
        b'<#a> <#p> "a ~ b" .',
        b"<#a> <#p> <#o> {| <#q> 1 |} .",
        b'<#a> <#p> "1 >> 2" .',
        b'<#a> <#p> "a | b" .',
        b'<#a> <#p> "-- ltr" .',
    ],
)
def test_rdf12_prefilter_agrees_with_the_regex(text: bytes) -> None:
    assert turtle_check._rdf12_syntax(text) is (turtle_check._RDF_12.search(text) is not None)
