"""The demo: build the procedural head, bake samples/hello.wav with the bundled CPU backend, save demo.blend,
export demo.glb and render a contact sheet (Cycles, CPU) so a person can see the mouth move.

    .venv/bin/python demo/make_demo.py [--out out/demo] [--frames 12]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import bpy  # noqa: E402
import numpy as np  # noqa: E402

from addon import demo_rig  # noqa: E402
from addon.bake import core  # noqa: E402

SAMPLE = ROOT / "samples" / "hello.wav"


def render_frame(scene, frame: int, path: Path) -> np.ndarray:
    scene.frame_set(frame)
    scene.render.filepath = str(path)
    bpy.ops.render.render(write_still=True)
    img = bpy.data.images.load(str(path))
    w, h = img.size
    px = np.empty(w * h * 4, np.float32)
    img.pixels.foreach_get(px)
    bpy.data.images.remove(img)
    return px.reshape(h, w, 4)


def contact_sheet(tiles: list[np.ndarray], cols: int, path: Path) -> None:
    h, w, _ = tiles[0].shape
    rows = (len(tiles) + cols - 1) // cols
    sheet = np.ones((rows * h, cols * w, 4), np.float32)
    for i, t in enumerate(tiles):
        r, c = divmod(i, cols)
        y0 = (rows - 1 - r) * h  # Blender images start at the bottom row
        sheet[y0:y0 + h, c * w:(c + 1) * w] = t
    img = bpy.data.images.new("A2F contact sheet", cols * w, rows * h, alpha=True)
    img.pixels.foreach_set(sheet.ravel())
    img.filepath_raw = str(path)
    img.file_format = "PNG"
    img.save()
    bpy.data.images.remove(img)


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default=str(ROOT / "out" / "demo"))
    p.add_argument("--frames", type=int, default=12, help="frames on the contact sheet")
    p.add_argument("--size", type=int, default=160, help="tile size in pixels")
    a = p.parse_args(argv)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()

    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    scene.render.fps, scene.render.fps_base = 60, 1.0
    head = demo_rig.build()
    demo_rig.add_camera_and_light(head)
    world = bpy.data.worlds.new("A2F Demo World")
    world.color = (0.25, 0.27, 0.3)
    scene.world = world

    rep = core.bake(core.BakeSpec(objects=[head.name], audio=str(SAMPLE), transcript=str(SAMPLE.with_suffix(".txt")),
                                  backend="local", emotion="joy", emotion_strength=0.5, start_frame=1, export=str(out / "demo.glb")))
    print(rep.summary())
    for note in rep.notes:
        print("  " + note)
    bpy.ops.wm.save_as_mainfile(filepath=str((out / "demo.blend").resolve()))

    scene.render.engine = "CYCLES"
    scene.cycles.device = "CPU"
    scene.cycles.samples = 8
    scene.cycles.use_denoising = False
    scene.render.resolution_x = scene.render.resolution_y = a.size
    scene.render.resolution_percentage = 100
    scene.render.image_settings.file_format = "PNG"
    # evenly spaced frames over the speech (where the jaw moves), so the sheet shows the mouth opening and closing
    jaw = rep.clip.channel("jawOpen")
    active = np.flatnonzero(jaw > 0.02)
    lo, hi = (active[0], active[-1]) if len(active) else (0, len(jaw) - 1)
    picks = np.unique(np.linspace(lo, hi, a.frames).round().astype(int))
    frames = [int(round(rep.frames[i])) for i in picks]
    tiles = []
    with_tmp = out / "frames"
    with_tmp.mkdir(exist_ok=True)
    for f in frames:
        tiles.append(render_frame(scene, f, with_tmp / f"frame_{f:04d}.png"))
    contact_sheet(tiles, cols=min(6, len(tiles)), path=out / "contact_sheet.png")
    print(f"frames on the sheet: {frames} (jawOpen {', '.join(f'{jaw[i]:.2f}' for i in picks)})")
    print(f"wrote {out / 'demo.blend'}, {out / 'demo.glb'}, {out / 'contact_sheet.png'} "
          f"in {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    rc = main(sys.argv[1:])
    sys.stdout.flush()
    if bpy.app.version < (4, 3, 0):
        import os

        os._exit(rc)  # the bpy 4.2 module crashes at interpreter exit after a glTF export
    sys.exit(rc)
