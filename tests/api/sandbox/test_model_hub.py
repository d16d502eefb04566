"""huggingface_hub, unmodified, against the sandbox model hub (HF_ENDPOINT)."""

import hashlib
import os

import pytest

from tests.sandbox.control import ModelHub
from tests.sandbox.model_hub.repos import stand_in_repos

CHAT = "FunAudioLLM/Fun-Audio-Chat-8B"
VOICE = "FunAudioLLM/Fun-CosyVoice3-0.5B-2512"
REPOS = stand_in_repos()


@pytest.fixture(scope="module")
def hub_process():
    with ModelHub() as hub:
        yield hub


@pytest.fixture
def hub(hub_process, monkeypatch):
    """The hub with fresh stats, and huggingface_hub pointed at it (its constants read the env at import)."""
    from huggingface_hub import constants  # pylint: disable=import-outside-toplevel
    hub_process.clear_stats()
    monkeypatch.setattr(constants, "ENDPOINT", hub_process.url)
    monkeypatch.setattr(constants, "HUGGINGFACE_CO_URL_TEMPLATE", hub_process.url + "/{repo_id}/resolve/{revision}/{filename}")
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    return hub_process


def _sha256(path):
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def _downloads(stats):
    return [r for r in stats["requests"] if r["method"] == "GET" and "/resolve/" in r["path"]]


def test_snapshot_download_gets_every_file_intact(hub, tmp_path):
    from huggingface_hub import snapshot_download  # pylint: disable=import-outside-toplevel
    for repo_id in (CHAT, VOICE):
        target = snapshot_download(repo_id, local_dir=str(tmp_path / repo_id.split("/")[1]))
        for path, repo_file in REPOS[repo_id].files.items():
            assert _sha256(os.path.join(target, path)) == repo_file.sha256, path
    assert len(_downloads(hub.stats())) == len(REPOS[CHAT].files) + len(REPOS[VOICE].files)

    hub.clear_stats()
    snapshot_download(VOICE, local_dir=str(tmp_path / VOICE.split("/")[1]))
    assert _downloads(hub.stats()) == []  # complete files are not fetched again


def test_an_interrupted_download_resumes_where_it_stopped(monkeypatch, tmp_path):
    """The connection drops mid-file: the client asks for the rest with Range and the file ends up intact.

    huggingface_hub writes in 10 MiB chunks, so the file is made bigger than that
    (--scale 3: 18 MiB) and the cut comes after the first chunk.
    """
    from huggingface_hub import constants, hf_hub_download  # pylint: disable=import-outside-toplevel
    big = stand_in_repos(scale=3)[CHAT].files["model-00001-of-00002.safetensors"]
    cut = 2 * big.size // 3
    with ModelHub(extra_args=["--scale", "3"]) as hub:
        monkeypatch.setattr(constants, "ENDPOINT", hub.url)
        monkeypatch.setattr(constants, "HUGGINGFACE_CO_URL_TEMPLATE", hub.url + "/{repo_id}/resolve/{revision}/{filename}")
        hub.cut_next_download(after_bytes=cut)
        path = hf_hub_download(CHAT, big.path, local_dir=str(tmp_path))
        gets = _downloads(hub.stats())
    assert _sha256(path) == big.sha256
    assert [r["bytes"] for r in gets][0] == cut and gets[0]["range"] is None
    resumed_at = int(gets[1]["range"][len("bytes="):-1])
    assert 0 < resumed_at <= cut
    assert sum(r["bytes"] for r in gets) == big.size + (cut - resumed_at) < big.size + cut


def test_unknown_repo_revision_and_file_are_the_hubs_own_errors(hub, tmp_path):
    from huggingface_hub import errors, hf_hub_download, snapshot_download  # pylint: disable=import-outside-toplevel
    with pytest.raises(errors.RepositoryNotFoundError):
        snapshot_download("FunAudioLLM/Nope", local_dir=str(tmp_path / "a"))
    with pytest.raises(errors.RevisionNotFoundError):
        snapshot_download(CHAT, revision="v9", local_dir=str(tmp_path / "b"))
    with pytest.raises(errors.EntryNotFoundError):
        hf_hub_download(CHAT, "missing.bin", local_dir=str(tmp_path / "c"))


def test_a_gated_hub_needs_the_token(monkeypatch, tmp_path):
    from huggingface_hub import constants, errors, snapshot_download  # pylint: disable=import-outside-toplevel
    with ModelHub(token="hf_sandbox_secret") as gated:
        monkeypatch.setattr(constants, "ENDPOINT", gated.url)
        monkeypatch.setattr(constants, "HUGGINGFACE_CO_URL_TEMPLATE",
                            gated.url + "/{repo_id}/resolve/{revision}/{filename}")
        with pytest.raises(errors.GatedRepoError):
            snapshot_download(VOICE, local_dir=str(tmp_path / "anon"), token=False)
        target = snapshot_download(VOICE, local_dir=str(tmp_path / "auth"), token="hf_sandbox_secret")
        assert _sha256(os.path.join(target, "llm.pt")) == REPOS[VOICE].files["llm.pt"].sha256
