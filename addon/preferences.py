"""Add-on preferences: NIM connection and SDK paths. Stored in Blender's user preferences, never in a .blend;
the NVCF API key is never printed or logged."""

from __future__ import annotations

import os

import bpy
from bpy.props import BoolProperty, EnumProperty, FloatProperty, StringProperty

SECURE_MODES = [
    ("disabled", "Disabled", "Plain gRPC (self-hosted NIM on a trusted network or loopback)"),
    ("tls", "TLS", "Verify the server with a root certificate"),
    ("mtls", "Mutual TLS", "Verify the server and present a client certificate and key"),
]
LOOPBACK_HOSTS = ("localhost", "127.", "::1", "[::1]")


class A2FPreferences(bpy.types.AddonPreferences):
    bl_idname = __package__

    nim_url: StringProperty(name="NIM URL", default="127.0.0.1:52000",
                            description="host:port of the Audio2Face-3D NIM (grpc.nvcf.nvidia.com:443 for NVCF)")
    nim_secure_mode: EnumProperty(name="Secure mode", items=SECURE_MODES, default="disabled")
    nim_root_cert: StringProperty(name="Root certificate", subtype="FILE_PATH",
                                  description="CA certificate (PEM) that signed the server's certificate")
    nim_client_cert: StringProperty(name="Client certificate", subtype="FILE_PATH", description="PEM, for mutual TLS")
    nim_client_key: StringProperty(name="Client key", subtype="FILE_PATH", description="PEM, for mutual TLS")
    nim_function_id: StringProperty(name="NVCF function ID", description="Only for NVIDIA's cloud (NVCF)")
    nim_api_key: StringProperty(name="NVCF API key", subtype="PASSWORD",
                                description="Only for NVCF. Empty: the NVCF_API_KEY environment variable is used")
    nim_timeout: FloatProperty(name="Timeout (s)", default=30.0, min=1.0, max=600.0)
    sdk_binding_path: StringProperty(name="SDK binding", subtype="FILE_PATH",
                                     description="Folder or file of the audio2face_py binding built from NVIDIA's SDK")
    sdk_model_path: StringProperty(name="SDK model", subtype="FILE_PATH",
                                   description="The Audio2Face-3D model (model.json) downloaded from NVIDIA")
    sdk_use_gpu_solver: BoolProperty(name="GPU blendshape solver", default=False)
    local_words_model: StringProperty(name="Words model", subtype="DIR_PATH",
                                      description="A CTranslate2 Whisper folder that hears the words without a "
                                      "transcript (empty: the A2F Speech Words extensions' Whisper base or tiny.en, if installed)")

    def draw(self, context):
        col = self.layout.column()
        col.label(text="NVIDIA Audio2Face-3D NIM")
        col.prop(self, "nim_url")
        col.prop(self, "nim_secure_mode")
        if self.nim_secure_mode != "disabled":
            col.prop(self, "nim_root_cert")
        if self.nim_secure_mode == "mtls":
            col.prop(self, "nim_client_cert")
            col.prop(self, "nim_client_key")
        col.prop(self, "nim_function_id")
        col.prop(self, "nim_api_key")
        col.prop(self, "nim_timeout")
        col.operator("a2f.check_connection", icon="URL")
        col.separator()
        col.label(text="NVIDIA Audio2Face-3D SDK (local NVIDIA GPU)")
        col.prop(self, "sdk_binding_path")
        col.prop(self, "sdk_model_path")
        col.prop(self, "sdk_use_gpu_solver")
        col.separator()
        col.label(text="Bundled CPU: words without a transcript")
        col.prop(self, "local_words_model")
        from .recogniser import status

        label, note = status(self)
        col.label(text=f"Recogniser: {label}")
        if note:
            col.label(text=note, icon="INFO")


def get(context=None):
    """The preferences, or None when the add-on was registered without the add-on system (tests, bake.py)."""
    context = context or bpy.context
    entry = context.preferences.addons.get(__package__)
    return entry.preferences if entry is not None else None


def _abs(p: str) -> str | None:
    return bpy.path.abspath(p) if p else None


def nim_options(prefs) -> dict:
    if prefs is None:
        return {}
    return {
        "url": prefs.nim_url,
        "secure_mode": prefs.nim_secure_mode,
        "root_cert_path": _abs(prefs.nim_root_cert),
        "client_cert_path": _abs(prefs.nim_client_cert),
        "client_key_path": _abs(prefs.nim_client_key),
        "function_id": prefs.nim_function_id or None,
        "api_key": prefs.nim_api_key or os.environ.get("NVCF_API_KEY") or None,
        "timeout": prefs.nim_timeout,
    }


def sdk_options(prefs) -> dict:
    if prefs is None:
        return {}
    return {
        "binding_path": _abs(prefs.sdk_binding_path),
        "model_path": _abs(prefs.sdk_model_path),
        "use_gpu_solver": prefs.sdk_use_gpu_solver,
    }


def backend_options(prefs) -> dict[str, dict]:
    return {"nim": nim_options(prefs), "sdk": sdk_options(prefs), "local": local_options(prefs)}


def local_options(prefs) -> dict:
    return {"words_model": _abs(prefs.local_words_model)} if prefs is not None and prefs.local_words_model else {}


def is_loopback(url: str) -> bool:
    host = url.split("://")[-1]
    return host.startswith(LOOPBACK_HOSTS)


def online_blocked(url: str) -> str | None:
    """Why a URL may not be contacted: Blender's "Allow Online Access" is off and the host is not loopback."""
    if is_loopback(url) or getattr(bpy.app, "online_access", True):
        return None
    how = ("it was turned off on the command line (--offline-mode)" if getattr(bpy.app, "online_access_override", False)
           else "enable it in Preferences > System > Network")
    return f"{url}: online access is disabled in Blender; {how}, or use a NIM on this machine (127.0.0.1)"
