"""Health: liveness (the loop answers), readiness (started, sources up) and the full report."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._view import EngineView

_TROUBLE = frozenset({"dead", "backoff"})
STALE_JOURNAL = "journal's server is away: queue depths are the last known"


def readiness(engine: EngineView) -> tuple[bool, str]:
    """Ready to take events: started, not stopping, the store working, every source running."""
    if engine.stopping:
        return False, "engine is stopping"
    if not engine.started:
        return False, "engine is starting"
    if (why := engine.store.stopped()) is not None:
        return False, f"store stopped: {why}"
    failed = sorted(name for name, error in engine.source_health().items() if error is not None)
    if failed:
        return False, f"sources not running: {', '.join(failed)}"
    return True, "ready"


def health_report(engine: EngineView) -> dict[str, Any]:
    """Per-module state and per-source health; ``status`` is ok, degraded or not-ready.

    A dead or backing-off module makes the engine degraded, not unready: the
    other modules still run, and restarting the pod would not revive it. So does
    a journal whose server is away (NATS): the engine waits for it, and a
    restart would not bring it back either.
    """
    ready, reason = readiness(engine)
    modules = {
        s.name: {
            "state": s.state,
            "queue_depth": s.queue_depth,
            "queue_depth_stale": s.queue_depth_stale,
            "last_error": s.last_error,
            "memory_high_water_bytes": s.memory_high_water,
        }
        for s in engine.status()
    }
    figures = {source.name: source.health() for source in engine.sources}
    sources = {
        name: {"ok": error is None, "error": error, **figures.get(name, {})}
        for name, error in engine.source_health().items()
    }
    refused = {str(path): error for path, error in engine.load_errors.items()}
    troubled = any(m["state"] in _TROUBLE or m["queue_depth_stale"] for m in modules.values())
    status = "not-ready" if not ready else "degraded" if troubled or refused else "ok"
    return {
        "status": status,
        "live": True,
        "ready": ready,
        "reason": reason,
        "problems": _problems(ready, reason, modules, refused),
        "modules": modules,
        "sources": sources,
        "refused": refused,
    }


def health_summary(engine: EngineView) -> dict[str, Any]:
    """The report without what identifies a failure (error texts, refused paths): for listeners without a token."""
    report = health_report(engine)
    return {
        **report,
        "modules": {
            name: {"state": m["state"], "queue_depth": m["queue_depth"]}
            for name, m in report["modules"].items()
        },
        "sources": {name: {"ok": s["ok"]} for name, s in report["sources"].items()},
        "refused": len(report["refused"]),
        "problems": len(report["problems"]),
    }


def _problems(
    ready: bool, reason: str, modules: dict[str, dict[str, Any]], refused: dict[str, str]
) -> list[str]:
    """Why the status is not ok, one line each: what an operator reads first."""
    problems = [] if ready else [reason]
    if any(module["queue_depth_stale"] for module in modules.values()):
        problems.append(STALE_JOURNAL)
    for name, module in sorted(modules.items()):
        if module["state"] in _TROUBLE:
            problems.append(f"module {name} is {module['state']}: {module['last_error']}")
    problems.extend(f"refused {path}: {error}" for path, error in sorted(refused.items()))
    return problems
