"""The Gradio explorer: ``handlers`` (plain functions over the library), ``app`` (layout)."""
