"""One module per page; each has ``render()``, called by the navigation in :mod:`edgesr.app.main`."""
