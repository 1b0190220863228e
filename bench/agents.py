"""Agent red team with and without the gateway in front, in one run (issue #21 item 7).

The agent families (indirect injection through tool output, tool poisoning,
exfiltration) run against the same deliberately vulnerable agent model — the
fake upstream answers requests that declare ``tools`` with
:class:`~assay.redteam.demo_agent.DemoAgentModel` — reached three ways:

* ``direct``: the agent talks to the model with nothing in between;
* ``gateway_text_guard``: through the Assay gateway with the default policy's
  text rules but its ``tools:`` section removed (tool calls pass unchecked);
* ``gateway_default``: through the gateway with the default policy, tool policy
  included.

Success means the attacker's tool call was executed (judged from the agent's
trace); a gateway refusal is resisted. Writes bench/results/agents.json.

    python bench/agents.py [--samples 1]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from assay.aims import add_system
from assay.gateway import GatewaySettings, create_fake_upstream, create_gateway
from assay.gateway.keys import create_key
from assay.gateway.local import LocalServer
from assay.guard.policy import default_policy_text
from assay.redteam.attacks import FAMILIES, load_corpus, select
from assay.redteam.runner import ScanOptions, create_run, execute
from assay.redteam.targets import AgentTarget, DemoAgentBackend, OpenAIAgentBackend, Target
from assay.workspace import Workspace, init_workspace
from assay.yamlio import load_yaml, plain

RESULTS = Path(__file__).parent / "results" / "agents.json"
AGENT_FAMILIES = [f for f, fam in FAMILIES.items() if fam.agent]


def _scan(root: Path, target: Target, samples: int) -> dict[str, Any]:
    attacks = select(load_corpus(), AGENT_FAMILIES, agent=True)
    options = ScanOptions(samples=samples, concurrency=4)
    store = create_run(root, target, attacks, options, target_spec=target.name)
    result = asyncio.run(execute(store, target))
    asyncio.run(target.aclose())
    return {
        "overall": result.overall().as_dict(),
        "families": {f: r.as_dict() for f, r in result.by_family().items()},
        "blocked_by_guard": sum(1 for a in result.attempts if a.get("blocked_by") == "guard"),
        "unassessed": sum(1 for a in result.attempts if a["outcome"] == "unassessed"),
        "attempts": len(result.attempts),
    }


def _gateway(ws: Workspace, upstream: str, policy: str) -> tuple[LocalServer, str]:
    key = create_key(ws.store, ws.ledger, name=f"agents-{Path(policy).stem}", system="agent",
                     actor="bench", policy=policy)
    server = LocalServer(create_gateway(ws, GatewaySettings(upstream=upstream)))
    return server, key


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=int, default=1, help="repeats of each attack")
    args = parser.parse_args()
    results: dict[str, Any] = {"command": "python bench/agents.py " + " ".join(sys.argv[1:])}
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        text_only = base / "text-only.yaml"
        policy = plain(load_yaml(default_policy_text(), "default.yaml"))
        policy.pop("tools", None)
        text_only.write_text(json.dumps(policy))  # JSON is YAML
        ws = init_workspace(base / "ws")
        add_system(ws.store, ws.ledger, system_id="agent", name="Ops agent", owner="ops",
                   actor="bench")
        upstream = LocalServer(create_fake_upstream())
        servers: list[LocalServer] = [upstream]
        try:
            results["direct"] = _scan(base / "scans-direct", AgentTarget(
                OpenAIAgentBackend(f"{upstream.url}/v1", "assay-demo-1")), args.samples)
            results["in_process_model"] = _scan(
                base / "scans-local", AgentTarget(DemoAgentBackend()), args.samples)
            for name, chosen in (("gateway_text_guard", str(text_only)),
                                 ("gateway_default", "default")):
                server, key = _gateway(ws, upstream.url, chosen)
                servers.append(server)
                backend = OpenAIAgentBackend(f"{server.url}/v1", "assay-demo-1", api_key=key)
                results[name] = _scan(base / f"scans-{name}", AgentTarget(backend), args.samples)
                print(name, json.dumps(results[name]["overall"]), flush=True)
        finally:
            for server in servers:
                server.stop()
            ws.close()
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
