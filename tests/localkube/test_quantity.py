"""Resource quantities: parsing, canonical form, arithmetic, and object canonicalisation."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from localkube.apimachinery.quantity import (
    BINARY_SI,
    DECIMAL_EXPONENT,
    DECIMAL_SI,
    FORMAT_ERROR,
    Quantity,
    QuantityError,
    canonical_quantity,
    canonicalize_object_quantities,
    canonicalize_resource_list,
    compare_quantities,
    parse_quantity,
    sum_quantities,
)


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("0.5", "500m"),
        ("0.3", "300m"),
        ("1", "1"),
        ("2", "2"),
        ("500m", "500m"),
        ("1000m", "1"),
        ("1500m", "1500m"),
        ("1.5", "1500m"),
        ("1Gi", "1Gi"),
        ("10Gi", "10Gi"),
        ("1024Mi", "1Gi"),
        ("1.5Gi", "1536Mi"),
        ("0.5Gi", "512Mi"),
        ("1536Ki", "1536Ki"),
        ("2048Ki", "2Mi"),
        ("0.5Ki", "512"),
        ("1023", "1023"),
        ("1000", "1k"),
        ("1e3", "1e3"),
        ("1.5e3", "1500"),
        ("12e6", "12e6"),
        ("1E-3", "1e-3"),
        ("1k", "1k"),
        ("1M", "1M"),
        ("1000k", "1M"),
        ("1G", "1G"),
        ("1T", "1T"),
        ("100", "100"),
        ("0", "0"),
        ("0Gi", "0"),
        ("-0", "0"),
        ("-1", "-1"),
        ("-1.5", "-1500m"),
        ("+2", "2"),
        ("0.1n", "1n"),
        ("1.1n", "2n"),
        ("100u", "100u"),
        ("0.1Gi", "107374182400m"),
        ("1000E", "1000E"),
        (".5", "500m"),
        ("5.", "5"),
        ("007", "7"),
    ],
)
def test_canonical_form(raw: str, canonical: str) -> None:
    assert canonical_quantity(raw) == canonical


@pytest.mark.parametrize(("raw", "canonical"), [(1, "1"), (0.5, "500m"), (2.0, "2"), (1e-3, "1m")])
def test_json_numbers(raw: float, canonical: str) -> None:
    assert canonical_quantity(raw) == canonical


@pytest.mark.parametrize("raw", ["", "abc", "1.2.3", "1Gi-", "1 Gi", "1Gi1", "1e", "--1", "1x"])
def test_invalid(raw: str) -> None:
    with pytest.raises(QuantityError) as info:
        parse_quantity(raw)
    assert isinstance(info.value, ValueError)
    assert info.value.message in (FORMAT_ERROR, "unable to parse quantity's suffix")


def test_error_message_matches_apiserver() -> None:
    with pytest.raises(ValueError, match=r"quantities must match the regular expression"):
        parse_quantity("abc")
    assert FORMAT_ERROR.endswith("'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")
    for bad in (True, None, [1], float("inf")):
        with pytest.raises(QuantityError):
            parse_quantity(bad)  # type: ignore[arg-type]


def test_surrounding_whitespace_is_trimmed() -> None:
    assert canonical_quantity(" 1Gi ") == "1Gi"


def test_formats() -> None:
    assert parse_quantity("1Gi").format == BINARY_SI
    assert parse_quantity("1G").format == DECIMAL_SI
    assert parse_quantity("1e9").format == DECIMAL_EXPONENT
    assert parse_quantity("0.5Ki").format == BINARY_SI
    assert parse_quantity("0.0001Ki").format == DECIMAL_SI  # below 1, binary falls back


def test_exact_values() -> None:
    assert parse_quantity("500m").value == Fraction(1, 2)
    assert parse_quantity("1Gi").value == 2**30
    assert parse_quantity("1.5Gi").as_int() == 1610612736
    assert parse_quantity("100m").milli_value() == 100
    assert parse_quantity("1.1m").milli_value() == 2  # rounds up like MilliValue
    assert parse_quantity("1500m").as_int() == 2
    assert str(parse_quantity("250m").as_decimal()) == "0.25"
    assert float(parse_quantity("250m")) == 0.25


def test_comparison() -> None:
    assert compare_quantities("1Gi", "1024Mi") == 0
    assert compare_quantities("1G", "1Gi") == -1
    assert compare_quantities("2", "1500m") == 1
    assert parse_quantity("500m") < parse_quantity("1")
    assert parse_quantity("1Gi") == "1024Mi"
    assert parse_quantity("4Gi") >= parse_quantity("4096Mi")
    assert hash(parse_quantity("1")) == hash(parse_quantity("1000m"))
    assert parse_quantity("1") != object()


def test_sum_and_arithmetic() -> None:
    total = sum_quantities(["500m", "0.5", "1"])
    assert str(total) == "2"
    assert str(sum_quantities(["1Gi", "512Mi"])) == "1536Mi"
    assert str(sum_quantities([])) == "0"
    assert sum_quantities(["1Gi"]).format == BINARY_SI  # zero adopts the first term's format
    assert str(parse_quantity("2") - "500m") == "1500m"
    assert str(-parse_quantity("1Gi")) == "-1Gi"
    assert str(parse_quantity("1") + 1) == "2"
    assert str(1 + parse_quantity("1")) == "2"
    assert repr(parse_quantity("0.5")) == "Quantity('500m')"
    assert Quantity.from_fraction(Fraction(1, 3)).canonical() == "333333334n"
    assert Quantity.parse("1").is_zero() is False


def test_binary_si_is_capped_at_int64() -> None:
    assert parse_quantity("16Ei").nanos == (2**63 - 1) * 10**9


def test_canonicalize_resource_list_names_the_bad_entry() -> None:
    assert canonicalize_resource_list({"cpu": "0.5", "memory": "1024Mi"}) == {
        "cpu": "500m",
        "memory": "1Gi",
    }
    with pytest.raises(QuantityError) as info:
        canonicalize_resource_list({"cpu": "lots"}, "spec.containers[0].resources.requests")
    assert info.value.path == "spec.containers[0].resources.requests[cpu]"
    assert info.value.value == "lots"


def test_canonicalize_statefulset_template_and_claims() -> None:
    sts = {
        "kind": "StatefulSet",
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {"name": "zk", "resources": {"requests": {"cpu": "0.5", "memory": "1Gi"}}}
                    ]
                }
            },
            "volumeClaimTemplates": [{"spec": {"resources": {"requests": {"storage": "10240Mi"}}}}],
        },
    }
    out = canonicalize_object_quantities(sts)
    requests = out["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]
    assert requests == {"cpu": "500m", "memory": "1Gi"}
    storage = out["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"]
    assert storage == "10Gi"
    # input untouched
    assert sts["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["cpu"] == "0.5"


def test_canonicalize_other_kinds() -> None:
    node = {"kind": "Node", "spec": {}, "status": {"allocatable": {"cpu": "2000m", "pods": "110"}}}
    assert canonicalize_object_quantities(node)["status"]["allocatable"] == {
        "cpu": "2",
        "pods": "110",
    }
    pvc = {
        "kind": "PersistentVolumeClaim",
        "spec": {"resources": {"requests": {"storage": "1e9"}}},
        "status": {"capacity": {"storage": "1024Mi"}},
    }
    out = canonicalize_object_quantities(pvc)
    assert out["spec"]["resources"]["requests"]["storage"] == "1e9"
    assert out["status"]["capacity"]["storage"] == "1Gi"
    pv = {"kind": "PersistentVolume", "spec": {"capacity": {"storage": "10Gi"}}}
    assert canonicalize_object_quantities(pv)["spec"]["capacity"]["storage"] == "10Gi"
    pod = {
        "kind": "Pod",
        "spec": {
            "containers": [{"name": "a", "resources": {"limits": {"cpu": 1}}}],
            "volumes": [{"name": "v", "emptyDir": {"sizeLimit": "1024Ki"}}],
        },
    }
    out = canonicalize_object_quantities(pod)
    assert out["spec"]["containers"][0]["resources"]["limits"]["cpu"] == "1"
    assert out["spec"]["volumes"][0]["emptyDir"]["sizeLimit"] == "1Mi"
    with pytest.raises(QuantityError) as info:
        canonicalize_object_quantities(
            {"kind": "Pod", "spec": {"containers": [{"resources": {"requests": {"cpu": "x"}}}]}}
        )
    assert info.value.path == "spec.containers[0].resources.requests[cpu]"
    assert canonicalize_object_quantities({"kind": "ConfigMap", "data": {"a": "0.5"}}) == {
        "kind": "ConfigMap",
        "data": {"a": "0.5"},
    }


# --------------------------------------------------------------------------- properties

_suffix = st.sampled_from(["", "m", "k", "M", "G", "Ki", "Mi", "Gi", "n", "u", "e3", "e-2"])
_quantity_text = st.builds(
    lambda sign, whole, frac, suffix: f"{sign}{whole}{'.' + frac if frac else ''}{suffix}",
    st.sampled_from(["", "-", "+"]),
    st.integers(min_value=0, max_value=10**6).map(str),
    st.one_of(st.just(""), st.integers(min_value=0, max_value=999).map(str)),
    _suffix,
)


@given(_quantity_text)
def test_canonical_form_is_a_fixed_point(text: str) -> None:
    canonical = canonical_quantity(text)
    assert canonical_quantity(canonical) == canonical
    assert parse_quantity(canonical) == parse_quantity(text)


@given(_quantity_text)
def test_canonical_form_has_no_fraction(text: str) -> None:
    assert "." not in canonical_quantity(text)


@given(st.lists(_quantity_text, max_size=5))
def test_sum_is_exact(texts: list[str]) -> None:
    total = sum_quantities(texts)
    assert total.value == sum((parse_quantity(t).value for t in texts), Fraction(0))


@given(_quantity_text, _quantity_text)
def test_compare_agrees_with_exact_values(a: str, b: str) -> None:
    va, vb = parse_quantity(a).value, parse_quantity(b).value
    assert compare_quantities(a, b) == (va > vb) - (va < vb)
