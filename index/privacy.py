"""Nothing phones home: the telemetry and hub switches of every library we load, set before they load.

:func:`keep_offline` runs when :mod:`index` is imported (so before ONNX Runtime, Chroma,
sentence-transformers or Gradio are): it *forces* the telemetry opt-outs (a user cannot turn
them back on by accident) and defaults the model hubs to offline.

* ONNX Runtime (>= 1.29 on Linux and macOS) creates a device id and an event cache in
  ``~/.cache/Microsoft/DeveloperTools/.onnxruntime/`` when it is imported and uploads to
  ``mobile.events.data.microsoft.com``; ``ORT_DISABLE_TELEMETRY=1`` before the import turns
  all of it off (``onnxruntime.disable_telemetry_events()`` only stops later events, so it is
  called as well, before any session: see ``index.embedder``).
* Chroma's product telemetry: ``ANONYMIZED_TELEMETRY=False`` (and ``anonymized_telemetry=False``
  in its client settings, ``index.store``).
* Gradio's analytics: ``GRADIO_ANALYTICS_ENABLED=False``; Hugging Face hub: offline, no telemetry.
"""

from __future__ import annotations

import os

FORCED = {
    "ORT_DISABLE_TELEMETRY": "1",
    "ANONYMIZED_TELEMETRY": "False",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "DO_NOT_TRACK": "1",
}
"""Environment variables set whatever their value was (telemetry opt-outs)."""

DEFAULTS = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
"""Environment variables set unless already set (the model is loaded by path; no hub is reached)."""


def keep_offline() -> None:
    """Set :data:`FORCED` and :data:`DEFAULTS` in ``os.environ`` (idempotent, instant)."""
    os.environ.update(FORCED)
    for key, value in DEFAULTS.items():
        os.environ.setdefault(key, value)
