"""The layout tree: elements nested in their containers, then cut into rows and columns."""

from __future__ import annotations

from seesay.vision.layout import Box, Node
from seesay.vision.strokes import inside


def build_tree(nodes: list[Node], page: Box) -> Node:
    """Nest leaves into their innermost container, then X-Y cut every container's children."""
    containers = sorted((n for n in nodes if not n.is_leaf), key=lambda n: n.bbox[2] * n.bbox[3])
    parent: dict[int, Node | None] = {}
    for n in nodes:
        holder = None
        for c in containers:
            if c is not n and c.bbox[2] * c.bbox[3] > n.bbox[2] * n.bbox[3] and inside(n.bbox, c.bbox, tol=6):
                holder = c
                break
        parent[id(n)] = holder
    root = Node("page", [round(v) for v in page])
    kids: dict[int, list[Node]] = {id(root): []}
    for c in containers:
        kids[id(c)] = []
    for n in nodes:
        holder = parent[id(n)] or root
        kids[id(holder)].append(n)
    for holder in containers:
        holder.children = _xy_cut(kids[id(holder)])
    # Navbars and footers are page-wide bands: keep them at the top level, in reading order,
    # so a cut elsewhere can never nest the header inside a column of content.
    bands = [n for n in kids[id(root)] if n.type in ("navbar", "footer")]
    rest = _xy_cut([n for n in kids[id(root)] if n.type not in ("navbar", "footer")])
    top = [b for b in bands if b.type == "navbar"]
    bottom = [b for b in bands if b.type == "footer"]
    root.children = sorted(top, key=lambda n: n.bbox[1]) + rest + sorted(bottom, key=lambda n: n.bbox[1])
    return root


def _xy_cut(items: list[Node], depth: int = 0) -> list[Node]:
    """Recursive X-Y cut: stacked groups become a column, side-by-side groups a row.

    Of the two axes, cut along the one with the widest empty band (ties go to stacking,
    since pages read top to bottom): a form with a column of inputs beside a column of
    checkboxes splits into the two columns, not into rows that mix them.
    """
    if len(items) <= 1:
        return items
    stacked, gap_y = _split(items, 1)
    side, gap_x = _split(items, 0)
    if len(stacked) > 1 and (len(side) < 2 or gap_y >= 0.8 * gap_x):
        if depth == 0:
            return [_wrap(g, depth) for g in stacked]
        return [_group_node("column", [_wrap(g, depth) for g in stacked])]
    if len(side) > 1:
        return [_group_node("row", [_wrap(g, depth) for g in side])]
    return sorted(items, key=lambda n: (n.bbox[1], n.bbox[0]))


def _wrap(group: list[Node], depth: int) -> Node:
    if len(group) == 1:
        return group[0]
    inner = _xy_cut(group, depth + 1)
    if len(inner) == 1:
        return inner[0]
    return _group_node("column", inner)


def _group_node(kind: str, children: list[Node]) -> Node:
    x0 = min(c.bbox[0] for c in children)
    y0 = min(c.bbox[1] for c in children)
    x1 = max(c.bbox[0] + c.bbox[2] for c in children)
    y1 = max(c.bbox[1] + c.bbox[3] for c in children)
    # A row inside a row (or column in column) adds nothing: flatten it.
    flat: list[Node] = []
    for c in children:
        flat.extend(c.children if c.type == kind else [c])
    return Node(kind, [x0, y0, x1 - x0, y1 - y0], children=flat)


def _split(items: list[Node], axis: int) -> tuple[list[list[Node]], float]:
    """Cut along ``axis`` at the empty bands nearly as wide as the widest one (a few pixels of
    overlap allowed); narrower bands are left to the recursion. Returns groups and widest gap."""
    spans = sorted(
        ((n.bbox[axis] + 3, n.bbox[axis] + n.bbox[axis + 2] - 3, n) for n in items), key=lambda s: s[0]
    )
    groups: list[list[Node]] = []
    gaps: list[float] = []
    end = -1e9
    for lo, hi, n in spans:
        if not groups or lo > end:
            if groups:
                gaps.append(lo - end)
            groups.append([n])
            end = hi
        else:
            groups[-1].append(n)
            end = max(end, hi)
    if not gaps:
        return groups, 0.0
    widest = max(gaps)
    merged = [groups[0]]
    for gap, group in zip(gaps, groups[1:], strict=True):
        if gap >= 0.7 * widest:
            merged.append(group)
        else:
            merged[-1] = merged[-1] + group
    return merged, widest
