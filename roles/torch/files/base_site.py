"""Print the interpreter's site-packages directories, one a line (for the venv's .pth file)."""
import site
import sys

for path in site.getsitepackages() + [site.getusersitepackages()]:
    if path.startswith(sys.prefix):
        print("SITE " + path)  # marked: warnings may share stdout
