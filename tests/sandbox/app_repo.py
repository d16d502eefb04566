"""The Fun-Audio-Chat stand-in as git repos, served over HTTP like upstream's.

``build(dest)`` makes three bare repos in ``dest``: ``Fun-Audio-Chat.git``
(the stand-in app, tests/sandbox/fun_audio_chat) with the submodules
``third_party/CosyVoice`` and ``third_party/LLaMA-Factory`` pointing at
``../CosyVoice.git`` and ``../LLaMA-Factory.git`` (relative, so a clone from
any address finds them), and a branch ``next`` one commit ahead of ``main`` (a later
version, for a changed ``app_version``). Commits have fixed authors and dates: the same
sources always give the same commit ids, so a re-run deployment sees no change.
``git update-server-info`` makes them clonable over git's plain ("dumb") HTTP
protocol from any static file server (``python -m tests.sandbox.app_repo``).
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile

from .link import add_link_arguments, link_from_args

HERE = os.path.dirname(os.path.abspath(__file__))
APP_SOURCE = os.path.join(HERE, "fun_audio_chat")
THIRD_PARTY_SOURCE = os.path.join(HERE, "fun_audio_chat_third_party")
SUBMODULES = ("CosyVoice", "LLaMA-Factory")
APP = "Fun-Audio-Chat"
NEXT = "next"

_GIT_ENV = {
    "GIT_AUTHOR_NAME": "Fun-Audio-Chat sandbox", "GIT_AUTHOR_EMAIL": "sandbox@funaudiochat.invalid",
    "GIT_COMMITTER_NAME": "Fun-Audio-Chat sandbox", "GIT_COMMITTER_EMAIL": "sandbox@funaudiochat.invalid",
    "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z", "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z",
    "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
}


def _git(cwd, *args):
    subprocess.run(["git", "-c", "init.defaultBranch=main", "-c", "protocol.file.allow=always", *args],
                   cwd=cwd, env=dict(os.environ, **_GIT_ENV), check=True, capture_output=True)


def _commit_tree(source, work, message):
    shutil.copytree(source, work, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    _git(work, "init", "-q")
    _git(work, "add", "-A")
    _git(work, "commit", "-q", "-m", message)


def _publish(work, dest, name):
    bare = os.path.join(dest, name + ".git")
    shutil.rmtree(bare, ignore_errors=True)
    _git(dest, "clone", "-q", "--bare", work, bare)
    _git(bare, "update-server-info")
    return bare


def build(dest):
    """(Re)build the bare repos in ``dest``; returns the app repo's path."""
    os.makedirs(dest, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name in SUBMODULES:
            work = os.path.join(tmp, name)
            _commit_tree(os.path.join(THIRD_PARTY_SOURCE, name), work, "%s (sandbox stand-in)" % name)
            _publish(work, dest, name)
        work = os.path.join(tmp, APP)
        _commit_tree(APP_SOURCE, work, "Fun-Audio-Chat (sandbox stand-in)")
        for name in SUBMODULES:
            path = "third_party/" + name
            _git(work, "submodule", "add", "-q", os.path.join(dest, name + ".git"), path)
            _git(work, "config", "-f", ".gitmodules", "submodule.%s.url" % path, "../%s.git" % name)
        _git(work, "add", "-A")
        _git(work, "commit", "-q", "-m", "Add third_party submodules")
        # A later version on the branch "next", for a deploy that changes app_version.
        _git(work, "checkout", "-q", "-b", NEXT)
        with open(os.path.join(work, "SANDBOX_RELEASE"), "w", encoding="utf-8") as handle:
            handle.write(NEXT + "\n")
        _git(work, "add", "-A")
        _git(work, "commit", "-q", "-m", "A later version (sandbox stand-in)")
        _git(work, "checkout", "-q", "main")
        return _publish(work, dest, APP)


def main(argv=None):
    """Build the repos and serve them over HTTP until killed; prints SANDBOX_APP_REPO=<url>."""
    parser = argparse.ArgumentParser(prog="python -m tests.sandbox.app_repo", description=main.__doc__)
    parser.add_argument("--dir", required=True, help="where the bare repos are built and served from")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    add_link_arguments(parser)
    args = parser.parse_args(argv)
    build(args.dir)
    from .static_http import serve_directory  # pylint: disable=import-outside-toplevel
    serve_directory(args.dir, args.host, args.port, "SANDBOX_APP_REPO", "/%s.git" % APP, link=link_from_args(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
