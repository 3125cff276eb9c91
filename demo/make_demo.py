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
from addon.bake import steps  # noqa: E402

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


def contact_sheet(tiles: list[np.ndarray], labels: list[str], cols: int, path: Path, title: str) -> None:
    """Tiles in a grid, each captioned with its time and phone (matplotlib, Agg)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = (len(tiles) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.7, rows * 2.1), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, tile, label in zip(axes.ravel(), tiles, labels):
        ax.imshow(np.clip(tile[::-1, :, :3], 0.0, 1.0))  # Blender images start at the bottom row
        ax.set_title(label, fontsize=9)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


SHOWCASE = {"B", "P", "M", "F", "V", "AA", "AE", "AY", "AW", "UW", "OW", "OY", "IY", "EY", "W"}


def pick_phones(phones: list, count: int) -> list[tuple[str, float]]:
    """(phone, centre time) for up to ``count`` phones with telling mouth shapes, spread over the line."""
    cands = [(n, (a + b) / 2) for n, a, b in phones if n in SHOWCASE and b - a >= 0.03]
    if len(cands) > count:
        cands = [cands[int(i)] for i in np.linspace(0, len(cands) - 1, count).round()]
    return cands


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

    rep = steps.bake(steps.BakeSpec(objects=[head.name], audio=str(SAMPLE), transcript=str(SAMPLE.with_suffix(".txt")),
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
    # one frame at the centre of each telling phone (closures, rounding, open vowels, f/v), labelled
    clip = rep.clip
    jaw = clip.channel("jawOpen")
    chosen = pick_phones(clip.meta.get("phones", []), a.frames)
    picks = [int(np.argmin(np.abs(clip.times - t))) for _, t in chosen]
    frames = [int(round(rep.frames[i])) for i in picks]
    tiles, labels = [], []
    with_tmp = out / "frames"
    with_tmp.mkdir(exist_ok=True)
    for (name, t), f in zip(chosen, frames):
        tiles.append(render_frame(scene, f, with_tmp / f"frame_{f:04d}.png"))
        labels.append(f"{t:.2f} s  /{name}/")
    text = SAMPLE.with_suffix(".txt").read_text(encoding="utf-8").strip()
    contact_sheet(tiles, labels, cols=min(6, len(tiles)), path=out / "contact_sheet.png", title=f'"{text}"')
    print(f"frames on the sheet: {frames} ({', '.join(f'{n} jawOpen {jaw[i]:.2f}' for (n, _), i in zip(chosen, picks))})")
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
