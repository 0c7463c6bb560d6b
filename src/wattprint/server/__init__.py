"""The team server: a front end on records.py, like cli/ (``pip install 'wattprint[server]'``).

Nothing here is imported by ``import wattprint`` or by a tracker. ``app.create_app(settings)``
builds the application; ``wattprint server`` runs it.
"""
