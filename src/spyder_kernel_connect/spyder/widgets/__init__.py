"""Qt widgets of the plugin: the connect dialog, the host-key prompt, the preferences list."""
