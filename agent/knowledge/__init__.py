"""What the left brain knows about everyday things, as data: objects (objects.yaml, catalogue.py) and
colours (colours.yaml, colours.py). Materials are the simulator's (simulator/materials.yaml)."""
