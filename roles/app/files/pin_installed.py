"""Print pip constraints that keep torch, torchaudio and torchvision as installed (app role)."""
from importlib import metadata

for name in ("torch", "torchaudio", "torchvision"):
    try:
        print("PIN %s==%s" % (name, metadata.version(name)))  # marked: warnings may share stdout
    except metadata.PackageNotFoundError:
        pass
