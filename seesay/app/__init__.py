"""The Qt shell: windows, widgets and the workers that keep models off the UI thread."""
