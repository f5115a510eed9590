"""The suspects table of the Label QA dock (:mod:`._qa`): a Qt model over the ranked suspect
frames of a :class:`core.qa.ReviewState`."""

from __future__ import annotations

import pandas as pd
from qtpy.QtCore import QAbstractTableModel, QModelIndex, Qt

from ..core import qa as core_qa

#: Columns of the suspects table.
TABLE_COLUMNS = ("✓", "view", "frame", "parts", "why", "score")
KIND_LABELS = {"wrong_limb": "wrong limb", "other_view": "other view", "jump": "jump",
               "low_likelihood": "low likelihood"}


class SuspectTableModel(QAbstractTableModel):
    """The ranked suspect frames of a :class:`core.qa.ReviewState` as a Qt table: cells are
    made when they are drawn, so the tens of thousands of suspects of a long recording cost
    nothing to list. Columns :data:`TABLE_COLUMNS`; ``✓`` marks reviewed frames."""

    def __init__(self):
        super().__init__()
        self.review: core_qa.ReviewState | None = None
        self._cols: dict = {}

    def set_review(self, review: core_qa.ReviewState | None) -> None:
        self.beginResetModel()
        self.review = review
        fr = review.frames if review is not None else pd.DataFrame()
        self._cols = {c: fr[c].tolist() if c in fr else [""] * len(fr)
                      for c in ("view", "frame", "score", "kinds", "bodyparts")}
        self.endResetModel()

    def row_changed(self, row: int) -> None:
        """Redraw a row (after it was reviewed)."""
        self.dataChanged.emit(self.index(row, 0), self.index(row, self.columnCount() - 1))

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() or self.review is None else self.review.n

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(TABLE_COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return TABLE_COLUMNS[section]
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or self.review is None:
            return None
        r, c = index.row(), index.column()
        if role == Qt.ItemDataRole.ToolTipRole and c in (3, 4):
            if c == 3:
                return str(self._cols["bodyparts"][r]).replace(",", ", ")
            return ", ".join(KIND_LABELS.get(k, k) for k in str(self._cols["kinds"][r]).split("+"))
        if role == Qt.ItemDataRole.TextAlignmentRole and c in (2, 5):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if c == 0:
            return "✓" if self.review.key(r) in self.review.reviewed else ""
        if c == 1:
            return str(self._cols["view"][r])
        if c == 2:
            return str(int(self._cols["frame"][r]))
        if c == 3:
            return str(self._cols["bodyparts"][r]).replace(",", ", ")
        if c == 4:
            return ", ".join(KIND_LABELS.get(k, k) for k in str(self._cols["kinds"][r]).split("+"))
        return f"{self._cols['score'][r]:.1f}"
