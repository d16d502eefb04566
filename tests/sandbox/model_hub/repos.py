"""The stand-in model repos the sandbox hub serves.

Same repo ids and file layout as the real Fun-Audio-Chat models, with small
deterministic contents: big files are seeded pseudo-random bytes (so a
truncated or corrupted download shows), small ones are real-looking JSON or
YAML. Big files are served as LFS files (sha256 ETag), small ones as plain git
files (blob sha1 ETag), as the Hub does.
"""

import hashlib
import json
import random

LFS_THRESHOLD = 10 * 1024  # bytes; the Hub's own threshold is larger, this keeps both kinds small
MIB = 1024 * 1024


def _blob(seed, size):
    return random.Random(seed).randbytes(size)


def _json(data):
    return (json.dumps(data, indent=2, sort_keys=True) + "\n").encode()


def _fun_audio_chat_8b(scale):
    return {
        "config.json": _json({"architectures": ["FunAudioChatForConditionalGeneration"], "model_type": "funaudiochat",
                              "sandbox_stand_in": True}),
        "generation_config.json": _json({"do_sample": False, "max_new_tokens": 2048}),
        "tokenizer.json": _json({"version": "1.0", "model": {"type": "BPE", "vocab": {"paris": 0}}}),
        "tokenizer_config.json": _json({"model_max_length": 32768}),
        "model.safetensors.index.json": _json({"weight_map": {"lm_head.weight": "model-00002-of-00002.safetensors",
                                                              "embed.weight": "model-00001-of-00002.safetensors"}}),
        "model-00001-of-00002.safetensors": _blob("fac-8b-1", 6 * MIB * scale),
        "model-00002-of-00002.safetensors": _blob("fac-8b-2", 3 * MIB * scale),
    }


def _cosyvoice3(scale):
    return {
        # A HyperPyYAML document, as CosyVoice's config is (tags and !ref), loaded by the stand-in's TTS worker.
        "cosyvoice3.yaml": (b"sample_rate: 24000\ntoken_frame_rate: 25\nsandbox_stand_in: true\n"
                            b"hift: !name:builtins.dict\n    sampling_rate: !ref <sample_rate>\n"),
        "configuration.json": _json({"framework": "pytorch", "task": "text-to-speech"}),
        "llm.pt": _blob("cosyvoice-llm", 2 * MIB * scale),
        "flow.pt": _blob("cosyvoice-flow", 1 * MIB * scale),
        "hift.pt": _blob("cosyvoice-hift", 1 * MIB * scale),
        "campplus.onnx": _blob("cosyvoice-campplus", 256 * 1024 * scale),
        "speech_tokenizer_v3.onnx": _blob("cosyvoice-tokenizer", 512 * 1024 * scale),
        "CosyVoice-BlankEN/config.json": _json({"model_type": "qwen2", "sandbox_stand_in": True}),
    }


STAND_INS = {
    "FunAudioLLM/Fun-Audio-Chat-8B": _fun_audio_chat_8b,
    "FunAudioLLM/Fun-CosyVoice3-0.5B-2512": _cosyvoice3,
}


class RepoFile:
    """One file of a repo, with the ids the Hub reports for it."""

    def __init__(self, path, data):
        self.path = path
        self.data = data
        self.size = len(data)
        self.blob_id = hashlib.sha1(b"blob %d\0" % self.size + data).hexdigest()
        self.lfs = self.size >= LFS_THRESHOLD
        self.sha256 = hashlib.sha256(data).hexdigest()

    @property
    def etag(self):
        return self.sha256 if self.lfs else self.blob_id

    def tree_entry(self):
        entry = {"type": "file", "oid": self.blob_id, "size": self.size, "path": self.path}
        if self.lfs:
            entry["lfs"] = {"oid": self.sha256, "size": self.size, "pointerSize": 134}
        return entry


class Repo:
    """A model repo at one commit (``main``)."""

    def __init__(self, repo_id, files):
        self.repo_id = repo_id
        self.files = {path: RepoFile(path, data) for path, data in sorted(files.items())}
        manifest = "".join("%s %s\n" % (f.path, f.blob_id) for f in self.files.values())
        self.sha = hashlib.sha1(repo_id.encode() + b"\0" + manifest.encode()).hexdigest()

    def revision(self, rev):
        """The commit ``rev`` names (a branch or the commit itself), or None."""
        return self.sha if rev in ("main", self.sha) else None

    def info(self):
        return {
            "_id": self.sha[:24], "id": self.repo_id, "modelId": self.repo_id, "sha": self.sha,
            "private": False, "gated": False, "disabled": False, "downloads": 0, "likes": 0,
            "tags": ["sandbox"], "lastModified": "2026-01-01T00:00:00.000Z",
            "siblings": [{"rfilename": path} for path in self.files],
        }

    def tree(self, prefix="", recursive=False):
        """Tree entries under ``prefix``, directories included, as /api/models/.../tree answers."""
        prefix = prefix.strip("/")
        base = prefix + "/" if prefix else ""
        entries, folders = [], set()
        for path, repo_file in self.files.items():
            if not path.startswith(base):
                continue
            rest = path[len(base):]
            parts = rest.split("/")
            for depth in range(1, len(parts)):
                if recursive or depth == 1:
                    folders.add(base + "/".join(parts[:depth]))
            if recursive or len(parts) == 1:
                entries.append(repo_file.tree_entry())
        dirs = [{"type": "directory", "oid": hashlib.sha1(d.encode()).hexdigest(), "size": 0, "path": d}
                for d in sorted(folders)]
        return dirs + entries


def stand_in_repos(scale=1):
    """The repos the sandbox serves; ``scale`` multiplies the big files' sizes (benchmarks)."""
    return {repo_id: Repo(repo_id, build(scale)) for repo_id, build in STAND_INS.items()}
