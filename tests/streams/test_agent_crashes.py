"""A crash of one of the worker's Faust agents is counted, for the alert on it."""

from __future__ import annotations

import asyncio

from prometheus_client import CollectorRegistry

from signals.metrics import AGENTS, build_metrics
from signals.policy import load_policy
from streams.app import create_app
from streams.config import Settings


def test_each_agents_crash_is_counted_under_its_name() -> None:
    """Faust restarts a crashed agent and the record it held goes unhandled; until the count,
    only the log said so, and no alert could."""
    registry = CollectorRegistry()
    app = create_app(Settings.from_env({}), load_policy(), build_metrics(registry))
    agents = {agent.name: agent for agent in app.agents.values()}
    assert set(agents) == set(AGENTS)

    async def crash(name: str) -> None:  # what Faust's Agent._execute_actor calls
        agent = agents[name]
        await agent._on_error(agent, ValueError("a bug"))

    asyncio.run(crash("detect"))
    asyncio.run(crash("detect"))
    asyncio.run(crash("verdicts"))
    assert {name: registry.get_sample_value("riskstream_agent_crashes_total", {"agent": name})
            for name in AGENTS} == {"detect": 2.0, "verdicts": 1.0}
