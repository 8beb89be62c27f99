"""A one-line description of the machine a run used, stored with its results."""

from __future__ import annotations

import os
import platform


def describe_machine() -> dict[str, str | int]:
    """CPU count, architecture, OS, Python and (when present) the GPU."""
    info: dict[str, str | int] = {
        "cpus": os.cpu_count() or 0,
        "arch": platform.machine(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
    }
    try:  # only when torch is already loaded (a model ran); never import it just for this
        import sys

        torch = sys.modules.get("torch")
        if torch is not None and torch.cuda.is_available():
            info["gpu"] = torch.cuda.get_device_name(0)
    except Exception:  # noqa: BLE001, S110 - the description is best effort
        pass
    return info
