"""``coachbot demo``: try coachbot without a Slack workspace.

The real app (Bolt listeners, services, storage, scheduler) runs against the
stand-in Slack of :mod:`coachbot.standin`, with a fixed clock, and a scripted
team plays a morning of daily practice. The transcript shows what each person
would see, rendered from the Block Kit the app sent.

Modules: ``world`` builds and tears everything down, ``player`` performs what
people do, ``screen`` reads back what the stand-in recorded, ``transcript``
prints it, ``script`` is the scripted morning (``answers`` holds what people
write), ``repl`` the interactive loop and ``runner`` ties them together.
"""

from __future__ import annotations

from coachbot.demo.runner import DemoOptions, run_demo
from coachbot.demo.world import DemoError

__all__ = ["DemoError", "DemoOptions", "run_demo"]
