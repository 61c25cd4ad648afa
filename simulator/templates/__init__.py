"""Parametric templates of everyday things made of parts (a table, a bowl, a shelf, ...).

``templates.yaml`` holds the part lists as data; :mod:`simulator.templates.expand` turns
``template: table`` with parameters and a material into an ordinary composite entity.
"""

from simulator.templates.expand import (
    Template,
    TemplateError,
    expand,
    expand_entity,
    template,
    templates,
)

__all__ = ["Template", "TemplateError", "expand", "expand_entity", "template", "templates"]
