"""Compatibility layers: other tools' APIs on top of wattprint's tracker.

``wattprint.compat.codecarbon`` takes CodeCarbon 3.x's names and behaviour, so a program switches
by changing one import. Nothing is imported here: each layer loads when it is imported itself.
"""
