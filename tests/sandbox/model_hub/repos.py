"""The stand-in model repos the sandbox hub serves.

Same repo ids and file layout as the real Fun-Audio-Chat models. Big files
are deterministic pseudo-random bytes generated block by block on the fly, so
a file of any size is served without being held in memory and a truncated,
shifted or corrupted download shows in its sha256; their digests are computed
once and cached on disk. Small files are real-looking JSON or YAML.

As on the Hub, big files are LFS files: the tree lists the git blob id of
their *pointer* file as ``oid`` and the content's sha256 as ``lfs.oid``, which
is also their ETag; small files are plain git files whose ETag is their blob id.

Profiles: ``small`` (the default; ``scale`` multiplies the big files' sizes)
and ``real`` (the real repositories' shard layout at their real sizes, for
benchmarks: ~16 GB of Fun-Audio-Chat-8B in 4 shards, CosyVoice3's files).
"""

import concurrent.futures
import hashlib
import json
import os
import random

LFS_THRESHOLD = 10 * 1024  # bytes; the Hub's own threshold is larger, this keeps both kinds small
BLOCK = 1024 * 1024
MIB = 1024 * 1024
GENERATOR = "v2"  # part of the digest cache's key: change it when Generated's bytes change
DIGEST_CACHE = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"),
                            "funaudiochat-sandbox", "hub-digests.json")


class Generated:
    """``size`` deterministic pseudo-random bytes named by ``seed``, produced one block at a time.

    Block i is an 8-byte block number followed by a rotation of one random
    block: no two blocks of a file are alike, and producing one costs a copy.
    """

    def __init__(self, seed, size):
        self.seed = seed
        self.size = int(size)
        self._base = random.Random(seed).randbytes(BLOCK)

    def block(self, index):
        rot = (index * 1000003) % (BLOCK - 8)
        data = index.to_bytes(8, "big") + self._base[rot + 8:] + self._base[8:rot + 8]
        return data[:max(0, min(BLOCK, self.size - index * BLOCK))]

    def chunks(self, start=0, end=None):
        """The bytes from ``start`` to ``end`` (inclusive; default: the last), block by block."""
        end = self.size - 1 if end is None else min(end, self.size - 1)
        position = start
        while position <= end:
            index, offset = divmod(position, BLOCK)
            data = self.block(index)[offset:offset + end - position + 1]
            yield data
            position += len(data)

    def digests(self):
        """(sha256, git blob sha1) of the whole content."""
        sha256, sha1 = hashlib.sha256(), hashlib.sha1(b"blob %d\0" % self.size)
        for data in self.chunks():
            sha256.update(data)
            sha1.update(data)
        return sha256.hexdigest(), sha1.hexdigest()


class Literal:
    """Bytes given whole (the small files)."""

    def __init__(self, data):
        self.data = data
        self.size = len(data)

    def chunks(self, start=0, end=None):
        end = self.size - 1 if end is None else min(end, self.size - 1)
        if start <= end:
            yield self.data[start:end + 1]

    def digests(self):
        return hashlib.sha256(self.data).hexdigest(), hashlib.sha1(b"blob %d\0" % self.size + self.data).hexdigest()


def _json(data):
    return Literal((json.dumps(data, indent=2, sort_keys=True) + "\n").encode())


def _config_files(shards):
    return {
        "config.json": _json({"architectures": ["FunAudioChatForConditionalGeneration"], "model_type": "funaudiochat",
                              "sandbox_stand_in": True}),
        "generation_config.json": _json({"do_sample": False, "max_new_tokens": 2048}),
        "tokenizer.json": _json({"version": "1.0", "model": {"type": "BPE", "vocab": {"paris": 0}}}),
        "tokenizer_config.json": _json({"model_max_length": 32768}),
        "model.safetensors.index.json": _json({"weight_map": dict(
            ("layer.%d.weight" % n, name) for n, name in enumerate(shards))}),
    }


def _fun_audio_chat_8b(profile, scale):
    if profile == "real":
        # ~16.4 GB in 4 bf16 shards of 3.6-4.3 GB. The Hub cannot be reached from here to read the exact
        # sizes: these keep the shape (a few multi-GB files) and the order of magnitude.
        sizes = [4290000000, 4250000000, 4210000000, 3650000000]
    else:
        sizes = [6 * MIB * scale, 3 * MIB * scale]
    names = ["model-%05d-of-%05d.safetensors" % (n + 1, len(sizes)) for n in range(len(sizes))]
    files = _config_files(names)
    files.update((name, Generated("fac-8b-%d" % (n + 1), size)) for n, (name, size) in enumerate(zip(names, sizes)))
    return files


def _cosyvoice3(profile, scale):
    if profile == "real":  # approximate, as above: ~2.4 GB
        sizes = dict(llm=1000000000, flow=330000000, hift=83000000, campplus=28000000, tokenizer=970000000)
    else:
        sizes = dict(llm=2 * MIB * scale, flow=MIB * scale, hift=MIB * scale, campplus=256 * 1024 * scale,
                     tokenizer=512 * 1024 * scale)
    return {
        # A HyperPyYAML document, as CosyVoice's config is (tags and !ref), loaded by the stand-in's TTS worker.
        "cosyvoice3.yaml": Literal(b"sample_rate: 24000\ntoken_frame_rate: 25\nsandbox_stand_in: true\n"
                                   b"hift: !name:builtins.dict\n    sampling_rate: !ref <sample_rate>\n"),
        "configuration.json": _json({"framework": "pytorch", "task": "text-to-speech"}),
        "llm.pt": Generated("cosyvoice-llm", sizes["llm"]),
        "flow.pt": Generated("cosyvoice-flow", sizes["flow"]),
        "hift.pt": Generated("cosyvoice-hift", sizes["hift"]),
        "campplus.onnx": Generated("cosyvoice-campplus", sizes["campplus"]),
        "speech_tokenizer_v3.onnx": Generated("cosyvoice-tokenizer", sizes["tokenizer"]),
        "CosyVoice-BlankEN/config.json": _json({"model_type": "qwen2", "sandbox_stand_in": True}),
    }


STAND_INS = {
    "FunAudioLLM/Fun-Audio-Chat-8B": _fun_audio_chat_8b,
    "FunAudioLLM/Fun-CosyVoice3-0.5B-2512": _cosyvoice3,
}
PROFILES = ("small", "real")


class RepoFile:
    """One file of a repo, with the ids the Hub reports for it."""

    def __init__(self, path, content, digests):
        self.path = path
        self.content = content
        self.size = content.size
        self.sha256, content_blob_id = digests
        self.lfs = self.size >= LFS_THRESHOLD
        if self.lfs:  # git stores the LFS pointer; its blob id is the tree's oid
            self.pointer = ("version https://git-lfs.github.com/spec/v1\noid sha256:%s\nsize %d\n"
                            % (self.sha256, self.size)).encode()
            self.blob_id = hashlib.sha1(b"blob %d\0" % len(self.pointer) + self.pointer).hexdigest()
        else:
            self.blob_id = content_blob_id

    @property
    def etag(self):
        return self.sha256 if self.lfs else self.blob_id

    def chunks(self, start=0, end=None):
        return self.content.chunks(start, end)

    def read(self):
        """The whole content (tests of small sizes only)."""
        return b"".join(self.chunks())

    def tree_entry(self):
        entry = {"type": "file", "oid": self.blob_id, "size": self.size, "path": self.path}
        if self.lfs:
            entry["lfs"] = {"oid": self.sha256, "size": self.size, "pointerSize": len(self.pointer)}
        return entry


class Repo:
    """A model repo at one commit (``main``)."""

    def __init__(self, repo_id, files):
        self.repo_id = repo_id
        self.files = dict(sorted(files.items()))
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


def _digests(contents, cache_path):
    """{key: (sha256, blob sha1)} for the contents; generated files' digests come from the cache when known."""
    try:
        with open(cache_path, encoding="utf-8") as handle:
            cache = json.load(handle)
    except (OSError, ValueError):
        cache = {}
    keys = {}
    todo = []
    for key, content in contents.items():
        if isinstance(content, Generated):
            cache_key = "%s:%s:%d" % (GENERATOR, content.seed, content.size)
            keys[key] = cache_key
            if cache_key not in cache:
                todo.append((cache_key, content))
    if todo:  # hashlib lets go of the GIL for big buffers: two threads use both cores
        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
            for cache_key, digests in zip([k for k, _c in todo], pool.map(lambda kc: kc[1].digests(), todo)):
                cache[cache_key] = list(digests)
        os.makedirs(os.path.dirname(cache_path), exist_ok=True)
        with open(cache_path + ".%d.tmp" % os.getpid(), "w", encoding="utf-8") as handle:
            json.dump(cache, handle)
        os.replace(cache_path + ".%d.tmp" % os.getpid(), cache_path)
    return {key: (tuple(cache[keys[key]]) if key in keys else content.digests())
            for key, content in contents.items()}


def stand_in_repos(scale=1, profile="small", cache_path=DIGEST_CACHE):
    """The repos the sandbox serves; ``scale`` multiplies the small profile's big files (benchmarks)."""
    if profile not in PROFILES:
        raise ValueError("profile must be one of %s" % ", ".join(PROFILES))
    contents = {(repo_id, path): content for repo_id, build in STAND_INS.items()
                for path, content in build(profile, scale).items()}
    digests = _digests(contents, cache_path)
    repos = {}
    for repo_id in STAND_INS:
        files = {path: RepoFile(path, content, digests[(rid, path)])
                 for (rid, path), content in contents.items() if rid == repo_id}
        repos[repo_id] = Repo(repo_id, files)
    return repos
