"""Label and field selectors: grammar, matching, null-vs-empty, and apiserver error messages."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from localkube.apimachinery.errors import ApiError
from localkube.apimachinery.selectors import (
    FieldSelector,
    LabelSelector,
    Requirement,
    SelectorSyntaxError,
    field_set,
    label_key_errors,
    label_value_errors,
    parse_field_selector,
    parse_label_selector,
    selector_matches,
    selector_to_string,
    supported_fields,
)

ZK = {"app": "zk", "tier": "db"}


# ------------------------------------------------------------------------ label syntax


@pytest.mark.parametrize(
    ("text", "labels", "expected"),
    [
        ("app=zk", ZK, True),
        ("app==zk", ZK, True),
        ("app=other", ZK, False),
        ("app!=other", ZK, True),
        ("app!=zk", ZK, False),
        ("missing!=x", ZK, True),  # != matches objects without the key
        ("app in (zk,web)", ZK, True),
        ("app in (web)", ZK, False),
        ("app notin (web)", ZK, True),
        ("missing notin (web)", ZK, True),
        ("missing in (web)", ZK, False),
        ("app", ZK, True),
        ("missing", ZK, False),
        ("!missing", ZK, True),
        ("!app", ZK, False),
        ("app=zk,tier=db", ZK, True),
        ("app=zk,tier=web", ZK, False),
        ("  app = zk ,  tier  in  ( db , x )  ", ZK, True),
        ("app=", {"app": ""}, True),
        ("app=", ZK, False),
        ("app in ()", {"app": ""}, True),
        ("app.kubernetes.io/name=zk", {"app.kubernetes.io/name": "zk"}, True),
        ("", ZK, True),
        ("n>2", {"n": "3"}, True),
        ("n<2", {"n": "3"}, False),
        ("n>2", {"n": "x"}, False),
        ("x in (in,notin)", {"x": "notin"}, True),
    ],
)
def test_parse_and_match(text: str, labels: dict, expected: bool) -> None:
    assert parse_label_selector(text).matches(labels) is expected


def test_tutorial_gotcha_selects_nothing_literally() -> None:
    # The current manifest labels pods app.kubernetes.io/name=zk, but the prose uses -l app=zk.
    pod_labels = {"app.kubernetes.io/name": "zk"}
    assert not parse_label_selector("app=zk").matches(pod_labels)
    assert parse_label_selector("app.kubernetes.io/name=zk").matches(pod_labels)


def test_string_form_is_sorted_by_key_and_values() -> None:
    sel = parse_label_selector("z=1, a in (c,b), !m, k")
    assert str(sel) == "a in (b,c),k,!m,z=1"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a b", "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"),
        ("a=b c", "found 'c', expected: ',' or 'end of string'"),
        ("a=b,", "found '', expected: identifier after ','"),
        (",a", "found ',', expected: !, identifier, or 'end of string'"),
        ("a in b", "unable to parse requirement: found 'b' expected: '('"),
        ("a in (b", "unable to parse requirement: found '', expected: ',' or ')'"),
        ("a (b)", "unable to parse requirement: found '(', expected: in, notin, =, ==, !=, gt, lt"),
        ("a=(", "unable to parse requirement: found '(', expected: identifier"),
        ("!", "unable to parse requirement: found '', expected: identifier"),
        ("a>x", "for 'Gt', 'Lt' operators, the value must be an integer"),
    ],
)
def test_syntax_errors_are_bad_requests(text: str, message: str) -> None:
    with pytest.raises(SelectorSyntaxError) as info:
        parse_label_selector(text)
    assert info.value.code == 400
    assert info.value.reason == "BadRequest"
    assert message in info.value.message
    assert info.value.status()["code"] == 400


def test_bad_key_reports_nil_path_like_the_apiserver() -> None:
    with pytest.raises(SelectorSyntaxError) as info:
        parse_label_selector("-bad=x")
    msg = info.value.message
    assert msg.startswith('unable to parse requirement: <nil>: Invalid value: "-bad": name part')
    assert "(e.g. 'MyName',  or 'my.name',  or '123-abc', regex used" in msg


def test_bad_value_reports_values_path() -> None:
    with pytest.raises(SelectorSyntaxError) as info:
        parse_label_selector("app=-x-")
    assert 'values[0][app]: Invalid value: "-x-": a valid label must be' in info.value.message


def test_selector_errors_are_value_errors_too() -> None:
    with pytest.raises(ValueError):
        parse_label_selector("a in (")
    assert issubclass(SelectorSyntaxError, ApiError)


def test_key_and_value_validation_rules() -> None:
    assert label_key_errors("app") == []
    assert label_key_errors("example.com/app") == []
    assert label_key_errors("a" * 63) == []
    assert "name part must be no more than 63 bytes" in label_key_errors("a" * 64)
    assert "prefix part must be non-empty" in label_key_errors("/app")
    assert any(e.startswith("prefix part a lowercase RFC 1123") for e in label_key_errors("EX/a"))
    assert len(label_key_errors("a/b/c")) == 1
    assert label_value_errors("") == []
    assert label_value_errors("v1.2_3-x") == []
    assert label_value_errors("-x") != []
    assert label_value_errors("a" * 64)[0] == "must be no more than 63 bytes"


# ---------------------------------------------------------------- metav1.LabelSelector


def test_null_matches_nothing_and_empty_matches_everything() -> None:
    assert not LabelSelector.from_api(None).matches(ZK)
    assert not LabelSelector.from_api(None).matches({})
    assert LabelSelector.from_api(None, null_matches="everything").matches(ZK)
    assert LabelSelector.from_api({}).matches(ZK)
    assert LabelSelector.from_api({"matchLabels": {}, "matchExpressions": []}).matches({})
    assert LabelSelector.from_api(None).matches_nothing
    assert LabelSelector.from_api({}).empty
    with pytest.raises(ValueError):
        LabelSelector.from_api(None, null_matches="sometimes")


def test_match_expressions() -> None:
    sel = LabelSelector.from_api(
        {
            "matchLabels": {"app": "zk"},
            "matchExpressions": [
                {"key": "tier", "operator": "In", "values": ["db", "cache"]},
                {"key": "canary", "operator": "DoesNotExist"},
                {"key": "app", "operator": "Exists"},
                {"key": "zone", "operator": "NotIn", "values": ["b"]},
            ],
        }
    )
    assert sel.matches(ZK)
    assert not sel.matches({**ZK, "canary": "1"})
    assert not sel.matches({**ZK, "tier": "web"})
    assert not sel.matches({**ZK, "zone": "b"})
    assert str(sel) == "app=zk,app,!canary,tier in (cache,db),zone notin (b)"


def test_bad_operator_and_empty_in() -> None:
    with pytest.raises(SelectorSyntaxError, match='"Near" is not a valid label selector operator'):
        LabelSelector.from_api({"matchExpressions": [{"key": "a", "operator": "Near"}]})
    with pytest.raises(SelectorSyntaxError, match="values set can't be empty"):
        LabelSelector.from_api({"matchExpressions": [{"key": "a", "operator": "In"}]})
    with pytest.raises(SelectorSyntaxError, match="values set must be empty for exists"):
        LabelSelector.from_api(
            {"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]}
        )
    with pytest.raises(SelectorSyntaxError, match=r"key: Invalid value: \"a b\""):
        LabelSelector.from_dict({"matchLabels": {"a b": "x"}})


def test_selector_to_string_for_scale_subresource() -> None:
    assert selector_to_string({"matchLabels": {"app": "zk"}}) == "app=zk"
    assert selector_to_string({"matchLabels": {"b": "2", "a": "1"}}) == "a=1,b=2"
    assert selector_to_string(None) == ""
    assert selector_to_string({}) == ""
    assert selector_to_string(parse_label_selector("x notin (b,a)")) == "x notin (a,b)"


def test_from_set_and_helpers() -> None:
    assert LabelSelector.from_set({"app": "zk"}).matches(ZK)
    assert not LabelSelector.from_set({"app": "web"}).matches(ZK)
    assert LabelSelector.from_set(None).matches({})
    assert selector_matches({"matchLabels": {"app": "zk"}}, ZK)
    assert not selector_matches(None, ZK)
    assert LabelSelector.from_set({"app": "zk"}).matches_object({"metadata": {"labels": ZK}})
    assert not LabelSelector.from_set({"app": "zk"}).matches_object({"metadata": {}})


def test_requires_exact_match() -> None:
    assert parse_label_selector("app=zk,x").requires_exact_match("app") == "zk"
    assert parse_label_selector("app in (zk)").requires_exact_match("app") == "zk"
    assert parse_label_selector("app in (a,b)").requires_exact_match("app") is None
    assert parse_label_selector("app!=zk").requires_exact_match("app") is None
    assert parse_label_selector("x=1").requires_exact_match("app") is None


def test_equality_and_nothing_string() -> None:
    assert parse_label_selector("b=1,a=2") == parse_label_selector("a=2, b=1")
    assert LabelSelector.nothing() != LabelSelector.everything()
    assert str(LabelSelector.nothing()) == ""
    assert hash(parse_label_selector("a=1")) == hash(parse_label_selector("a = 1"))


# --------------------------------------------------------------------------- properties

_name = st.from_regex(r"[a-z0-9]([a-z0-9_.-]{0,8}[a-z0-9])?", fullmatch=True)
_value = st.one_of(st.just(""), _name)
_requirement = st.one_of(
    st.builds(lambda k, v: Requirement.new(k, "=", [v]), _name, _value),
    st.builds(lambda k, v: Requirement.new(k, "!=", [v]), _name, _value),
    st.builds(
        lambda k, vs: Requirement.new(k, "in", sorted(set(vs))),
        _name,
        st.lists(_name, min_size=1, max_size=3),
    ),
    st.builds(
        lambda k, vs: Requirement.new(k, "notin", sorted(set(vs))),
        _name,
        st.lists(_name, min_size=1, max_size=3),
    ),
    st.builds(lambda k: Requirement.new(k, "exists"), _name),
    st.builds(lambda k: Requirement.new(k, "!"), _name),
)
_labels = st.dictionaries(_name, _value, max_size=4)


@given(st.lists(_requirement, max_size=5))
def test_string_round_trip(reqs: list[Requirement]) -> None:
    sel = LabelSelector(reqs)
    again = parse_label_selector(str(sel))
    assert str(again) == str(sel)
    assert again == sel


@given(st.lists(_requirement, max_size=4), _labels)
def test_round_trip_preserves_matching(reqs: list[Requirement], labels: dict) -> None:
    sel = LabelSelector(reqs)
    assert parse_label_selector(str(sel)).matches(labels) == sel.matches(labels)
    assert sel.matches(labels) == all(r.matches(labels) for r in reqs)


@given(_labels)
def test_from_set_matches_its_own_labels(labels: dict) -> None:
    assert LabelSelector.from_set(labels).matches(labels)
    assert LabelSelector.from_api({"matchLabels": labels}).matches(labels)


# ------------------------------------------------------------------------------ fields

POD = {
    "kind": "Pod",
    "metadata": {"name": "zk-0", "namespace": "default"},
    "spec": {"nodeName": "node-1", "restartPolicy": "Always", "hostNetwork": False},
    "status": {"phase": "Running", "podIPs": [{"ip": "127.1.0.2"}]},
}


def test_field_selector_describe_node_query() -> None:
    sel = parse_field_selector(
        "spec.nodeName=node-1,status.phase!=Succeeded,status.phase!=Failed", "Pod"
    )
    assert sel.matches(POD)
    assert not sel.matches({**POD, "status": {"phase": "Failed"}})
    assert not sel.matches({**POD, "spec": {"nodeName": "node-2"}})
    assert sel.requires_exact_match("spec.nodeName") == "node-1"


def test_field_selector_operators_and_metadata() -> None:
    assert parse_field_selector("metadata.name=zk-0").matches(POD)
    assert parse_field_selector("metadata.name==zk-0").matches(POD)
    assert not parse_field_selector("metadata.name!=zk-0").matches(POD)
    assert parse_field_selector("metadata.namespace=default", "statefulsets").matches(POD)
    assert parse_field_selector("").matches(POD)
    assert parse_field_selector(None).empty


def test_field_selector_uses_kind_it_was_validated_for() -> None:
    sel = parse_field_selector("status.podIP=127.1.0.2", "pods")
    bare = {k: v for k, v in POD.items() if k != "kind"}
    assert sel.matches(bare)


def test_python_client_booleans_are_case_insensitive() -> None:
    assert parse_field_selector("spec.hostNetwork=False", "Pod").matches(POD)
    assert parse_field_selector("spec.hostNetwork=false", "Pod").matches(POD)
    node = {"kind": "Node", "metadata": {"name": "n"}, "spec": {"unschedulable": True}}
    assert parse_field_selector("spec.unschedulable=True", "Node").matches(node)
    assert not parse_field_selector("spec.unschedulable=true", "Node").matches(
        {"kind": "Node", "metadata": {"name": "n"}}
    )


def test_unsupported_field_is_400() -> None:
    with pytest.raises(SelectorSyntaxError) as info:
        parse_field_selector("spec.replicas=3", "StatefulSet")
    assert info.value.code == 400
    assert info.value.message == "field label not supported: spec.replicas"
    with pytest.raises(SelectorSyntaxError, match=r"field label not supported: spec\.nodeName"):
        parse_field_selector("spec.nodeName=x", "nodes")


def test_spec_host_alias() -> None:
    sel = parse_field_selector("spec.host=node-1", "Pod")
    assert str(sel) == "spec.nodeName=node-1"
    assert sel.matches(POD)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("metadata.name", "invalid selector: 'metadata.name'; can't understand 'metadata.name'"),
        ("a=b\\x", "invalid field selector: invalid escape sequence: \\x"),
        ("a=b\\", "invalid field selector: invalid escape sequence: \\"),
        ("a=b=c", "invalid field selector: unescaped character in value: 61"),
    ],
)
def test_field_syntax_errors(text: str, message: str) -> None:
    with pytest.raises(SelectorSyntaxError) as info:
        parse_field_selector(text)
    assert info.value.message == message


def test_field_escapes() -> None:
    sel = parse_field_selector(r"metadata.name=a\,b\=c")
    assert sel.matches({"metadata": {"name": "a,b=c"}})
    assert str(sel) == r"metadata.name=a\,b\=c"
    assert parse_field_selector(str(sel)) == sel


def test_event_fields_for_describe() -> None:
    event = {
        "kind": "Event",
        "metadata": {"name": "e1", "namespace": "default"},
        "involvedObject": {"kind": "Pod", "name": "zk-0", "namespace": "default", "uid": "u1"},
        "reason": "Killing",
        "source": {"component": "kubelet"},
        "type": "Normal",
    }
    q = "involvedObject.name=zk-0,involvedObject.namespace=default,involvedObject.kind=Pod,"
    q += "involvedObject.uid=u1"
    assert parse_field_selector(q, "events").matches(event)
    assert parse_field_selector("source=kubelet,type=Normal", "Event").matches(event)
    assert not parse_field_selector("involvedObject.uid=u2", "Event").matches(event)
    assert field_set(event)["involvedObject.fieldPath"] == ""


def test_supported_fields_per_kind() -> None:
    assert "spec.nodeName" in supported_fields("Pod")
    assert "status.phase" in supported_fields("namespaces")
    assert supported_fields("ConfigMap") == {"metadata.name", "metadata.namespace"}
    assert "type" in supported_fields("Secret")


def test_pod_field_set_rendering() -> None:
    fields = field_set(POD)
    assert fields["spec.hostNetwork"] == "false"
    assert fields["status.podIP"] == "127.1.0.2"
    assert fields["status.nominatedNodeName"] == ""
    assert FieldSelector().matches(POD) is True


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["metadata.name", "metadata.namespace"]),
            st.text(alphabet="ab,=\\x-", max_size=6),
            st.booleans(),
        ),
        max_size=4,
    )
)
def test_field_selector_string_round_trip(terms: list[tuple[str, str, bool]]) -> None:
    from localkube.apimachinery.selectors import FieldTerm

    sel = FieldSelector(FieldTerm(f, v, eq) for f, v, eq in terms)
    again = parse_field_selector(str(sel))
    assert sorted(map(str, again.terms)) == sorted(map(str, sel.terms))
