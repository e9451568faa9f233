"""Reading and writing images and frames; no model code lives here."""
