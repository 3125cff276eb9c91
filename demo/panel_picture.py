"""A picture of the A2F sidebar panel drawn from the panel's real draw() code (no display needed).

The bpy module cannot open a window, so this is not a screenshot: it registers the add-on, builds the demo
head, calls the real panels' draw()/draw_header() with a recording stand-in for UILayout and paints what
was recorded with matplotlib in the style of Blender's dark sidebar. Sizes and colours are approximations.

    .venv/bin/python demo/panel_picture.py [--out docs/images/panel.png] [--face] [--no-auto-map]
"""

from __future__ import annotations

import argparse
import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# Keep Blender out of ~/.config/blender (as tests/blender/conftest.py does); must be set before bpy is imported.
if "BLENDER_USER_RESOURCES" not in os.environ:
    _user = tempfile.mkdtemp(prefix="a2f-blender-user-")
    os.environ["BLENDER_USER_RESOURCES"] = _user
    atexit.register(shutil.rmtree, _user, True)

import bpy  # noqa: E402
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.font_manager import FontProperties  # noqa: E402
from matplotlib.patches import FancyBboxPatch, Polygon, Rectangle  # noqa: E402

CAPTION = "Drawn from the add-on's panel code (headless; not a screenshot)"

# ----------------------------------------------------------------------------------------------------------
# Recording stand-in for bpy.types.UILayout
# ----------------------------------------------------------------------------------------------------------


class Item:
    """One widget the draw code asked for (label, prop, operator, separator or anything unknown)."""

    def __init__(self, kind: str, **kw):
        self.kind = kind
        self.text = ""
        self.icon = "NONE"
        self.enabled = True
        self.active = True
        self.alert = False
        self.__dict__.update(kw)

    def __repr__(self) -> str:
        extra = {k: v for k, v in self.__dict__.items() if k not in ("kind",)}
        return f"Item({self.kind}, {extra})"


class OperatorProperties:
    """What layout.operator() returns: accepts any attribute the draw code sets on the operator's properties."""

    def __init__(self, idname: str):
        object.__setattr__(self, "_values", {"bl_idname": idname})

    def __setattr__(self, name, value):
        self._values[name] = value

    def __getattr__(self, name):
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None


class Layout:
    """Records row()/column()/box()/split()/label()/prop()/operator()/... calls into a tree."""

    HORIZONTAL = ("row", "root", "header")

    def __init__(self, kind: str = "root", parent: Layout | None = None, *, align: bool = False, factor: float = 0.0):
        self.kind = kind
        self.children: list = []
        self.align = align
        self.factor = factor
        self.enabled = parent.enabled if parent else True
        self.active = parent.active if parent else True
        self.alert = parent.alert if parent else False
        self.scale_x = 1.0
        self.scale_y = 1.0
        self.use_property_split = parent.use_property_split if parent else False
        self.use_property_decorate = parent.use_property_decorate if parent else False
        self.alignment = "EXPAND"
        self.emboss = "NORMAL"
        self.operator_context = "INVOKE_DEFAULT"

    # --- sub-layouts ---
    def _sub(self, kind: str, **kw) -> Layout:
        sub = Layout(kind, self, **kw)
        self.children.append(sub)
        return sub

    def row(self, *, align=False, heading="", heading_ctxt="", translate=True):
        return self._sub("row", align=align)

    def column(self, *, align=False, heading="", heading_ctxt="", translate=True):
        return self._sub("column", align=align)

    def box(self):
        return self._sub("box")

    def split(self, *, factor=0.0, align=False):
        return self._sub("split", align=align, factor=factor)

    def grid_flow(self, *, row_major=False, columns=0, even_columns=False, even_rows=False, align=False):
        return self._sub("column", align=align)

    def column_flow(self, *, columns=0, align=False):
        return self._sub("column", align=align)

    def panel(self, idname, *, default_closed=False):
        """Blender 4.1+ collapsible section: returns (header, body); drawn open here."""
        sec = self._sub("section")
        sec.idname = idname
        sec.default_closed = default_closed
        header, body = Layout("header", sec), Layout("column", sec)
        sec.children = [header, body]
        return header, body

    def panel_prop(self, data, property):
        return self.panel(f"{type(data).__name__}.{property}")

    # --- widgets ---
    def _add(self, item: Item) -> None:
        item.enabled = item.enabled and self.enabled
        item.active = item.active and self.active
        item.alert = item.alert or self.alert
        item.scale_y = self.scale_y
        self.children.append(item)

    def label(self, *, text="", text_ctxt="", translate=True, icon="NONE", icon_value=0):
        self._add(Item("label", text=text, icon=icon))

    def separator(self, *, factor=1.0, type="AUTO"):  # noqa: A002 - Blender's keyword
        self._add(Item("separator", factor=factor))

    def separator_spacer(self):
        self._add(Item("separator", factor=1.0))

    def prop(self, data, property, *, text=None, text_ctxt="", translate=True, icon="NONE", placeholder="",
             expand=False, slider=False, toggle=-1, icon_only=False, event=False, full_event=False, emboss=True,
             index=-1, icon_value=0, invert_checkbox=False):
        item = describe_prop(data, property, text)
        item.icon = icon
        item.expand = expand
        item.slider = slider or item.subtype in ("FACTOR", "PERCENTAGE")
        item.icon_only = icon_only
        item.toggle = toggle
        item.direction = "horizontal" if self.kind in self.HORIZONTAL else "vertical"
        self._add(item)

    def operator(self, operator, *, text=None, text_ctxt="", translate=True, icon="NONE", emboss=True,
                 depress=False, icon_value=0, search_weight=0.0):
        label = operator_label(operator) if text is None else text
        self._add(Item("operator", text=label, icon=icon, idname=operator, depress=depress))
        return OperatorProperties(operator)

    def template_list(self, listtype_name, list_id, dataptr, propname, active_dataptr, active_propname, **kw):
        coll = getattr(dataptr, propname, [])
        rows = max(int(kw.get("rows", 5) or 5), len(coll))
        names = [getattr(c, "name", str(c)) for c in coll]
        self._add(Item("list", text=f"{listtype_name}: {propname}", names=names, rows=rows))

    def __getattr__(self, name):
        """Anything else (menu(), prop_search(), template_*(), ...) is recorded generically, never a crash."""
        if name.startswith("_"):
            raise AttributeError(name)

        def record(*args, **kwargs):
            text = kwargs.get("text")
            if text is None:
                text = name + ("(" + ", ".join(str(a) for a in args if isinstance(a, str)) + ")")
            self._add(Item("generic", text=text, icon=kwargs.get("icon", "NONE"), call=name))
            sub = Layout("column", self)
            self.children.append(sub)
            return sub

        return record


def describe_prop(data, name: str, text) -> Item:
    """Resolve prop(data, name) to its UI name, type and current value through the RNA."""
    try:
        rna = data.bl_rna.properties[name]
    except (AttributeError, KeyError):
        value = getattr(data, name, "?")
        return Item("prop", ptype="UNKNOWN", subtype="NONE", name=name, text=name if text is None else text,
                    value=str(value))
    value = getattr(data, name)
    ui_name = rna.name or name
    item = Item("prop", ptype=rna.type, subtype=rna.subtype, name=name, text=ui_name if text is None else text,
                value=value, description=rna.description)
    if rna.type == "ENUM":
        items = [(e.identifier, e.name, e.icon) for e in rna.enum_items]
        if not items:  # dynamic enum: ask the layout API, which calls the items callback with a context
            items = [(value, bpy.types.UILayout.enum_item_name(data, name, value), "NONE")]
        item.items = items
        item.value_name = dict((i, n) for i, n, _ in items).get(value) or str(value)
    elif rna.type == "POINTER":
        item.value_name = getattr(value, "name", "") if value is not None else ""
        item.fixed_type = getattr(rna.fixed_type, "identifier", "")
    elif rna.type in ("FLOAT", "INT"):
        item.array = getattr(rna, "array_length", 0)
        if rna.type == "FLOAT":
            item.precision = rna.precision
            item.lo, item.hi = rna.soft_min, rna.soft_max
        else:
            item.lo, item.hi = rna.soft_min, rna.soft_max
    elif rna.type == "COLLECTION":
        item.value_name = f"{len(value)} items"
    return item


def operator_label(idname: str) -> str:
    mod, _, fn = idname.partition(".")
    try:
        return getattr(getattr(bpy.ops, mod), fn).get_rna_type().name or idname
    except (AttributeError, KeyError, RuntimeError):
        cls = getattr(bpy.types, f"{mod.upper()}_OT_{fn}", None)
        return getattr(cls, "bl_label", idname)


class Context:
    """A stand-in for bpy.context: explicit values first, then the real context."""

    def __init__(self, **values):
        self.__dict__.update(values)

    def __getattr__(self, name):
        return getattr(bpy.context, name, None)


class PanelSelf:
    """`self` for a panel's draw(): the recording layout plus the panel class's attributes."""

    def __init__(self, cls, layout: Layout):
        self._cls = cls
        self.layout = layout

    def __getattr__(self, name):
        return getattr(self._cls, name)


# ----------------------------------------------------------------------------------------------------------
# Scene setup and recording
# ----------------------------------------------------------------------------------------------------------


def setup_scene(face: bool, auto_map: bool):
    import addon
    from addon import demo_rig

    addon.register()
    bpy.ops.wm.read_factory_settings(use_empty=True)
    head = demo_rig.build()
    for ob in bpy.context.scene.objects:
        ob.select_set(False)
    head.select_set(True)
    bpy.context.view_layer.objects.active = head
    s = bpy.context.scene.a2f
    s.audio_source = "FILE"
    # not "//samples/...": the property lacks PATH_SUPPORTS_BLEND_RELATIVE, so Blender 5 warns about "//"
    s.audio_path = "samples/hello.wav"
    s.transcript = (ROOT / "samples" / "hello.txt").read_text(encoding="utf-8").strip()
    try:
        s.emotion = "joy"
        s.emotion_strength = 0.5
    except TypeError:  # no such preset: leave "None"
        pass
    s.face.enabled = face
    if auto_map:  # the real operator fills the mapping summary / unmatched list shown in the panel
        bpy.ops.a2f.auto_map()
    return head


def record_panels(ctx) -> list[dict]:
    """Every panel of the add-on in the sidebar, top-level ones with their sub-panels, drawn into recorders."""
    from addon import registration

    panels = [c for c in registration.CLASSES if issubclass(c, bpy.types.Panel)]

    def record(cls) -> dict | None:
        poll = getattr(cls, "poll", None)
        if poll is not None and not poll(ctx):
            print(f"{cls.__name__}: poll() is False here, not drawn")
            return None
        header = Layout("header")
        if hasattr(cls, "draw_header"):
            cls.draw_header(PanelSelf(cls, header), ctx)
        body = Layout("root")
        if hasattr(cls, "draw"):
            cls.draw(PanelSelf(cls, body), ctx)
        kids = [c for c in panels if getattr(c, "bl_parent_id", "") == cls.bl_idname]
        kids.sort(key=lambda c: getattr(c, "bl_order", 0))
        return {"label": getattr(cls, "bl_label", cls.__name__), "header": header, "body": body,
                "options": set(getattr(cls, "bl_options", set())),
                "children": [r for r in (record(k) for k in kids) if r]}

    top = [c for c in panels if not getattr(c, "bl_parent_id", "") and getattr(c, "bl_category", "") == "A2F"]
    top.sort(key=lambda c: getattr(c, "bl_order", 0))
    return [r for r in (record(c) for c in top) if r]


def dump(node, depth=0) -> None:
    pad = "  " * depth
    if isinstance(node, Layout):
        print(f"{pad}{node.kind}{' align' if node.align else ''}{'' if node.enabled else ' (disabled)'}")
        for c in node.children:
            dump(c, depth + 1)
    else:
        val = getattr(node, "value_name", getattr(node, "value", ""))
        print(f"{pad}{node.kind}: {node.text!r} {val!r}{'' if node.enabled else ' (disabled)'}")


# ----------------------------------------------------------------------------------------------------------
# Painting (matplotlib, 1 data unit = 1 pixel, y grows downwards)
# ----------------------------------------------------------------------------------------------------------

U = 22  # widget height
GAP = 3  # space between items of a non-aligned column/row
PAD = 7  # inside a box / panel
FONT = 11.5
C = {
    "region": "#1f1f1f", "panel": "#303030", "header": "#3b3b3b", "box": "#282828", "box_edge": "#1b1b1b",
    "widget": "#545454", "field": "#1d1d1d", "edge": "#191919", "blue": "#4772b3", "text": "#e6e6e6",
    "dim": "#a8a8a8", "tab": "#303030", "error": "#e8a33a", "caption": "#8c8c8c",
}
ICONS = {  # Blender icon name -> (glyph, colour); anything else gets a neutral dot
    "FILE_REFRESH": ("\u21bb", None), "ERROR": ("\u26a0", C["error"]), "URL": ("\u2295", None),
    "MESH_DATA": ("\u25b3", None), "TIME": ("\u25f7", None), "CANCEL": ("\u2715", None),
    "SHAPEKEY_DATA": ("\u25c6", None), "IMPORT": ("\u2b07", None), "INFO": ("i", "#8fb3e8"),
    "CHECKMARK": ("\u2713", None), "OBJECT_DATA": ("\u25b3", None),
}
cutoffs: list[str] = []


class Painter:
    def __init__(self, ax, renderer):
        self.ax = ax
        self.renderer = renderer
        self.font = FontProperties(family="DejaVu Sans", size=FONT)
        self.bold = FontProperties(family="DejaVu Sans", size=FONT, weight="bold")

    def width(self, s: str, bold=False) -> float:
        w, _, _ = self.renderer.get_text_width_height_descent(s, self.bold if bold else self.font, ismath=False)
        return w

    def fit(self, s: str, room: float, *, middle=False, what="") -> str:
        if not s or self.width(s) <= room:
            return s
        cutoffs.append(f"{what or 'text'} {s!r} cut off ({self.width(s):.0f} px needed, {room:.0f} px available)")
        if middle:
            a, b = s[: len(s) // 2], s[len(s) // 2:]
            while (a or b) and self.width(a + "\u2026" + b) > room:
                if len(a) >= len(b):
                    a = a[:-1]
                else:
                    b = b[1:]
            return a + "\u2026" + b
        while s and self.width(s + "\u2026") > room:
            s = s[:-1]
        return s + "\u2026" if s else ""

    def rect(self, x, y, w, h, color, *, r=4, edge=None, alpha=1.0, z=1):
        self.ax.add_patch(FancyBboxPatch((x + r, y + r), max(w - 2 * r, 0.1), max(h - 2 * r, 0.1),
                                         boxstyle=f"round,pad={r}", fc=color, ec=edge or "none", lw=0.8,
                                         alpha=alpha, zorder=z))

    def text(self, x, y, s, *, ha="left", color=None, alpha=1.0, bold=False, size=None, z=5, style="normal"):
        self.ax.text(x, y, s, ha=ha, va="center", color=color or C["text"], alpha=alpha, zorder=z,
                     fontproperties=FontProperties(family="DejaVu Sans", size=size or FONT,
                                                   weight="bold" if bold else "normal", style=style))

    def icon(self, name, x, y, alpha=1.0) -> float:
        """Draw an icon centred on (x+8, y); return the width used."""
        if not name or name == "NONE":
            return 0
        if name in ("FILEBROWSER", "FILE_FOLDER"):
            self.folder(x + 8, y, alpha)
            return 18
        glyph, color = ICONS.get(name, ("\u2022", None))
        self.text(x + 8, y, glyph, ha="center", color=color, alpha=alpha, bold=glyph == "i", size=FONT + 1)
        return 18

    def folder(self, cx, cy, alpha=1.0):
        pts = [(cx - 6, cy + 4.5), (cx - 6, cy - 4.5), (cx - 2, cy - 4.5), (cx - 0.5, cy - 3), (cx + 6, cy - 3),
               (cx + 6, cy + 4.5)]
        self.ax.add_patch(Polygon(pts, closed=True, fc="none", ec=C["text"], lw=1.1, alpha=alpha, zorder=6))


def height(node) -> float:
    if isinstance(node, Item):
        if node.kind == "separator":
            return 8 * node.factor
        if node.kind == "list":
            return U * node.rows + 4
        if node.kind == "prop" and node.ptype == "ENUM" and node.expand and node.direction == "vertical":
            return U * len(node.items) * node.scale_y
        return U * node.scale_y
    kids = node.children
    if node.kind in ("row", "split", "header"):
        return max((height(c) for c in kids), default=0)
    if node.kind == "section":
        return U + GAP + height(kids[1])
    gap = 0 if node.align else GAP
    inner = sum(height(c) for c in kids) + gap * max(len(kids) - 1, 0)
    if node.kind == "box":
        return inner + 2 * PAD
    return inner


def widths(node, w: float) -> list[float]:
    """Split a row's width among its items: icon-only buttons get one unit, the others share the rest."""
    kids = node.children
    if node.kind == "split" and kids:
        f = node.factor or 1 / len(kids)
        if len(kids) == 1:
            return [w]
        first = w * f
        return [first] + [(w - first) / (len(kids) - 1)] * (len(kids) - 1)
    fixed = [U if isinstance(c, Item) and is_icon_only(c) else None for c in kids]
    gap = 0 if node.align else GAP
    room = w - gap * max(len(kids) - 1, 0) - sum(f for f in fixed if f)
    n_free = sum(1 for f in fixed if f is None) or 1
    return [f if f else room / n_free for f in fixed]


def is_icon_only(item: Item) -> bool:
    return (item.kind == "operator" and not item.text and item.icon != "NONE") or getattr(item, "icon_only", False)


def draw(p: Painter, node, x: float, y: float, w: float) -> None:
    if isinstance(node, Item):
        draw_item(p, node, x, y, w)
        return
    kids = node.children
    if node.kind in ("row", "split", "header"):
        gap = 0 if node.align or node.kind == "split" else GAP
        for c, cw in zip(kids, widths(node, w), strict=True):
            draw(p, c, x, y, cw)
            x += cw + gap
        return
    if node.kind == "section":
        p.rect(x, y, w, U, C["header"], r=3)
        p.text(x + 8, y + U / 2, "\u25be", color=C["dim"])
        draw(p, kids[0], x + 24, y, w - 24)
        draw(p, kids[1], x + 8, y + U + GAP, w - 8)
        return
    if node.kind == "box":
        p.rect(x, y, w, height(node), C["box"], r=5, edge=C["box_edge"], z=0.5)
        x, y, w = x + PAD, y + PAD, w - 2 * PAD
    gap = 0 if node.align else GAP
    for c in kids:
        draw(p, c, x, y, w)
        y += height(c) + gap


def fmt_number(item: Item) -> str:
    v = item.value
    if item.array:
        return ", ".join(fmt_number(Item("prop", ptype=item.ptype, subtype="NONE", value=x, array=0,
                                         precision=getattr(item, "precision", 3))) for x in v)
    if item.ptype == "INT":
        return str(v)
    if item.subtype == "PERCENTAGE":
        return f"{v:.0f} %"
    return f"{v:.{min(item.precision, 4)}f}"


def draw_item(p: Painter, it: Item, x: float, y: float, w: float) -> None:
    a = 1.0 if it.enabled and it.active else 0.45
    h = height(it)
    cy = y + h / 2
    if it.kind == "separator":
        return
    if it.kind == "label":
        used = p.icon(it.icon, x, cy, a)
        p.text(x + used + 2, cy, p.fit(it.text, w - used - 4, what="label"), alpha=a)
        return
    if it.kind == "operator":
        p.rect(x, y + 1, w, h - 2, C["blue"], edge=C["edge"], alpha=a)
        label = it.text
        iw = 18 if it.icon != "NONE" else 0
        if not label:
            p.icon(it.icon, x + w / 2 - 8, cy, a)
            return
        label = p.fit(label, w - iw - 10, what="button")
        tw = p.width(label) + iw
        x0 = x + (w - tw) / 2
        p.icon(it.icon, x0 - 2, cy, a)
        p.text(x0 + iw, cy, label, alpha=a)
        return
    if it.kind == "list":
        p.rect(x, y, w, h, C["field"], edge=C["edge"])
        for i, n in enumerate(it.names[: it.rows]):
            p.text(x + 8, y + 2 + U * i + U / 2, p.fit(n, w - 16, what="list row"), alpha=a)
        return
    if it.kind == "generic":
        p.rect(x, y + 1, w, h - 2, C["widget"], edge=C["edge"], alpha=a)
        p.text(x + 8, cy, p.fit(it.text, w - 16, what="item"), alpha=a, style="italic")
        return
    draw_prop(p, it, x, y, w, h, a)


def draw_prop(p: Painter, it: Item, x, y, w, h, a) -> None:
    cy = y + h / 2
    t = it.ptype
    if t == "BOOLEAN" and not it.icon_only:
        p.rect(x + 2, cy - 7, 14, 14, C["blue"] if it.value else C["widget"], r=3, edge=C["edge"], alpha=a)
        if it.value:
            p.text(x + 9, cy, "\u2713", ha="center", alpha=a, bold=True, size=FONT - 1)
        p.text(x + 22, cy, p.fit(it.text, w - 24, what="checkbox label"), alpha=a)
        return
    if t == "ENUM" and it.expand:
        n = len(it.items)
        vertical = it.direction == "vertical"
        bw, bh = (w, U) if vertical else (w / n, h)
        for i, (ident, name, _icon) in enumerate(it.items):
            bx, by = (x, y + i * U) if vertical else (x + i * bw, y)
            on = ident == it.value or (isinstance(it.value, set) and ident in it.value)
            p.rect(bx, by + 0.5, bw, bh - 1, C["blue"] if on else C["widget"], r=3, edge=C["edge"], alpha=a)
            p.text(bx + bw / 2, by + bh / 2, p.fit(name, bw - 8, what="enum item"), ha="center", alpha=a)
        return
    if t in ("FLOAT", "INT") and not it.icon_only:
        p.rect(x, y + 1, w, h - 2, C["widget"], edge=C["edge"], alpha=a)
        if it.slider and it.hi > it.lo and not it.array:
            frac = min(max((it.value - it.lo) / (it.hi - it.lo), 0.0), 1.0)
            if frac > 0:
                p.ax.add_patch(Rectangle((x + 1, y + 2), (w - 2) * frac, h - 4, fc=C["blue"], ec="none",
                                         alpha=a, zorder=1.5))
        else:
            p.text(x + 6, cy, "\u2039", color=C["dim"], alpha=a)
            p.text(x + w - 6, cy, "\u203a", ha="right", color=C["dim"], alpha=a)
        value = fmt_number(it)
        pad = 8 if it.slider else 16
        room = w - 2 * pad - p.width(value) - 6
        if it.text:
            p.text(x + pad, cy, p.fit(it.text, room, what="number label"), alpha=a)
            p.text(x + w - pad, cy, value, ha="right", alpha=a)
        else:
            p.text(x + w / 2, cy, value, ha="center", alpha=a)
        return
    # label on the left third, field on the right (strings, pointers, drop-down enums, unknown)
    fx, fw = x, w
    if it.text:
        lw = w / 3
        p.text(x, cy, p.fit(it.text, lw - 6, what="property label"), alpha=a)
        fx, fw = x + lw, w - lw
    if t == "ENUM":
        p.rect(fx, y + 1, fw, h - 2, C["widget"], edge=C["edge"], alpha=a)
        p.text(fx + 8, cy, p.fit(it.value_name, fw - 28, what="drop-down value"), alpha=a)
        p.text(fx + fw - 8, cy - 2, "\u2304", ha="right", color=C["dim"], alpha=a, bold=True)
        return
    value = it.value_name if t == "POINTER" else str(it.value)
    is_path = it.subtype in ("FILE_PATH", "DIR_PATH")
    fbw = fw - (U if is_path else 0)
    p.rect(fx, y + 1, fbw, h - 2, C["field"], edge=C["edge"], alpha=a)
    used = p.icon("OBJECT_DATA" if t == "POINTER" else "NONE", fx + 2, cy, a)
    p.text(fx + 6 + used, cy, p.fit(value, fbw - 12 - used, middle=is_path, what="field value"), alpha=a)
    if is_path:
        p.rect(fx + fbw, y + 1, U, h - 2, C["widget"], edge=C["edge"], alpha=a)
        p.icon("FILEBROWSER", fx + fbw + U / 2 - 8, cy, a)


def render(panels: list[dict], out: Path, width: int = 360, scale: float = 1.0) -> None:
    tab_w = 24
    margin = 6
    pw = width - tab_w - 2 * margin

    def panel_height(pn) -> float:
        body = height(pn["body"])
        h = (0 if "HIDE_HEADER" in pn["options"] else U + 4) + PAD + body + PAD
        return h + sum(panel_height(c) + GAP for c in pn["children"])

    caption_h = 26
    total = margin + sum(panel_height(pn) + margin for pn in panels) + caption_h
    fig = plt.figure(figsize=(width / 72, total / 72), dpi=72 * scale)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(total, 0)
    ax.axis("off")
    fig.patch.set_facecolor(C["region"])
    p = Painter(ax, fig.canvas.get_renderer())

    # the sidebar's tab strip, with the add-on's tab
    ax.add_patch(Rectangle((width - tab_w, 0), tab_w, total, fc="#181818", ec="none", zorder=0))
    p.rect(width - tab_w + 2, margin, tab_w - 4, 46, C["tab"], r=4)
    ax.text(width - tab_w / 2, margin + 23, "A2F", rotation=-90, ha="center", va="center", color=C["text"],
            fontproperties=FontProperties(family="DejaVu Sans", size=FONT - 1), zorder=5)

    def draw_panel(pn, x, y, w) -> float:
        h = panel_height(pn)
        p.rect(x, y, w, h, C["panel"], r=5, z=0.2)
        top = y
        if "HIDE_HEADER" not in pn["options"]:
            p.rect(x, y, w, U + 4, C["header"], r=5, z=0.3)
            p.text(x + 10, y + (U + 4) / 2, "\u25be", color=C["dim"])
            hx = x + 26
            if pn["header"].children:
                hw = min(sum(U if is_icon_only(c) else 120 for c in pn["header"].children), w / 2)
                draw(p, pn["header"], hx, y + 2, hw)
                hx += hw + 4
            p.text(hx, y + (U + 4) / 2, p.fit(pn["label"], x + w - hx - 8, what="panel title"), bold=True)
            top += U + 4
        draw(p, pn["body"], x + PAD + 2, top + PAD, w - 2 * PAD - 4)
        yy = top + PAD + height(pn["body"]) + PAD
        for c in pn["children"]:
            yy += draw_panel(c, x + 4, yy, w - 8) + GAP
        return h

    y = margin
    for pn in panels:
        y += draw_panel(pn, margin, y, pw) + margin
    ax.text(margin + pw / 2, total - caption_h / 2, CAPTION, ha="center", va="center", color=C["caption"],
            fontproperties=FontProperties(family="DejaVu Sans", size=9, style="italic"))
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, facecolor=fig.get_facecolor())
    plt.close(fig)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "docs" / "images" / "panel.png"))
    ap.add_argument("--width", type=int, default=360, help="picture width in pixels (before --scale)")
    ap.add_argument("--scale", type=float, default=1.0, help="pixel density, e.g. 2 for a sharper picture")
    ap.add_argument("--face", action="store_true", help="turn on 'Override face parameters' to show its sliders")
    ap.add_argument("--no-auto-map", action="store_true", help="do not run Auto-map before drawing")
    ap.add_argument("--dump", action="store_true", help="print the recorded layout tree")
    a = ap.parse_args(argv)

    head = setup_scene(a.face, not a.no_auto_map)
    scene = bpy.context.scene
    ctx = Context(scene=scene, view_layer=bpy.context.view_layer, active_object=head, object=head,
                  selected_objects=[o for o in scene.objects if o.select_get()], area=None, region=None)
    panels = record_panels(ctx)
    if not panels:
        print("no A2F panel found in the sidebar")
        return 1
    if a.dump:
        for pn in panels:
            print(f"panel {pn['label']!r}")
            dump(pn["body"], 1)
    out = Path(a.out)
    render(panels, out, a.width, a.scale)
    for c in dict.fromkeys(cutoffs):
        print("note: " + c)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
