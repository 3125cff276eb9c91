"""A procedural head with the 52 ARKit shape keys, built by code (for tests, the demo and trying the add-on).

The head is a scaled UV sphere looking down -Y (Blender's front view). Each shape key moves a region
(jaw, lips, mouth corners, eyelids, brows, cheeks, nose) by a smooth falloff, so every key is visible.
Character left = +X.
"""

from __future__ import annotations

from typing import Any

import bpy
import numpy as np

from a2f_core.names import ARKIT_52

SCALE = np.array([0.82, 0.92, 1.1])
MOUTH = np.array([0.0, -0.86, -0.42])
EYE = np.array([0.3, -0.78, 0.18])
BROW_Z = 0.42


def _sphere_points(segments: int = 96, rings: int = 72):
    """A UV sphere (poles on Z) scaled into a head: vertices (N x 3) and faces (tris at the poles, quads)."""
    lat = np.linspace(0, np.pi, rings + 1)[1:-1]
    lon = np.linspace(0, 2 * np.pi, segments, endpoint=False)
    ring = np.stack([np.outer(np.sin(lat), np.cos(lon)), np.outer(np.sin(lat), np.sin(lon)),
                     np.outer(np.cos(lat), np.ones_like(lon))], axis=-1).reshape(-1, 3)
    co = np.vstack([[0.0, 0.0, 1.0], ring, [0.0, 0.0, -1.0]]) * SCALE
    bottom = len(co) - 1
    faces: list[list[int]] = []
    for j in range(segments):
        jn = (j + 1) % segments
        faces.append([0, 1 + j, 1 + jn])
        for r in range(rings - 2):
            a, b = 1 + r * segments, 1 + (r + 1) * segments
            faces.append([a + j, b + j, b + jn, a + jn])
        last = 1 + (rings - 2) * segments
        faces.append([last + jn, last + j, bottom])
    return co, faces


def _gauss(co, center, sx, sy=None, sz=None):
    s = np.array([sx, sy or sx, sz or sx])
    d = (co - center) / s
    return np.exp(-0.5 * np.sum(d * d, axis=1))


def _displacements(co: np.ndarray) -> dict[str, np.ndarray]:
    x, y, z = co[:, 0], co[:, 1], co[:, 2]
    front = np.clip(-y / SCALE[1], 0, 1) ** 2
    mz = MOUTH[2]
    lower = np.clip((mz - z) / 0.04, 0, 1) * front  # below the lip line
    upper = np.clip((z - mz) / 0.04, 0, 1) * front
    mouth = _gauss(co, MOUTH, 0.22, 0.3, 0.12) * front
    jaw = lower * np.exp(-0.5 * (x / 0.45) ** 2) * np.clip((z + 1.1) / 0.4, 0, 1)
    out: dict[str, np.ndarray] = {}

    def vec(w, dx=0.0, dy=0.0, dz=0.0):
        return np.stack([w * dx, w * dy, w * dz], axis=1)

    def side(sign):
        return np.clip(sign * x / 0.05, 0, 1) if sign else 1.0

    out["jawOpen"] = vec(jaw, dz=-0.4) + vec(jaw, dy=0.06)
    out["jawForward"] = vec(jaw, dy=-0.08)
    out["jawLeft"] = vec(jaw, dx=0.08)
    out["jawRight"] = vec(jaw, dx=-0.08)
    lip_lo = mouth * lower
    lip_up = mouth * upper
    out["mouthClose"] = vec(lip_lo, dz=0.03) + vec(lip_up, dz=-0.02)
    out["mouthFunnel"] = np.stack([-x * mouth * 0.3, -mouth * 0.08, (mz - z) * mouth * 0.2], axis=1)
    out["mouthPucker"] = np.stack([-x * mouth * 0.5, -mouth * 0.12, np.zeros_like(x)], axis=1)
    out["mouthLeft"] = vec(mouth, dx=0.08)
    out["mouthRight"] = vec(mouth, dx=-0.08)
    out["mouthRollLower"] = vec(lip_lo, dy=0.05, dz=0.02)
    out["mouthRollUpper"] = vec(lip_up, dy=0.05, dz=-0.02)
    out["mouthShrugLower"] = vec(lip_lo, dz=0.05)
    out["mouthShrugUpper"] = vec(lip_up, dz=0.04)
    for name, sign in (("Left", 1), ("Right", -1)):
        corner = _gauss(co, MOUTH + np.array([sign * 0.2, 0.06, 0.0]), 0.1, 0.2, 0.08) * front
        half = mouth * side(sign)
        out["mouthSmile" + name] = vec(corner, dx=sign * 0.05, dz=0.08, dy=0.02)
        out["mouthFrown" + name] = vec(corner, dz=-0.08)
        out["mouthDimple" + name] = vec(corner, dx=-sign * 0.02, dy=0.05)
        out["mouthStretch" + name] = vec(corner, dx=sign * 0.08, dz=-0.03)
        out["mouthPress" + name] = vec(half * lower, dz=0.03) + vec(half * upper, dz=-0.03)
        out["mouthLowerDown" + name] = vec(half * lower, dz=-0.07)
        out["mouthUpperUp" + name] = vec(half * upper, dz=0.06)
        eye_c = EYE * np.array([sign, 1, 1])
        eye = _gauss(co, eye_c, 0.11, 0.3, 0.09) * front
        lid_up = eye * np.clip((z - eye_c[2] + 0.02) / 0.06, 0, 1)
        lid_lo = eye * np.clip((eye_c[2] - z) / 0.06, 0, 1)
        out["eyeBlink" + name] = vec(lid_up, dz=-0.11, dy=-0.02)
        out["eyeSquint" + name] = vec(lid_lo, dz=0.04)
        out["eyeWide" + name] = vec(lid_up, dz=0.04)
        core = _gauss(co, eye_c, 0.06, 0.3, 0.05) * front
        out["eyeLookUp" + name] = vec(core, dz=0.03)
        out["eyeLookDown" + name] = vec(core, dz=-0.03)
        out["eyeLookIn" + name] = vec(core, dx=-sign * 0.03)
        out["eyeLookOut" + name] = vec(core, dx=sign * 0.03)
        brow = _gauss(co, np.array([sign * 0.3, -0.7, BROW_Z]), 0.14, 0.4, 0.06) * front
        outer = _gauss(co, np.array([sign * 0.45, -0.6, BROW_Z]), 0.08, 0.4, 0.06) * front
        out["browDown" + name] = vec(brow, dz=-0.06)
        out["browOuterUp" + name] = vec(outer, dz=0.07)
        cheek = _gauss(co, np.array([sign * 0.45, -0.7, -0.15]), 0.15, 0.4, 0.15) * front
        out["cheekSquint" + name] = vec(cheek, dz=0.05)
        nose = _gauss(co, np.array([sign * 0.08, -0.9, -0.05]), 0.06, 0.3, 0.08) * front
        out["noseSneer" + name] = vec(nose, dz=0.04, dx=sign * 0.01)
    out["browInnerUp"] = vec(_gauss(co, np.array([0.0, -0.8, BROW_Z]), 0.14, 0.4, 0.07) * front, dz=0.07)
    cheeks = _gauss(co, np.array([0.45, -0.65, -0.2]), 0.18, 0.4, 0.18) + _gauss(co, np.array([-0.45, -0.65, -0.2]), 0.18, 0.4, 0.18)
    normal = co / SCALE / np.linalg.norm(co / SCALE, axis=1, keepdims=True)
    out["cheekPuff"] = normal * (cheeks * front)[:, None] * 0.1
    out["tongueOut"] = vec(_gauss(co, MOUTH, 0.08, 0.3, 0.05) * front, dy=-0.06, dz=-0.02)
    return out


def _material(name: str, rgb: tuple[float, float, float]):
    mat = bpy.data.materials.get(name) or bpy.data.materials.new(name)
    mat.diffuse_color = (*rgb, 1.0)
    if mat.node_tree is None:  # Blender < 5.0 creates material nodes on request
        mat.use_nodes = True
    bsdf = mat.node_tree.nodes.get("Principled BSDF") if mat.node_tree else None
    if bsdf is not None:
        bsdf.inputs["Base Color"].default_value = (*rgb, 1.0)
        bsdf.inputs["Roughness"].default_value = 0.6
    return mat


def build(name: str = "A2F Demo Head", *, with_keys: bool = True, key_names=None, segments: int = 96,
          rings: int = 72):
    """Link a new head object to the scene and return it. ``key_names`` renames the 52 keys (ARKit order).

    The default resolution draws a clean mouth in renders; tests pass a coarser one for speed.
    """
    co, faces = _sphere_points(segments, rings)
    mesh = bpy.data.meshes.new(name)
    mesh.from_pydata([tuple(v) for v in co], [], faces)
    mesh.update()
    for mname, rgb in (("A2F Skin", (0.8, 0.6, 0.5)), ("A2F Lips", (0.35, 0.02, 0.03)), ("A2F Eyes", (0.03, 0.03, 0.05)),
                       ("A2F Brows", (0.15, 0.08, 0.04))):
        mesh.materials.append(_material(mname, rgb))
    centers = np.empty(3 * len(faces))
    mesh.polygons.foreach_get("center", centers)
    centers = centers.reshape(-1, 3)
    front = centers[:, 1] < 0
    idx = np.zeros(len(faces), np.int32)
    mouth = ((centers[:, 0] / 0.24) ** 2 + ((centers[:, 2] - MOUTH[2]) / 0.05) ** 2 < 1) & front
    idx[mouth] = 1
    for sign in (1, -1):
        e = ((centers[:, 0] - sign * EYE[0]) / 0.11) ** 2 + ((centers[:, 2] - EYE[2]) / 0.05) ** 2 < 1
        b = (np.abs(centers[:, 0] - sign * 0.3) < 0.13) & (np.abs(centers[:, 2] - BROW_Z) < 0.035)
        idx[e & front] = 2
        idx[b & front] = 3
    mesh.polygons.foreach_set("material_index", idx)
    mesh.polygons.foreach_set("use_smooth", np.ones(len(faces), bool))
    ob = bpy.data.objects.new(name, mesh)
    scene: Any = bpy.context.scene
    scene.collection.objects.link(ob)
    if with_keys:
        names = list(key_names) if key_names is not None else list(ARKIT_52)
        ob.shape_key_add(name="Basis", from_mix=False)
        disp = _displacements(co)
        for arkit, kname in zip(ARKIT_52, names):
            kb = ob.shape_key_add(name=kname, from_mix=False)
            kb.data.foreach_set("co", (co + disp[arkit]).astype(np.float32).ravel())
    return ob


def add_camera_and_light(target, *, name: str = "A2F Demo"):
    """A front camera framing the face and a key light (for the demo render)."""
    scene: Any = bpy.context.scene
    cam_data = bpy.data.cameras.new(name + " Camera")
    cam_data.lens = 70
    cam = bpy.data.objects.new(name + " Camera", cam_data)
    cam.location = (0.0, -5.2, -0.05)
    cam.rotation_euler = (np.pi / 2, 0.0, 0.0)
    scene.collection.objects.link(cam)
    scene.camera = cam
    light_data: Any = bpy.data.lights.new(name + " Light", "SUN")
    light_data.energy = 3.0
    light = bpy.data.objects.new(name + " Light", light_data)
    light.rotation_euler = (np.radians(60), np.radians(15), np.radians(-20))
    scene.collection.objects.link(light)
    return cam, light
