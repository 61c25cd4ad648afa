"""``--help`` as a user expects it: no type shown for on/off flags (``--help <bool>``), and
arguments named plainly in the usage line (``SCENE``, ``[SCENE]`` when optional).

Typer 0.2x shows a type column for every option, flags included, and wraps required arguments in
braces. Both come from two small methods of its parameter classes, adjusted here once, at import
of the CLI. ``tests/test_cli_play.py`` checks the result, so a Typer upgrade that changes these
methods shows up as a test failure, not as odd help text.
"""

from __future__ import annotations


def tidy_help() -> None:
    """Adjust Typer's help rendering (idempotent)."""
    from typer import core

    option, argument = getattr(core, "TyperOption", None), getattr(core, "TyperArgument", None)
    if option is not None and hasattr(option, "display_type_rich") and not getattr(option, "_callosum", False):
        shown = option.display_type_rich

        def display_type_rich(self, ctx):
            if getattr(self, "is_flag", False) and not getattr(self, "count", False):
                return None  # an on/off flag takes no value
            return shown(self, ctx)

        option.display_type_rich = display_type_rich
        option._callosum = True
    if argument is not None and hasattr(argument, "_usage_display_name"):

        def usage_name(self) -> str:
            name = self.display_name_raw
            name = name if self.required else f"[{name}]"
            return name + ("..." if self.nargs != 1 else "")

        argument._usage_display_name = usage_name
