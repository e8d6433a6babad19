"""What the panel's buttons do, and the panel where widgets cannot render (a mixin of
`ui.panel.Panel`, which holds the form and its state).

Generate validates and enqueues, one card per job (never waits: the callback may run
off the main thread); "Copy as %%seedance cell" shows the equivalent cell; opening the
panel brings back the cards of this folder's recent ledger rows.
"""
from __future__ import annotations

import html
from typing import Any, Optional

from .cards import JobCard
from .form import notes_html


def _settings() -> Any:
    """The settings object (read at use: `%config` may change it between calls)."""
    from ..config import settings

    return settings


class PanelActions:
    def _on_copy(self, _b: Any = None) -> str:
        """Show the equivalent cell in a read-only box (and a browser-side Copy button)."""
        from ..errors import SeedanceError

        try:
            self.build()
        except SeedanceError as exc:
            self.problems.value = _problems_html(exc)
            self.copy_out.value = ""
            self.cell = ""
            return ""
        from ..config import default_emulate
        from .cell import copy_html

        self.cell = text = self.cell_text()
        emulate = _settings().emulate or default_emulate()
        first = (f"%config Seedance.emulate = {self.emulate.value!r}"
                 if self.provider.value == "emulator" and self.emulate.value != emulate else "")
        self.copy_out.value = copy_html(text, first)
        return text

    def _on_generate(self, _b: Any = None) -> Optional[Any]:
        """Validate and enqueue; never wait."""
        from .. import display as _display
        from .. import jobs as _jobs
        from ..errors import SeedanceError

        try:
            self.build()
            kw = self.request_kwargs()
            if kw["provider"] == "emulator":
                kw["emulate"] = self.emulate.value
            # the configured key: resolve_client adds it for the provider it is for
            job = _jobs.submit(self.prompt.value, name=self.name.value.strip() or None,
                               new=self.new.value, **kw)
        except SeedanceError as exc:
            self.problems.value = _problems_html(exc)
            return None
        self.problems.value = ""
        self._add_card(job, self.prompt.value.strip()[:80] or "(image only)",
                       embed=_display.should_embed())
        return job

    def _add_card(self, job: Any, title: str, *, embed: bool = False) -> JobCard:
        """A card at the top of the list (`jobs`/`cards` stay oldest first)."""
        card = JobCard(job, title=title, embed=embed)
        card.panel_title = title
        with self._lock:
            self.jobs.append(job)
            self.cards.append(card)
            self.cards_box.children = (card, *self.cards_box.children)
        return card

    # -- after a restart -----------------------------------------------------------------

    def _restore(self, limit: int) -> None:
        """Cards for this folder's last `limit` ledger rows (newest first)."""
        from ..errors import SeedanceError
        from .restore import recent

        try:
            found, note = recent(limit)
        except (SeedanceError, OSError) as exc:  # a foreign or newer ledger file
            self.restored.value = notes_html([f"earlier jobs not shown: {exc}"])
            return
        for job, title in reversed(found):  # oldest first: each newer one goes above it
            self._add_card(job, title)
        if found:
            n = len(found)
            head = (f"{n} recent job{'s' if n > 1 else ''} from the ledger of "
                    f"{_settings().output_dir}/")
            self.restored.value = notes_html([head] + ([note] if note else []))

    # -- where widgets cannot render ------------------------------------------------------

    def _repr_mimebundle_(self, **kwargs: Any) -> dict:
        data = super()._repr_mimebundle_(**kwargs) or {}
        data["text/plain"] = self.text()
        data["text/html"] = self.html()
        return data

    def text(self) -> str:
        """The panel as plain text (a terminal, a notebook saved without widget state)."""
        from .text import panel_text

        return panel_text(self)

    def html(self) -> str:
        from .text import panel_html

        return panel_html(self)

    def __repr__(self) -> str:
        return self.text()


def _problems_html(exc: BaseException) -> str:
    problems = getattr(exc, "problems", None) or [str(exc)]
    items = "".join(f"<li>{html.escape(p)}</li>" for p in problems)
    return f'<ul class="seedance-problems" style="color:#c62828;margin:0">{items}</ul>'
