"""The live summary widget: the counts and a gallery with prev/next page buttons.

`refresh()` is called from job observers on lane threads and only sets widget traits;
the page buttons' callbacks (which may run on another thread) only change the page.
One lock keeps the two from interleaving.
"""
from __future__ import annotations

import threading
from typing import Sequence

import ipywidgets as widgets

from .. import display_gallery as dg
from .. import display_summary as ds


class SummaryView(widgets.VBox):
    """Counts, tokens, cost and ETA over one page of finished videos."""

    def __init__(self, tally: ds.Tally, *, title: str, fields: Sequence[str] = (),
                 embed: bool = False, per_page: int = dg.PER_PAGE) -> None:
        self.tally = tally
        self.title = title
        self.fields = list(fields)
        self.box = dg.tile_box(tally.jobs)
        self.embed = embed
        self.per_page = per_page
        self.page = 0
        self._lock = threading.RLock()
        self._tiles: dict = {}  # display_gallery.cached_tile's memory
        self.head = widgets.HTML()
        self.prev = widgets.Button(description="‹ prev", tooltip="previous page",
                                   layout=widgets.Layout(width="80px"))
        self.next = widgets.Button(description="next ›", tooltip="next page",
                                   layout=widgets.Layout(width="80px"))
        self.prev.add_class("seedance-prev")
        self.next.add_class("seedance-next")
        self.page_label = widgets.Label()
        self.page_label.add_class("seedance-page-label")
        self.tiles = [widgets.HTML(layout=widgets.Layout(display="none", margin="0"))
                      for _ in range(per_page)]
        for tile in self.tiles:
            tile.add_class("seedance-tile-slot")
        self.prev.on_click(lambda _b: self.turn(-1))
        self.next.on_click(lambda _b: self.turn(1))
        nav = widgets.HBox([self.prev, self.page_label, self.next],
                           layout=widgets.Layout(align_items="center", grid_gap="8px"))
        grid = widgets.Box(self.tiles, layout=widgets.Layout(display="flex",
                                                             flex_flow="row wrap"))
        # the buttons above and below the page (two views of the same widgets)
        super().__init__([self.head, nav, grid, nav], layout=widgets.Layout(
            border="1px solid var(--jp-border-color2, #ddd)", padding="6px"))
        self.add_class("seedance-summary")
        self.refresh()

    def turn(self, step: int) -> None:
        """Show the page `step` pages on (a button callback: changes the page only)."""
        with self._lock:
            self.page += step
            self._show_page()

    def refresh(self) -> None:
        """Copy the jobs' state into the widgets (safe from any thread)."""
        with self._lock:
            value = ds.head_html(self.tally, self.title, self.fields)
            if self.head.value != value:
                self.head.value = value
            self._show_page()

    def _tile(self, i: int) -> str:
        return dg.cached_tile(self._tiles, self.tally.jobs[i], self.box, self.fields,
                              self.embed)

    def _show_page(self) -> None:
        done = dg.finished_videos(self.tally.jobs)
        pages = dg.page_count(len(done), self.per_page)
        self.page = min(max(0, self.page), pages - 1)
        shown = done[self.page * self.per_page:(self.page + 1) * self.per_page]
        for slot, tile in enumerate(self.tiles):
            value = self._tile(shown[slot]) if slot < len(shown) else ""
            if tile.value != value:
                tile.value = value
            display = None if value else "none"
            if tile.layout.display != display:
                tile.layout.display = display
        self.page_label.value = dg.page_range_text(self.page, len(done), self.per_page)
        self.prev.disabled = self.page == 0
        self.next.disabled = self.page >= pages - 1
