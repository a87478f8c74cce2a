"""Demo set-up (`manage.py demo`, run by `make run`), composed of steps that apps register at
start-up like dashboard panels, so that the core's command imports no pipeline and no sandbox
module: each app knows how to make its own part of the demo."""

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class DemoContext:
    """What the steps share: the address the demo is served at, and what an earlier step
    leaves for later ones by name (the sandbox's receiver integration, say)."""

    base_url: str
    shared: dict = field(default_factory=dict)


@dataclass(frozen=True)
class DemoStep:
    """`run(context)` makes its part of the demo, idempotently, and returns the lines that
    tell where to find it (printed under "Integration Hub is ready:")."""

    name: str
    run: Callable[[DemoContext], list[str]]
    order: int = 100
    # Steps that wire a pipeline to the partner simulator run only where it is mounted.
    needs_sandbox: bool = False


_steps: dict[str, DemoStep] = {}


def demo_step_register(step: DemoStep) -> None:
    _steps[step.name] = step


def demo_steps(*, sandbox_enabled: bool) -> list[DemoStep]:
    steps = sorted(_steps.values(), key=lambda step: (step.order, step.name))
    return [step for step in steps if sandbox_enabled or not step.needs_sandbox]
