"""paperchat's web UI (Gradio): ``ui.app.launch(settings)`` or ``python -m ui``.

Importing this package imports nothing heavy; Gradio loads when the app is built.
"""
