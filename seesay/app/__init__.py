"""The Qt shell: windows, widgets and the workers that keep models off the UI thread."""

from seesay.app.qtcompat import protect_none

protect_none()  # before any PySide6 call can leak a reference to None (see qtcompat)
