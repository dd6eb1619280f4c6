"""`assistant model status|stop`: the machine's shared local model servers (the answers' and the model check's), as
their records and processes say."""

from __future__ import annotations

import time

from assistant.llm.local.llama_server import (
    LlamaServer,
    RuntimeStatus,
    check_server,
    local_server,
    runtime_status,
    stop_runtime,
)
from assistant.settings import Settings


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def model_command(action: str, settings: Settings) -> int:
    servers = (  # only look: nothing is joined, hashed or started
        ("local model server", local_server(settings, join=False)),
        ("model check server", check_server(settings, join=False)),
    )
    if action == "stop":
        for name, server in servers:
            stopped = stop_runtime(server)
            if stopped is None:
                print(f"the {name} is not running")
            else:
                print(f"stopped the {name} (pid {stopped.pid}, port {stopped.port})")
        return 0
    for n, (name, server) in enumerate(servers):
        status = runtime_status(server)
        if n and not status.running and status.record is None:
            print(f"{name}: not running (it starts for the first checked answer; ASSISTANT_MODEL_CHECK=0: never)")
            continue
        _print_status(name, server, status)
    print(f"  keep-alive for new starts: {_duration(settings.model_keep_alive) if settings.model_keep_alive else '0'}")
    return 0


def _print_status(name: str, server: LlamaServer, status: RuntimeStatus) -> None:
    record = status.record
    print(f"{name}: {status.note}")
    print(f"  model file: {server.config.model_path}")
    if record is not None and status.running:
        keep = "stops with the command that started it" if record.keep_alive == 0 else _duration(record.keep_alive)
        print(f"  address:    {record.base_url} (pid {record.pid})")
        print(f"  started:    {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(record.started))}")
        print(f"  sha256:     {record.sha256 or 'not checked'} (checked when it started)")
        if status.idle_seconds is not None:
            print(f"  idle for:   {_duration(status.idle_seconds)} (keep-alive: {keep})")
        if status.resident_bytes is not None:
            print(f"  memory:     {status.resident_bytes / 1e9:.2f} GB resident")
    print(f"  log:        {status.log_path}")
