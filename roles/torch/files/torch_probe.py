"""Print what the environment's torch is, as JSON (run by the torch role with the venv's python)."""
import json

result = {"torch": None, "cuda": None, "cuda_available": False, "device_count": 0, "torchaudio": None}
try:
    import torch
    result.update(torch=torch.__version__, cuda=torch.version.cuda, location=torch.__file__)
    result["cuda_available"] = bool(torch.cuda.is_available())
    result["device_count"] = torch.cuda.device_count() if result["cuda_available"] else 0
except Exception as exc:  # noqa: BLE001  # any import failure means "not usable"
    result["error"] = "%s: %s" % (type(exc).__name__, exc)
try:
    import torchaudio
    result["torchaudio"] = torchaudio.__version__
except Exception:  # noqa: BLE001
    pass
# Marked: the script module merges warnings (stderr) into stdout.
print("PROBE " + json.dumps(result))
