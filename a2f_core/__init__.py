"""a2f_core: speech -> ARKit blendshape clips. Plain Python; never imports bpy."""

__version__ = "0.1.0"
