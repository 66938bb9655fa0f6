"""The Qt/Spyder shell: the only subpackage that imports Qt or Spyder."""
