"""The user's catalog file (reference §2.5): loading, validation, installing."""
from __future__ import annotations

import logging
import textwrap
from pathlib import Path

import pytest

from seedance_nb import catalog, catalog_file
from seedance_nb.errors import SeedanceConfigError, SeedanceValidationError
from seedance_nb.request import build_request

EXAMPLE = """
[family."2.6"]
like = "2.5"
ids = { ark = "doubao-seedance-2-6-270101", byteplus = "dreamina-seedance-2-6-270101" }
durations = [4, 30]

[family."1.5-pro"]
status = "live"
"""


@pytest.fixture(autouse=True)
def builtin_catalog(monkeypatch):
    monkeypatch.delenv(catalog_file.CATALOG_ENV, raising=False)
    yield
    catalog.install_specs(catalog.builtin_specs())
    catalog_file._state.update(path=None, applied=False)


def write(tmp_path: Path, text: str, name: str = "catalog.toml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems_of(path: Path) -> list[str]:
    with pytest.raises(SeedanceConfigError) as info:
        catalog_file.load_catalog_file(path)
    return str(info.value).splitlines()


def test_reference_example_adds_2_6_and_unretires_1_5_pro(tmp_path):
    catalog_file.use_catalog_file(write(tmp_path, EXAMPLE))
    assert catalog.resolve_model("2.6", "ark") == ("2.6", "doubao-seedance-2-6-270101")
    assert catalog.resolve_model("dreamina-seedance-2-6-270101", "byteplus")[0] == "2.6"
    caps = catalog.capabilities("2.6", "ark")
    two_five = catalog.capabilities("2.5", "ark")
    # everything but the ids comes from 2.5
    assert (caps.modes, caps.resolutions, caps.duration_auto, caps.draft, caps.audio) == (
        two_five.modes, two_five.resolutions, True, True, True)
    assert (caps.duration_min, caps.duration_max) == (4, 30)
    assert catalog.list_price("ark", "2.6") == catalog.list_price("ark", "2.5")
    # a provider left out does not offer the family
    assert catalog.capabilities("2.6", "comet") is None
    with pytest.raises(ValueError, match="not offered on acedata"):
        catalog.resolve_model("2.6", "acedata")
    # 1.5-pro: only the status changed
    assert catalog.retired_problem("1.5-pro", "ark") is None
    assert catalog.capabilities("1.5-pro", "ark").resolutions == ("480p", "720p", "1080p")
    req = build_request("a cat", provider="ark", model="2.6", duration=20)
    assert req.model == "doubao-seedance-2-6-270101"


def test_a_request_for_the_new_family_validates_against_its_own_limits(tmp_path):
    catalog_file.use_catalog_file(write(tmp_path, """
        [family."2.1"]
        like = "2.0"
        ids = { ark = "doubao-seedance-2-1-270101" }
        durations = [4, 8]
        resolutions = ["480p", "720p"]
        ratios = ["16:9", "9:16"]
    """))
    ok = build_request("a cat", provider="ark", model="2.1", duration=8,
                       ratio="9:16")
    assert ok.duration == 8
    with pytest.raises(SeedanceValidationError, match="duration"):
        build_request("a cat", provider="ark", model="2.1", duration=10)
    with pytest.raises(SeedanceValidationError, match="1:1"):
        build_request("a cat", provider="ark", model="2.1", ratio="1:1")
    with pytest.raises(SeedanceValidationError, match="1080p"):
        build_request("a cat", provider="ark", model="2.1", resolution="1080p")


def test_like_may_name_a_family_defined_later_in_the_file(tmp_path):
    specs = catalog_file.load_catalog_file(write(tmp_path, """
        [family."b"]
        like = "a"
        ids = { ark = "seedance-b" }

        [family."a"]
        like = "1.0-pro"
        ids = { ark = "seedance-a" }
        durations = [3, 9]
    """))
    by_key = {s.key: s for s in specs}
    assert by_key["b"].durations == (3, 9)
    assert by_key["b"].frames is True  # from 1.0-pro through a
    assert by_key["b"].ids == {"ark": "seedance-b"}


def test_a_like_cycle_is_reported(tmp_path):
    lines = problems_of(write(tmp_path, """
        [family."a"]
        like = "b"
        ids = { ark = "sa" }
        [family."b"]
        like = "a"
        ids = { ark = "sb" }
    """))
    assert any("cycle" in line for line in lines), lines


def test_new_family_from_scratch_and_retired_with_replacement(tmp_path):
    catalog_file.use_catalog_file(write(tmp_path, """
        [family."x1"]
        ids = { byteplus = "seedance-x1-280101", comet = "seedance-x1" }
        modes = ["t2v", "first"]
        resolutions = ["480p", "720p"]
        default_resolution = "480p"
        durations = [2, 10]
        auto = true
        default_duration = -1
        status = "retired"
        retired_on = 2026-12-01
        replacement = "2.0-fast"
        price = { currency = "USD", per_million = 2.5, per_million_video_input = 1.5 }
    """))
    caps = catalog.capabilities("x1", "byteplus")
    assert caps.modes == ("t2v", "first")
    assert (caps.duration_min, caps.duration_max, caps.duration_auto) == (2, 10, True)
    assert catalog.capabilities("x1", "comet").modes == ("t2v", "first", "ref")
    assert catalog.retired_problem("x1", "byteplus") == (
        "model x1: retired on 2026-12-01 (byteplus no longer serves seedance-x1-280101); "
        "use 2.0-fast")
    quote = catalog.list_price("byteplus", "x1", video_input=True)
    assert (quote.per_million, quote.currency) == (1.5, "USD")
    assert catalog.list_price("ark", "x1") is None  # a USD price is the byteplus list price


def test_every_problem_is_reported_at_once_with_file_and_key(tmp_path):
    path = write(tmp_path, """
        [family."2.6"]
        like = "2.5"
        ids = { ark = "doubao-seedance-2-0-260128", pixverse = "p1" }
        durations = [4]
        status = "dead"
        colour = "blue"
        modes = ["t2v", "dance"]
        resolutions = ["720p", "8k"]
        ratios = ["16:9", "9:21"]

        [family."2.7"]
        like = "3.0"
        ids = { ark = "a27" }

        [family."2.8"]
        like = "2.0"
        ids = { ark = "a28" }
        price = { currency = "EUR", per_million = "cheap" }
        default_duration = 40
    """)
    lines = problems_of(path)
    text = "\n".join(lines)
    expected = [
        f'{path}: family."2.6".durations: expected [min, max] integers',
        f'{path}: family."2.6".ids.pixverse: unknown provider',
        f'{path}: family."2.6".status: expected "live" or "retired"',
        f'{path}: family."2.6".colour: unknown key',
        f"{path}: family.\"2.6\".modes: unknown modes 'dance'",
        f"{path}: family.\"2.6\".resolutions: unknown resolutions '8k'",
        f"{path}: family.\"2.6\".ratios: unknown ratios '9:21'",
        f"{path}: family.\"2.7\".like: unknown family '3.0'",
        f'{path}: family."2.8".price.currency: expected "CNY"',
        f'{path}: family."2.8".price.per_million: expected a number',
        f'{path}: family."2.6".ids.ark: doubao-seedance-2-0-260128 is already the ark id '
        f'of family 2.0',
    ]
    for fragment in expected:
        assert fragment in text, fragment
    assert all(line.startswith(f"{path}: family.") for line in lines)


def test_inherited_defaults_must_fit_the_new_limits(tmp_path):
    lines = problems_of(write(tmp_path, """
        [family."2.1"]
        like = "2.0"
        ids = { ark = "a21" }
        durations = [6, 12]
        resolutions = ["1080p"]
    """))
    text = "\n".join(lines)
    assert 'family."2.1".default_duration: 5 (inherited from 2.0) is outside durations [6, 12]' \
        in text
    assert 'family."2.1".default_resolution: 720p (inherited from 2.0) is not among' in text


def test_two_families_of_the_file_cannot_share_a_wire_id(tmp_path):
    lines = problems_of(write(tmp_path, """
        [family."a"]
        like = "2.0"
        ids = { ark = "same-id" }
        [family."b"]
        like = "2.0"
        ids = { ark = "same-id", byteplus = "b-id" }
    """))
    assert lines == [f'{tmp_path / "catalog.toml"}: family."b".ids.ark: same-id is already '
                     f'the ark id of family a']


def test_a_new_family_needs_ids(tmp_path):
    lines = problems_of(write(tmp_path, """
        [family."a"]
        like = "2.0"
    """))
    assert len(lines) == 1 and 'family."a".ids: required' in lines[0]


def test_bad_toml_and_missing_file_are_one_line_errors(tmp_path):
    bad = write(tmp_path, "[family.\"2.6\"\nlike = 1\n")
    with pytest.raises(SeedanceConfigError, match="not valid TOML"):
        catalog_file.load_catalog_file(bad)
    with pytest.raises(SeedanceConfigError, match="catalog file not found"):
        catalog_file.load_catalog_file(tmp_path / "nope.toml")


def test_a_bad_file_leaves_the_catalog_as_it_was(tmp_path):
    catalog_file.use_catalog_file(write(tmp_path, EXAMPLE))
    with pytest.raises(SeedanceConfigError):
        catalog_file.use_catalog_file(write(tmp_path, '[family."z"]\nlike = "nope"\n', "b.toml"))
    assert "2.6" in catalog.FAMILIES


def test_loading_another_file_starts_again_from_the_builtins(tmp_path):
    catalog_file.use_catalog_file(write(tmp_path, EXAMPLE))
    assert "2.6" in catalog.FAMILIES
    other = write(tmp_path, """
        [family."2.7"]
        like = "2.0"
        ids = { ark = "doubao-seedance-2-7-270101" }
    """, "other.toml")
    catalog_file.use_catalog_file(other)
    catalog_file.use_catalog_file(other)  # idempotent
    assert "2.6" not in catalog.FAMILIES and "2.7" in catalog.FAMILIES
    assert catalog.retired_problem("1.5-pro", "ark") is not None  # retired again
    assert catalog.FAMILIES[:len(catalog.builtin_specs())] == tuple(
        s.key for s in catalog.builtin_specs())
    catalog_file.use_catalog_file(None)  # no env var: the built-ins alone
    assert catalog.FAMILIES == tuple(s.key for s in catalog.builtin_specs())


def test_environment_variable_names_the_file_and_wins_over_config(tmp_path, monkeypatch):
    env_file = write(tmp_path, EXAMPLE)
    assert catalog_file.catalog_path("from-config.toml") == "from-config.toml"
    monkeypatch.setenv(catalog_file.CATALOG_ENV, str(env_file))
    assert catalog_file.catalog_path("from-config.toml") == str(env_file)
    catalog_file.ensure_loaded()
    assert "2.6" in catalog.FAMILIES
    assert catalog_file.active_path() == str(env_file)


def test_config_trait_loads_the_file_and_the_env_var_wins(tmp_path, monkeypatch, caplog):
    from _magic_helpers import make_shell

    shell = make_shell()
    config_file = write(tmp_path, EXAMPLE)
    try:
        shell.run_line_magic("config", f'Seedance.catalog = "{config_file}"')
        assert "2.6" in catalog.FAMILIES and catalog.retired_problem("1.5-pro", "ark") is None
        bad = write(tmp_path, '[family."2.6"]\nlike = "nope"\n', "bad.toml")
        with caplog.at_level(logging.ERROR):  # %config reports errors as log records
            shell.run_line_magic("config", f'Seedance.catalog = "{bad}"')
        assert any('bad.toml: family."2.6".like: unknown family' in r.getMessage()
                   for r in caplog.records)
        assert "2.6" in catalog.FAMILIES  # the bad file changed nothing
        env_file = write(tmp_path, '[family."2.9"]\nlike = "2.0"\nids = { ark = "a29" }\n',
                         "env.toml")
        monkeypatch.setenv(catalog_file.CATALOG_ENV, str(env_file))
        shell.run_line_magic("config", f'Seedance.catalog = "{config_file}"')
        assert "2.9" in catalog.FAMILIES and "2.6" not in catalog.FAMILIES
    finally:
        monkeypatch.delenv(catalog_file.CATALOG_ENV, raising=False)
        shell.run_line_magic("config", "Seedance.catalog = None")
    assert catalog.FAMILIES == tuple(s.key for s in catalog.builtin_specs())


def test_modes_the_family_cannot_serve_are_refused(tmp_path):
    # without default_duration: 5 when the range holds it, else the minimum
    specs = catalog_file.load_catalog_file(write(tmp_path, """
        [family."y"]
        ids = { ark = "seedance-y" }
        modes = ["t2v"]
        resolutions = ["720p"]
        default_resolution = "720p"
        durations = [6, 8]
    """, "y.toml"))
    assert specs[0].default_duration == 6 and specs[0].duration_auto is False
    lines = problems_of(write(tmp_path, """
        [family."x"]
        ids = { ark = "seedance-x" }
        modes = ["t2v", "ref", "final"]
        resolutions = ["720p"]
        default_resolution = "720p"
        durations = [4, 8]
    """))
    assert [line.split(": ", 2)[2] for line in lines] == [
        "'ref' needs a family with reference inputs; start from one with like = \"2.0\"",
        "'final' needs a family with drafts; start from one with like = \"2.5\""]
    # through like, the same modes are fine
    catalog_file.load_catalog_file(write(tmp_path, """
        [family."x"]
        like = "2.5"
        ids = { ark = "seedance-x" }
        modes = ["t2v", "ref", "final"]
    """, "ok.toml"))


def test_an_existing_family_with_like_keeps_its_own_ids(tmp_path):
    catalog_file.use_catalog_file(write(tmp_path, """
        [family."2.0-mini"]
        like = "2.0"
    """))
    assert catalog.resolve_model("2.0-mini", "byteplus") == (
        "2.0-mini", "dreamina-seedance-2-0-mini-260615")
    assert catalog.resolve_model("dreamina-seedance-2-0-mini", "byteplus")[0] == "2.0-mini"
    assert "4k" in catalog.capabilities("2.0-mini", "ark").resolutions  # 2.0's capabilities
