"""What the sandbox registers at start-up: its part of the demo, the receiver integration
that the pipelines' demo steps deliver to."""

from integration_hub.demo_steps import DemoContext, DemoStep


def _demo_receiver(context: DemoContext) -> list[str]:
    from .services import sandbox_demo_setup

    integration = sandbox_demo_setup(base_url=context.base_url)
    context.shared["sandbox_integration"] = integration
    return [
        f"  Sandbox      {context.base_url}/sandbox/receiver/demo/ "
        f"(integration {integration.name!r})"
    ]


DECLARATIONS = [DemoStep(name="sandbox", run=_demo_receiver, order=20, needs_sandbox=True)]
