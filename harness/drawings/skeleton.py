"""A digit's strokes, recovered from its image: the skeleton as a graph, and that graph traced into
ordered strokes (polylines) as a hand would draw them.

Coordinates are (x, y) in 28×28 pixel units throughout.
"""

from __future__ import annotations

import numpy as np
from PIL import Image
from scipy.ndimage import distance_transform_edt
from skimage.morphology import skeletonize

SKELETON_SCALE = 4  # skeletons of the digits upscaled 4× (112×112) follow the strokes smoothly
SKELETON_LEVEL = 0.5  # ink above this is stroke
SPUR = 2.0  # a branch from a loose end to a fork shorter than this (28×28 pixels) is the skeleton's, not the pen's
HEADING_SPAN = 4  # skeleton points (one 28×28 pixel) that give a stroke's heading at a fork
SMOOTHING = 5  # points averaged along a traced stroke: the skeleton's pixel staircase becomes a line


def skeleton_graph(image: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A digit's skeleton: points (K, 2), edges (E, 2) joining neighbouring skeleton pixels, and the
    digit's ink width at each point (K,), in 28×28 pixels. The skeleton's own artefacts are gone:
    diagonal shortcuts beside straight steps, and spurs (short branches a thick stroke's corner leaves)."""
    size = 28 * SKELETON_SCALE
    big = Image.fromarray(np.asarray(image, dtype=np.float32)).resize((size, size), Image.Resampling.BILINEAR)
    ink = np.asarray(big) >= SKELETON_LEVEL
    skeleton = skeletonize(ink)
    rows, cols = np.nonzero(skeleton)
    index = np.full((size + 2, size + 2), -1)
    index[rows + 1, cols + 1] = np.arange(len(rows))
    edges = []
    for d_row, d_col in ((0, 1), (1, 0), (1, 1), (1, -1)):
        neighbour = index[rows + 1 + d_row, cols + 1 + d_col]
        found = neighbour >= 0
        edges.append(np.stack([np.flatnonzero(found), neighbour[found]], axis=1))
    points = (np.stack([cols, rows], axis=1) + 0.5) / SKELETON_SCALE
    widths = 2 * distance_transform_edt(ink)[rows, cols] / SKELETON_SCALE  # the skeleton runs mid-stroke
    neighbours = _neighbours(len(points), _without_shortcuts(points, np.concatenate(edges)))
    _cut_spurs(points, neighbours)
    kept = [index for index, near in enumerate(neighbours) if near] or list(range(len(points)))
    new_index = {old: new for new, old in enumerate(kept)}
    edges = [(new_index[start], new_index[end]) for start in kept for end in neighbours[start] if start < end]
    return points[kept], np.array(edges, dtype=int).reshape(-1, 2), widths[kept]


def _neighbours(count: int, edges: np.ndarray) -> list[set[int]]:
    neighbours: list[set[int]] = [set() for _ in range(count)]
    for start, end in edges:
        neighbours[start].add(end)
        neighbours[end].add(start)
    return neighbours


def _without_shortcuts(points: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Drop diagonal edges that a pair of straight ones also joins, so that a stroke's pixels form a
    chain (each joined to two others) and only real forks and ends stand out."""
    key = {tuple(point): index for index, point in enumerate(np.round(points * SKELETON_SCALE).astype(int))}
    kept = []
    for start, end in edges:
        (x0, y0), (x1, y1) = np.round(points[[start, end]] * SKELETON_SCALE).astype(int)
        diagonal = x0 != x1 and y0 != y1
        if diagonal and ((x1, y0) in key or (x0, y1) in key):
            continue
        kept.append((start, end))
    return np.array(kept, dtype=int).reshape(-1, 2)


def _smooth(stroke: np.ndarray) -> np.ndarray:
    """A moving average along the stroke, ends kept in place (a closed loop wraps around)."""
    if len(stroke) < SMOOTHING:
        return stroke
    closed = np.allclose(stroke[0], stroke[-1])
    half = SMOOTHING // 2
    padded = (
        np.concatenate([stroke[-1 - half : -1], stroke, stroke[1 : 1 + half]])
        if closed
        else np.pad(stroke, ((half, half), (0, 0)), mode="edge")
    )
    kernel = np.ones(SMOOTHING) / SMOOTHING
    smoothed = np.stack([np.convolve(padded[:, axis], kernel, mode="valid") for axis in range(2)], axis=1)
    if not closed:
        smoothed[[0, -1]] = stroke[[0, -1]]
    return smoothed


def trace_strokes(image: np.ndarray) -> list[np.ndarray]:
    """A digit's strokes in the order a hand would draw them: polylines (M, 2), each from a loose end
    (topmost first) or, for a closed loop, from its top; at a fork the pen goes on the straightest way.
    """
    points, edges, _ = skeleton_graph(image)
    neighbours = _neighbours(len(points), edges)
    unused = {frozenset(edge) for edge in edges.tolist()}
    degree = np.array([len(n) for n in neighbours])
    # loose ends first, then forks, then whatever is left (loops), each time the topmost, then leftmost
    order = np.lexsort((points[:, 0], points[:, 1], np.where(degree == 1, 0, np.where(degree > 2, 1, 2))))
    strokes = []
    for start in order:
        while any(frozenset((start, n)) in unused for n in neighbours[start]):
            path = [start]
            while True:
                here = path[-1]
                free = [n for n in neighbours[here] if frozenset((here, n)) in unused]
                if not free:
                    break
                if len(path) == 1:
                    following = free[0]
                else:  # the straightest way on, judged over the last pixel of the stroke
                    heading = points[here] - points[path[max(0, len(path) - 1 - HEADING_SPAN)]]
                    following = max(free, key=lambda n, h=heading: _cosine(points[n] - points[here], h))
                unused.discard(frozenset((here, following)))
                path.append(following)
            strokes.append(_smooth(points[path]))
    return strokes


def _cut_spurs(points: np.ndarray, neighbours: list[set[int]]) -> None:
    """Cut the skeleton's spurs: short branches from a loose end to a fork, such as a thick stroke's
    corner leaves."""
    for end in [index for index, near in enumerate(neighbours) if len(near) == 1]:
        branch, length = [end], 0.0
        while len(neighbours[branch[-1]]) <= 2 and length < SPUR:
            onward = neighbours[branch[-1]] - set(branch[-2:])
            if not onward:
                break  # a stroke with no fork: not a spur
            following = onward.pop()
            length += float(np.linalg.norm(points[following] - points[branch[-1]]))
            branch.append(following)
        if len(neighbours[branch[-1]]) > 2 and length < SPUR:
            for index in branch[:-1]:
                for near in neighbours[index]:
                    neighbours[near].discard(index)
                neighbours[index].clear()


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-9))
