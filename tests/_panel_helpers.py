"""Helpers for the panel tests: image uploads as FileUpload gives them, the emulator's
create bodies."""
from __future__ import annotations

import datetime
import io
from typing import Any


def png_upload(colour: tuple[int, int, int], name: str = "frame.png",
               size: tuple[int, int] = (640, 360)) -> dict:
    """One FileUpload value item holding a PNG."""
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, format="PNG")
    data = buf.getvalue()
    return {"name": name, "type": "image/png", "size": len(data),
            "content": memoryview(data),
            "last_modified": datetime.datetime.now(datetime.timezone.utc)}


def record_creates(monkeypatch: Any) -> list[dict]:
    """From now on, the JSON body of every create the transport puts on the wire."""
    from seedance_nb.http import Transport

    sent: list[dict] = []
    create = Transport.create

    def recording(self: Any, call: Any, *args: Any, **kw: Any) -> Any:
        sent.append(call.json)
        return create(self, call, *args, **kw)

    monkeypatch.setattr(Transport, "create", recording)
    return sent
