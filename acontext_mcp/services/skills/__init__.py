"""Skills: a space's pages as Agent Skills folders, with every change kept as a version."""
