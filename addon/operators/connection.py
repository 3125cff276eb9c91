"""a2f.check_connection (NIM health check) and a2f.refresh_backends."""

from __future__ import annotations

import bpy
from bpy.props import StringProperty

from .. import dropdowns, preferences
from ..preferences import online_blocked


class A2F_OT_check_connection(bpy.types.Operator):
    """Check that the Audio2Face-3D NIM in the add-on preferences answers its health check"""

    bl_idname = "a2f.check_connection"
    bl_label = "Check Connection"

    url: StringProperty(name="URL", description="host:port to check instead of the one in the preferences",
                        options={"SKIP_SAVE"})

    def execute(self, context):
        opts = preferences.nim_options(preferences.get(context)) or {"url": "127.0.0.1:52000"}
        url = opts.pop("url")
        if self.url:
            url = self.url
        try:  # a malformed address is named as such before anything else is said about it
            from a2f_core.errors import A2FError
            from a2f_core.nim.channel import check_url

            check_url(url)
        except ImportError:
            pass  # reported below
        except A2FError as e:
            self.report({"ERROR"}, str(e))
            return {"CANCELLED"}
        blocked = online_blocked(url)
        if blocked:
            self.report({"ERROR"}, blocked)
            return {"CANCELLED"}
        try:
            from a2f_core import nim
        except ImportError as e:
            self.report({"ERROR"}, f"NIM support cannot load: {e}")
            return {"CANCELLED"}
        try:
            ok, message = nim.health(url, **opts)
        except Exception as e:  # health() should not raise; keep the UI usable if it does
            ok, message = False, str(e)
        self.report({"INFO"} if ok else {"ERROR"}, f"{url}: {message}")
        return {"FINISHED"} if ok else {"CANCELLED"}


class A2F_OT_refresh_backends(bpy.types.Operator):
    """Check again which backends can run here (bundled CPU, NIM, SDK) and why not"""

    bl_idname = "a2f.refresh_backends"
    bl_label = "Refresh Backends"

    def execute(self, context):
        status = dropdowns.refresh_backends(preferences.backend_options(preferences.get(context)))
        ok = [n for n, (good, _) in status.items() if good]
        self.report({"INFO"}, f"available backends: {', '.join(ok) or 'none'}")
        return {"FINISHED"}
