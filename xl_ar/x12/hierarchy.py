"""HL hierarchies: the loops of the 837, 270/271 and 276/277, where each HL names its parent.

Where the 835 nests its loops by position (a CLP owns what follows it), these transaction sets
build a tree: `HL*<id>*<parent id>*<level>*<has children>`. The levels are codes such as `20`
(information source / billing provider), `21` (information receiver), `19` (provider of service),
`22` (subscriber), `23` (dependent) and `PT` (patient). `read_hierarchy` turns the HL segments of
a document into arrays (parent index, level, depth) and tells, for every segment, which HL it
belongs to, so a mapper reads "the subscriber of this claim" as an array lookup:

    tree = read_hierarchy(doc)
    subscriber = tree.ancestor(tree.hl_of[clm_rows], "22")   # HL index per CLM, -1 if none

Checked (findings): HL01 present, unique and counting 1, 2, 3 ... in its transaction; HL02 names
an HL that came before in the same transaction; HL03 present; HL04 (1: has children, 0: none)
agrees with the tree. An HL whose parent cannot be found is kept as a root.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from xl_ar.x12.reader import Document


@dataclass(frozen=True)
class Hierarchy:
    """The HL segments of a document (aligned arrays, one entry per HL in file order)."""

    rows: np.ndarray
    """Row of each HL segment."""
    transaction: np.ndarray
    """Transaction (index in the document's envelope) of each HL."""
    id: np.ndarray
    """HL01, the hierarchical id number (None when missing)."""
    parent: np.ndarray
    """Index (in these arrays) of the parent HL, -1 for a root or an unknown parent."""
    level: np.ndarray
    """HL03, the hierarchical level code (None when missing)."""
    depth: np.ndarray
    """0 for a root, 1 for its children, ..."""
    hl_of: np.ndarray
    """For every row of the document: the HL it belongs to (the last HL before it in its transaction), -1 if none."""

    def __len__(self) -> int:
        return len(self.rows)

    def ancestor(self, hl: np.ndarray, level: str) -> np.ndarray:
        """For each HL index in `hl`: the nearest HL at or above it whose level is `level` (-1 if none)."""
        current = np.asarray(hl, dtype=np.int64).copy()
        found = np.full(len(current), -1, dtype=np.int64)
        todo = current >= 0
        while todo.any():  # one step up the tree per pass: as many passes as the tree is deep
            at = current[todo]
            hit = self.level[at] == level
            idx = np.flatnonzero(todo)
            found[idx[hit]] = at[hit]
            current[idx] = np.where(hit, -1, self.parent[at])
            todo = current >= 0
        return found

    def children(self, hl: np.ndarray) -> np.ndarray:
        """How many HLs name each of `hl` as their parent."""
        counts = np.bincount(self.parent[self.parent >= 0], minlength=len(self.rows))
        return counts[np.asarray(hl, dtype=np.int64)]


def read_hierarchy(doc: Document) -> Hierarchy:
    """The HL tree of the document's transactions, with every HL problem added to its findings."""
    rows = doc.rows("HL")
    n = len(rows)
    tx = doc.tx_of[rows].astype(np.int64)
    doc.require(rows, 1, "HL01 (hierarchical id number)")
    doc.require(rows, 3, "HL03 (hierarchical level code)")
    ids = doc.texts(rows, 1)
    parent_ids = doc.texts(rows, 2)
    level = doc.codes(rows, 3)
    child_code = doc.codes(rows, 4)

    frame = pd.DataFrame({"tx": tx, "id": ids, "index": np.arange(n)})
    repeated = frame.duplicated(["tx", "id"], keep="first").to_numpy() & pd.notna(ids)
    doc.report("hierarchy", "error", rows[repeated], "HL01 repeats an earlier HL's id in the transaction")
    first = frame[~repeated & pd.notna(ids)]
    lookup = pd.Series(first["index"].to_numpy(), index=pd.MultiIndex.from_arrays([first["tx"], first["id"]]))
    has_parent = pd.notna(parent_ids)
    parent = np.full(n, -1, dtype=np.int64)
    if has_parent.any():
        wanted = pd.MultiIndex.from_arrays([tx[has_parent], parent_ids[has_parent]])
        parent[has_parent] = lookup.reindex(wanted).fillna(-1).to_numpy(dtype=np.int64)
    bad = has_parent & (parent >= np.arange(n))  # a parent must come before its child
    unknown = has_parent & ((parent < 0) | bad)
    doc.report("hierarchy", "error", rows[unknown], "HL02 names no earlier HL of the transaction; read as a top level")
    parent[unknown] = -1

    sequence = np.arange(n) - np.searchsorted(tx, tx, side="left") + 1  # 1, 2, 3 ... per transaction
    numbered = pd.notna(ids) & ~repeated
    out_of_order = numbered & (ids != sequence.astype(str).astype(object))
    doc.report("hierarchy", "warning", rows[out_of_order], "HL01 does not count up from 1 in the transaction")

    children = np.bincount(parent[parent >= 0], minlength=n)
    says = np.asarray(child_code, dtype=object)
    doc.report("hierarchy", "warning", rows[(says == "1") & (children == 0)],
               "HL04 says 1 (has children) but none follows")
    doc.report("hierarchy", "warning", rows[(says == "0") & (children > 0)],
               "HL04 says 0 (no children) but some follow")

    depth = np.zeros(n, dtype=np.int64)
    up = parent.copy()
    while (up >= 0).any():  # one level per pass: as many passes as the tree is deep
        depth += up >= 0
        up = np.where(up >= 0, parent[np.maximum(up, 0)], -1)

    is_hl = np.zeros(len(doc), dtype=bool)
    is_hl[rows] = True
    last = np.maximum.accumulate(np.where(is_hl, np.arange(len(doc)), -1)) if len(doc) else np.zeros(0, np.int64)
    hl_index = np.full(len(doc) + 1, -1, dtype=np.int64)
    hl_index[rows] = np.arange(n)
    hl_of = np.where(last >= 0, hl_index[np.maximum(last, 0)], -1)
    hl_tx = tx[np.maximum(hl_of, 0)] if n else np.full(len(hl_of), -2, dtype=np.int64)  # no HL: nothing to take
    same_tx = (hl_of >= 0) & doc.body & (doc.tx_of == np.where(hl_of >= 0, hl_tx, -2))
    hl_of = np.where(same_tx, hl_of, -1)
    return Hierarchy(rows=rows, transaction=tx, id=ids, parent=parent, level=level, depth=depth, hl_of=hl_of)
