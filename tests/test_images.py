"""Image loading and checks (reference §5.4)."""
from __future__ import annotations

import base64
import hashlib
import http.server
import threading
from pathlib import Path
from urllib.parse import quote_from_bytes

import pytest

from _test_images_helpers import heif_bytes, image_bytes, make_image
from seedance_nb import SeedanceValidationError, build_request
from seedance_nb.images import describe, load_image, private_host_warning


def load(source, role="first_frame", dialect="ark", family="2.0", **kw):
    return load_image(source, role, dialect=dialect, family=family, **kw)


def problems(source, **kw) -> list[str]:
    with pytest.raises(SeedanceValidationError) as err:
        load(source, **kw)
    return err.value.problems


# --- format from magic bytes -----------------------------------------------------------

@pytest.mark.parametrize("fmt", ["jpeg", "png", "webp", "bmp", "tiff", "gif"])
def test_ark_accepts_every_listed_format(tmp_path: Path, fmt: str) -> None:
    path = make_image(tmp_path, f"img.{fmt}", (640, 480), fmt)
    image = load(path)
    assert (image.format, image.width, image.height) == (fmt, 640, 480)
    data = Path(path).read_bytes()
    assert image.data == data and image.sha256 == hashlib.sha256(data).hexdigest()
    assert not image.is_remote


@pytest.mark.parametrize("fmt, ok", [("jpeg", True), ("png", True), ("webp", True),
                                     ("gif", False), ("bmp", False), ("tiff", False)])
def test_comet_accepts_only_jpeg_png_webp(tmp_path: Path, fmt: str, ok: bool) -> None:
    path = make_image(tmp_path, f"img.{fmt}", (640, 480), fmt)
    if ok:
        assert load(path, dialect="comet").format == fmt
    else:
        assert problems(path, dialect="comet") == [
            f"image {path!r}: format {fmt} is not accepted by doubao-seedance-2-0 on comet; "
            f"allowed: jpeg, png, webp"]


def test_extension_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "photo.jpg"
    path.write_bytes(image_bytes((640, 480), "png"))
    assert load(str(path)).format == "png"


def test_not_an_image(tmp_path: Path) -> None:
    path = tmp_path / "notes.png"
    path.write_text("hello")
    assert problems(str(path)) == [
        f"image {str(path)!r}: not a readable image; allowed formats: jpeg, png, webp, bmp, "
        f"tiff, gif, heic, heif"]


def test_a_format_pillow_reads_but_the_gateway_does_not(tmp_path: Path) -> None:
    from PIL import Image

    path = tmp_path / "img.ico"
    Image.new("RGB", (64, 64)).save(path, "ICO")
    assert "format ico is not accepted" in problems(str(path))[0]


# --- HEIC / HEIF: detected from the ftyp box, size from the ispe box ---------------------------

def test_heic_accepted_for_1_5_pro_with_its_size(tmp_path: Path) -> None:
    path = tmp_path / "photo.heic"
    path.write_bytes(heif_bytes(b"heic", (1024, 768)))
    image = load(str(path), family="1.5-pro")
    assert (image.format, image.width, image.height) == ("heic", 1024, 768)


def test_heif_brand(tmp_path: Path) -> None:
    path = tmp_path / "photo.heif"
    path.write_bytes(heif_bytes(b"mif1", (800, 600), compatible=(b"mif1",)))
    assert load(str(path), family="1.5-pro").format == "heif"


def test_heic_refused_for_the_1_0_families(tmp_path: Path) -> None:
    # §5.4 (revised 2026-12-01): heic/heif only for the 2.x families and 1.5-pro.
    path = tmp_path / "photo.heic"
    path.write_bytes(heif_bytes())
    assert problems(str(path), family="1.0-pro") == [
        f"image {str(path)!r}: format heic is not accepted by doubao-seedance-1-0-pro-250528 on "
        f"ark; allowed: jpeg, png, webp, bmp, tiff, gif"]
    assert load(str(path), family="2.0").format == "heic"


def test_heic_size_rules_apply(tmp_path: Path) -> None:
    path = tmp_path / "tiny.heic"
    path.write_bytes(heif_bytes(b"heic", (200, 200)))
    assert len(problems(str(path), family="1.5-pro")) == 2


def test_heic_without_size_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "odd.heic"
    path.write_bytes(heif_bytes(b"heic", None))
    assert problems(str(path), family="1.5-pro") == [
        f"image {str(path)!r}: heic file without a readable size (no ispe box)"]


# --- sides, aspect ratio, size -----------------------------------------------------------

@pytest.mark.parametrize("size", [(301, 301), (5999, 2400), (2400, 5999), (1000, 401),
                                  (1000, 2499)])
def test_sizes_just_inside_the_limits(tmp_path: Path, size) -> None:
    path = make_image(tmp_path, "ok.png", size, "png", mode="1")
    assert (load(path).width, load(path).height) == size


@pytest.mark.parametrize("size, lines", [
    ((300, 400), ["width 300 px; each side must be strictly between 300 and 6000 px"]),
    ((400, 300), ["height 300 px; each side must be strictly between 300 and 6000 px"]),
    ((6000, 2500), ["width 6000 px; each side must be strictly between 300 and 6000 px"]),
    ((1000, 400), ["aspect ratio 2.5 (1000x400); width/height must be strictly between 0.4 "
                   "and 2.5"]),
    ((400, 1000), ["aspect ratio 0.4 (400x1000); width/height must be strictly between 0.4 "
                   "and 2.5"]),
    ((200, 1000), ["width 200 px; each side must be strictly between 300 and 6000 px",
                   "aspect ratio 0.2 (200x1000); width/height must be strictly between 0.4 "
                   "and 2.5"]),
])
def test_sizes_outside_the_limits(tmp_path: Path, size, lines) -> None:
    path = make_image(tmp_path, "bad.png", size, "png", mode="1")
    assert problems(path) == [f"image {path!r}: {line}" for line in lines]


def test_file_of_30_mb_is_refused_and_just_under_is_accepted(tmp_path: Path) -> None:
    png = image_bytes((640, 480), "png")
    limit = 30 * 1024 * 1024
    big = tmp_path / "big.png"
    big.write_bytes(png + b"\0" * (limit - len(png)))  # trailing bytes: still a valid PNG
    assert problems(str(big)) == [f"image {str(big)!r}: 30.0 MB; must be under 30 MB"]
    under = tmp_path / "under.png"
    under.write_bytes(png + b"\0" * (limit - 1 - len(png)))
    assert load(str(under)).format == "png"


# --- sources ------------------------------------------------------------------------------

def test_missing_file_and_directory(tmp_path: Path) -> None:
    assert problems(str(tmp_path / "nope.png")) == [
        f"image {str(tmp_path / 'nope.png')!r}: file not found"]
    assert problems(str(tmp_path)) == [f"image {str(tmp_path)!r}: not a file"]


def test_pathlike_and_home_expansion(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_image(tmp_path, "a.png")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert load("~/a.png").format == "png"
    assert load(tmp_path / "a.png").source == str(tmp_path / "a.png")


def test_data_url_base64() -> None:
    data = image_bytes((640, 480), "webp")
    url = "data:image/webp;base64," + base64.b64encode(data).decode()
    image = load(url)
    assert (image.format, image.data, image.source) == ("webp", data, url)


def test_data_url_percent_encoded() -> None:
    data = image_bytes((640, 480), "png")
    assert load("data:image/png," + quote_from_bytes(data)).format == "png"


def test_data_url_problems_name_it_abbreviated() -> None:
    data = image_bytes((100, 100), "png")
    url = "data:image/png;base64," + base64.b64encode(data).decode()
    lines = problems(url)
    short = describe(url)
    assert short.startswith("'data:image/png;base64,") and f"({len(url)} chars)" in short
    assert all(line.startswith(f"image {short}: ") for line in lines) and len(lines) == 2
    assert problems("data:image/png;base64,@@@@") == [
        "image 'data:image/png;base64,@@@@': bad base64 in data URL"]
    assert problems("data:image/png;base64") == [
        "image 'data:image/png;base64': bad data URL (no comma)"]


def test_other_schemes() -> None:
    assert problems("ftp://example.com/a.png") == [
        "image 'ftp://example.com/a.png': only local paths, http(s) URLs and data: URLs are "
        "accepted"]
    assert problems("asset://abc123") == [
        "image 'asset://abc123': asset:// ids are not supported in this version"]


# --- remote URLs: not fetched, warned about when private ------------------------------------

@pytest.mark.parametrize("url, private", [
    ("https://example.com/a.png", False), ("http://8.8.8.8/a.png", False),
    ("http://localhost:8000/a.png", True), ("http://127.0.0.1/a.png", True),
    ("http://10.1.2.3/a.png", True), ("http://192.168.1.5/a.png", True),
    ("http://[::1]/a.png", True), ("http://printer.local/a.png", True),
])
def test_remote_urls_are_not_fetched(url: str, private: bool) -> None:
    image = load(url, real_provider=True)
    assert image.is_remote and image.sha256 is None and image.format is None
    assert bool(image.warnings) == private
    assert private_host_warning(url) is None or private
    assert load(url, real_provider=False).warnings == ()


def test_private_url_warning_through_build_request() -> None:
    with pytest.warns(UserWarning, match="cannot fetch"):
        req = build_request("", provider="ark", images=["http://127.0.0.1:9/a.png"])
    assert req.mode == "first" and "127.0.0.1" in req.warnings[0]


# --- comet downloads http(s) images first ------------------------------------------------

class _Handler(http.server.BaseHTTPRequestHandler):
    routes: dict[str, tuple[int, bytes, dict]] = {}

    def do_GET(self) -> None:  # noqa: N802
        status, body, headers = self.routes.get(self.path, (404, b"", {}))
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        if "Content-Length" not in headers and not headers.get("X-No-Length"):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def server():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    _Handler.routes = {}
    yield f"http://127.0.0.1:{srv.server_address[1]}", _Handler.routes
    srv.shutdown()
    srv.server_close()


def test_comet_downloads_and_checks(server) -> None:
    base, routes = server
    png = image_bytes((640, 480), "png")
    routes["/a.png"] = (200, png, {"Content-Type": "image/png"})
    routes["/small.png"] = (200, image_bytes((100, 100), "png"), {})
    routes["/anim.gif"] = (200, image_bytes((640, 480), "gif"), {})
    image = load(f"{base}/a.png", dialect="comet")
    assert image.data == png and image.format == "png" and not image.is_remote
    assert image.source == f"{base}/a.png"
    assert len(problems(f"{base}/small.png", dialect="comet")) == 2  # width and height
    assert "format gif is not accepted" in problems(f"{base}/anim.gif", dialect="comet")[0]


def test_comet_download_failures(server) -> None:
    base, routes = server
    routes["/huge.png"] = (200, b"", {"Content-Length": str(31 * 1024 * 1024)})
    assert problems(f"{base}/missing.png", dialect="comet") == [
        f"image '{base}/missing.png': download failed: HTTP 404"]
    assert problems(f"{base}/huge.png", dialect="comet") == [
        f"image '{base}/huge.png': 31.0 MB; must be under 30 MB"]


def test_comet_download_streams_and_stops_at_30_mb(server) -> None:
    base, routes = server
    # No Content-Length: the body ends when the connection closes (HTTP/1.0).
    routes["/endless.png"] = (200, b"\0" * (30 * 1024 * 1024 + 10), {"X-No-Length": "1"})
    assert problems(f"{base}/endless.png", dialect="comet") == [
        f"image '{base}/endless.png': more than 30 MB; must be under 30 MB"]


def test_comet_unreachable_url() -> None:
    lines = problems("http://127.0.0.1:9/a.png", dialect="comet")
    assert lines == ["image 'http://127.0.0.1:9/a.png': download failed: ConnectionError"]


def test_comet_through_build_request(server) -> None:
    base, routes = server
    routes["/a.jpg"] = (200, image_bytes((640, 480), "jpeg"), {})
    req = build_request("", provider="comet", model="2.0",
                        images=[(f"{base}/a.jpg", "reference_image")])
    assert req.images[0].format == "jpeg" and req.images[0].data
    assert req.warnings == ()  # the gateway gets the bytes, so a private host is fine


def test_emulator_fetches_only_when_emulating_comet(server) -> None:
    base, routes = server
    routes["/a.png"] = (200, image_bytes((640, 480), "png"), {})
    req = build_request("", provider="emulator", emulate="ark", images=[f"{base}/a.png"])
    assert req.images[0].is_remote and req.warnings == ()
    req = build_request("", provider="emulator", emulate="comet", model="2.0",
                        images=[(f"{base}/a.png", "reference_image")])
    assert not req.images[0].is_remote


def test_image_repr_has_no_bytes(tmp_path: Path) -> None:
    data = image_bytes((640, 480), "png")
    url = "data:image/png;base64," + base64.b64encode(data).decode()
    text = repr(load(url))
    assert len(text) < 120 and "png 640x480" in text and "first_frame" in text


# --- every pixel is decoded before an image is accepted ---------------------------------

def _noisy(fmt: str, size: tuple[int, int] = (640, 480)) -> bytes:
    import io
    import random

    from PIL import Image

    rng = random.Random(7)
    img = Image.frombytes("RGB", size, bytes(rng.getrandbits(8) for _ in range(size[0] * size[1] * 3)))
    buf = io.BytesIO()
    img.save(buf, {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}[fmt])
    return buf.getvalue()


@pytest.mark.parametrize("fmt", ["png", "jpeg"])  # Pillow cannot even open a cut WebP
def test_a_truncated_image_is_refused_naming_the_file(tmp_path: Path, fmt: str) -> None:
    whole = _noisy(fmt)
    path = tmp_path / f"half.{fmt}"
    path.write_bytes(whole[:len(whole) // 2])  # header and size intact, pixels cut off
    [problem] = problems(str(path))
    assert problem.startswith(f"image {str(path)!r}: the {fmt} data is truncated or corrupt")
    (tmp_path / f"whole.{fmt}").write_bytes(whole)
    assert load(str(tmp_path / f"whole.{fmt}")).format == fmt  # the intact file is fine


def test_a_truncated_data_url_is_refused_too() -> None:
    whole = _noisy("png")
    url = "data:image/png;base64," + base64.b64encode(whole[:len(whole) - 2000]).decode()
    [problem] = problems(url)
    assert "truncated or corrupt" in problem and problem.startswith("image 'data:image/png")


def test_a_truncated_image_of_the_wrong_size_reports_the_size_rule(tmp_path: Path) -> None:
    whole = _noisy("png", (200, 200))
    path = tmp_path / "small.png"
    path.write_bytes(whole[: len(whole) // 2])
    assert problems(str(path)) == [
        f"image {str(path)!r}: width 200 px; each side must be strictly between 300 and 6000 px",
        f"image {str(path)!r}: height 200 px; each side must be strictly between 300 and 6000 px"]
