"""`seedance-nb models` and `%seedance models`: the catalog table and --check (§2.5, §2.6)."""
from __future__ import annotations

import json
import re
import threading
from typing import Any, Callable

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from seedance_nb import catalog, catalog_file, cli, models
from seedance_nb.config import settings

KEY = "sk-test-models-0123456789abcdef"


@pytest.fixture(autouse=True)
def clean(monkeypatch):
    for env in ("SEEDANCE_CATALOG", "SEEDANCE_PROVIDER", "ARK_API_KEY", "BYTEPLUS_API_KEY",
                "COMETAPI_KEY", "ACEDATACLOUD_API_TOKEN", "SEEDANCE_EMULATOR_URL",
                "SEEDANCE_EMULATOR_TOKEN", "SEEDANCE_EMULATE"):
        monkeypatch.delenv(env, raising=False)
    settings.reset()
    yield
    catalog.install_specs(catalog.builtin_specs())
    catalog_file._state.update(path=None, applied=False)
    settings.reset()


class GatewayStub:
    """A loopback server answering GET /models (and /api/v3/models) in the §2.6 shape."""

    def __init__(self, handler: Callable[[Request], Response]) -> None:
        self.seen: list[tuple[str, str]] = []  # (path, Authorization)

        def app(environ: Any, start_response: Any) -> Any:
            request = Request(environ)
            self.seen.append((request.path, request.headers.get("Authorization", "")))
            return handler(request)(environ, start_response)

        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,),
                                       daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.thread.join(5)


ACCOUNT_IDS = ["doubao-seedance-2-0-260128", "doubao-seedance-2-0-fast-260128",
               "doubao-seedance-3-0-271201", "doubao-seed-1-6-250615", "ep-20261201-abc"]


def listing(ids: list[str]) -> Callable[[Request], Response]:
    def handler(request: Request) -> Response:
        if request.headers.get("Authorization") != f"Bearer {KEY}":
            body = {"error": {"code": "AuthenticationError", "type": "Unauthorized",
                              "message": "The API key in the request is missing or invalid. "
                                         "Request id: r1"}}
            return Response(json.dumps(body), status=401, content_type="application/json")
        if not request.path.endswith("/models"):
            return Response("{}", status=404, content_type="application/json")
        data = [{"id": i, "domain": "VideoGeneration"} for i in ids]
        return Response(json.dumps({"object": "list", "data": data}),
                        content_type="application/json")
    return handler


@pytest.fixture
def gateway():
    stubs: list[GatewayStub] = []

    def start(handler: Callable[[Request], Response] = listing(ACCOUNT_IDS)) -> GatewayStub:
        stub = GatewayStub(handler)
        stubs.append(stub)
        return stub

    yield start
    for stub in stubs:
        stub.close()


def main_rows(text: str) -> dict[str, str]:
    """family -> its line in the text table (not the indented id lines)."""
    out = {}
    for line in text.splitlines()[2:]:
        if line and not line.startswith(" "):
            out[line.split()[0]] = line
    return out


def test_table_lists_every_family_with_ids_status_limits_and_price():
    text = str(models.models_table())
    rows = main_rows(text)
    assert list(rows)[:len(catalog.FAMILIES)] == list(catalog.FAMILIES)
    assert "retired 2026-11-11, use 2.0" in rows["1.5-pro"]
    assert "live; comet: retired 2026-07-17, use 2.0-fast" in rows["1.0-pro"]
    assert "4-30 or -1" in rows["2.5"] and "ark 70/42 CNY (1080p 77/46)" in rows["2.5"]
    assert "480p 720p 1080p 4k" in rows["2.0"]
    assert re.search(r"^\s+byteplus\s+dreamina-seedance-2-5-260628$", text, re.M)
    assert re.search(r"^\s+comet\s+seedance-2-5$", text, re.M)
    # aligned: the status column starts at the same place in the header and every row
    head = text.splitlines()[0]
    col = head.index("status")
    for family, line in rows.items():
        if family in catalog.FAMILIES:
            assert line[col - 2:col] == "  " and line[col] != " ", line


def test_provider_table_shows_that_gateways_ids_and_limits():
    text = str(models.models_table("comet"))
    rows = main_rows(text)
    assert set(rows) >= {"2.5", "2.0", "2.0-fast"} and "2.0-mini" not in rows
    assert "doubao-seedance-2-0 " in rows["2.0"] and "480p 720p " in rows["2.0"]
    assert "4k" not in rows["2.0"]  # comet's own matrix (§2.3)
    assert "retired 2026-07-17, use 2.0-fast" in rows["1.0-pro"]
    assert "(byteplus list price)" in rows["2.0-fast"]


def test_catalog_file_families_are_shown_with_the_builtins(tmp_path, monkeypatch):
    path = tmp_path / "catalog.toml"
    path.write_text('[family."2.6"]\nlike = "2.5"\nids = { ark = "doubao-seedance-2-6-270101" }\n'
                    '[family."1.5-pro"]\nstatus = "live"\n')
    monkeypatch.setenv("SEEDANCE_CATALOG", str(path))
    table = models.models_table()  # SEEDANCE_CATALOG alone is enough
    rows = main_rows(str(table))
    assert rows["2.6"].startswith("2.6 *") and rows["1.5-pro"].startswith("1.5-pro *")
    assert " live " in rows["1.5-pro"]
    assert f"* from the catalog file {path}" in str(table)
    html = table._repr_html_()
    assert "<table" in html and "doubao-seedance-2-6-270101" in html


def test_html_table_escapes_and_greys_retired_rows():
    html = models.models_table()._repr_html_()
    assert html.count("<tr") == len(catalog.FAMILIES) + 1
    assert '<tr style="color:#888"><td>1.5-pro</td>' in html
    assert "<code>byteplus</code> dreamina-seedance-2-5-260628" in html


def test_check_on_ark_marks_ids_and_names_unknown_seedance_models(gateway):
    stub = gateway()
    table = models.models_table("ark", check=True, api_key=KEY, base_url=stub.url)
    text = str(table)
    rows = main_rows(text)
    assert "account" in text.splitlines()[0]
    assert " in account " in rows["2.0"] and " in account " in rows["2.0-fast"]
    assert "NOT in account" in rows["2.5"]
    assert ("in the account but not in the catalog: doubao-seedance-3-0-271201 "
            in text)  # neither the non-video model nor the endpoint id
    assert "doubao-seed-1-6" not in text and "ep-20261201" not in text
    assert stub.seen == [("/models", f"Bearer {KEY}")]
    assert KEY not in text and KEY not in table._repr_html_()


def test_check_on_the_emulator_uses_its_api_v3_route(gateway, monkeypatch):
    # the emulator's /api/v3/models route (§10.2) is answered here by a stub
    stub = gateway(listing(["doubao-seedance-2-5-260628", "dreamina-seedance-2-5-260628"]))
    monkeypatch.setenv("SEEDANCE_EMULATOR_URL", stub.url)
    monkeypatch.setenv("SEEDANCE_EMULATOR_TOKEN", KEY)
    table = models.models_table("emulator", check=True)
    rows = main_rows(str(table))
    assert " in account " in rows["2.5"] and "NOT in account" in rows["2.0"]
    assert stub.seen == [("/api/v3/models", f"Bearer {KEY}")]
    assert table.check.unknown == ()  # the byteplus id is known to the catalog


def test_check_without_provider_checks_the_default_one(gateway, monkeypatch):
    stub = gateway()
    monkeypatch.setenv("ARK_API_KEY", KEY)
    table = models.models_table(check=True, base_url=stub.url)
    text = str(table)
    assert re.search(r"^\s+ark\s+doubao-seedance-2-0-260128\s+in account$", text, re.M)
    assert re.search(r"^\s+byteplus\s+dreamina-seedance-2-0-260128$", text, re.M)
    assert "checked ark at" in text


@pytest.mark.parametrize("provider", ["comet", "comet-volc", "acedata"])
def test_gateways_without_a_list_say_so_and_send_nothing(provider, monkeypatch):
    table = models.models_table(provider, check=True, base_url="https://127.0.0.1:9")
    assert f"{provider}: the gateway has no model list" in str(table)
    assert table.check.ok and table.check.listed is None  # no key needed either


def test_the_emulator_emulating_comet_has_no_list_either(gateway, monkeypatch):
    stub = gateway()
    monkeypatch.setenv("SEEDANCE_EMULATOR_URL", stub.url)
    settings.emulate = "comet"
    table = models.models_table("emulator", check=True)
    assert "emulator (emulating comet): the gateway has no model list" in str(table)
    assert "seedance-2-5 " in str(table)  # the comet ids are shown
    assert stub.seen == []


def test_a_refused_key_is_one_line_without_the_key(gateway, capsys, monkeypatch):
    stub = gateway()
    monkeypatch.setenv("ARK_API_KEY", "sk-wrong-key-0123456789")
    table = models.models_table("ark", check=True, base_url=stub.url)
    assert not table.check.ok
    note = table.check.note
    assert note.startswith("check failed: ") and "\n" not in note
    assert "API key" in note and "sk-wrong-key" not in str(table)
    assert "account" not in str(table).splitlines()[0]  # no marks without a list


def test_a_redirect_is_not_followed(gateway):
    target = gateway()

    def redirect(request: Request) -> Response:
        return Response("", status=302, headers={"Location": target.url + "/models"})

    stub = gateway(redirect)
    table = models.models_table("ark", check=True, api_key=KEY, base_url=stub.url)
    assert "redirect" in table.check.note and not table.check.ok
    assert target.seen == []  # the key never went elsewhere


def test_a_reply_without_a_data_list_is_a_clear_failure(gateway):
    stub = gateway(lambda r: Response('{"models": []}', content_type="application/json"))
    table = models.models_table("ark", check=True, api_key=KEY, base_url=stub.url)
    assert 'no "data" list' in table.check.note


def test_missing_key_is_a_config_error():
    with pytest.raises(Exception, match="ARK_API_KEY"):
        models.models_table("ark", check=True)


def test_cli_models_command(capsys, gateway, monkeypatch):
    assert cli.main(["models", "--provider", "byteplus"]) == 0
    out = capsys.readouterr().out
    assert "dreamina-seedance-2-0-mini-260615" in out and "doubao-seedance" not in out
    stub = gateway()
    monkeypatch.setenv("SEEDANCE_EMULATOR_URL", stub.url)
    monkeypatch.setenv("SEEDANCE_EMULATOR_TOKEN", KEY)
    assert cli.main(["models", "--provider", "emulator", "--check"]) == 0
    out = capsys.readouterr().out
    assert "in the account but not in the catalog: doubao-seedance-3-0-271201" in out
    monkeypatch.setenv("SEEDANCE_EMULATOR_TOKEN", "sk-wrong-token-0123456789")
    assert cli.main(["models", "--provider", "emulator", "--check"]) == 1
    out = capsys.readouterr().out
    assert "check failed" in out and "sk-wrong-token" not in out


def test_magic_models_command(capsys):
    from _magic_helpers import make_shell

    shell = make_shell()
    table = shell.run_line_magic("seedance", "models --provider comet")
    assert isinstance(table, models.ModelTable)
    assert "seedance-2-5" in str(table) and "2.0-mini" not in str(table)
    from IPython.core.error import UsageError

    with pytest.raises(UsageError, match="--provider"):
        shell.run_line_magic("seedance", "models --provider nowhere")


def test_check_against_the_real_emulator(monkeypatch, tmp_path):
    from seedance_nb.emulator import Emulator

    added = tmp_path / "catalog.toml"
    added.write_text('[family."2.6"]\nlike = "2.5"\nids = { ark = "doubao-seedance-2-6-270101" }\n')
    monkeypatch.setenv("SEEDANCE_CATALOG", str(added))  # the in-process emulator shares it
    with Emulator(in_process=True, speed=1000, run_seconds=0) as emu:
        monkeypatch.setenv("SEEDANCE_EMULATOR_URL", emu.base_url)
        monkeypatch.setenv("SEEDANCE_EMULATOR_TOKEN", emu.token)
        table = models.models_table("emulator", check=True)
    rows = main_rows(str(table))
    assert table.check.ok, table.check.note
    for family in ("2.6", "2.5", "2.0", "2.0-fast", "2.0-mini", "1.0-pro"):
        assert " in account " in rows[family], rows[family]
    assert "NOT in account" in rows["1.5-pro"]  # retired: the emulator no longer serves it
    assert table.check.unknown == ()
