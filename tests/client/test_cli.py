import asyncio
import io
import os
import signal
import sys
from pathlib import Path

import pytest

from client.cli import Progress, main
from client.models import InProgress, Queued
from tests.client.conftest import REQUEST_ID, TOKEN, ScriptedApi

ROOT = Path(__file__).resolve().parents[2]
POLL = ["--poll-min", "0.01", "--poll-max", "0.02"]
VIDEO = "https://cdn.example/out.mp4"


def running_then_done(api: ScriptedApi) -> None:
    api.results = [
        {"request_id": REQUEST_ID, "status": "in_queue", "queue_position": 2},
        {"request_id": REQUEST_ID, "status": "in_progress"},
        {"request_id": REQUEST_ID, "status": "completed", "output": {"video": VIDEO}},
    ]


@pytest.fixture
def api_env(scripted: tuple[ScriptedApi, str], monkeypatch: pytest.MonkeyPatch) -> tuple[ScriptedApi, str]:
    api, base = scripted
    monkeypatch.setenv("RUNCOMFY_API_TOKEN", TOKEN)
    monkeypatch.setenv("RUNCOMFY_API_BASE", base)
    return api, base


async def run_cli(*argv: str) -> int:
    """``main`` runs its own event loop: run it in a thread while the test's loop serves the API."""
    return await asyncio.to_thread(main, list(argv))


def animate_args(base: str, *extra: str, image: str = "640x480.png") -> list[str]:
    return ["animate", "--image", f"{base}/images/{image}", "--prompt", "a cat waves", *POLL, *extra]


async def test_animate_prints_the_video_url_last_and_shows_progress(
    api_env: tuple[ScriptedApi, str], capsys: pytest.CaptureFixture[str]
) -> None:
    api, base = api_env
    running_then_done(api)
    code = await run_cli(*animate_args(base, "--resolution", "720p", "--duration", "10"))
    out, err = capsys.readouterr()
    assert code == 0
    assert out.splitlines()[-1] == VIDEO
    assert "in_queue (position 2)" in err
    assert "in_progress" in err
    assert api.submitted == [
        {
            "prompt": "a cat waves",
            "first_frame_image_url": f"{base}/images/640x480.png",
            "resolution": "720p",
            "duration": 10,
        }
    ]
    assert set(api.authorizations) == {f"Bearer {TOKEN}"}
    assert TOKEN not in out + err


@pytest.mark.parametrize(
    ("extra", "image", "expected"),
    [
        (["--prompt", "x" * 1901], "640x480.png", "--prompt"),
        (["--prompt", "   "], "640x480.png", "blank"),
        ([], "200x480.png", "must not be less than 300 pixels"),
        ([], "1000x2500.png", "aspect ratio"),
        ([], "missing.png", "HTTP 404"),
        (["--last-frame", "http://127.0.0.1:1/x.png"], "640x480.png", "--last-frame"),
        (["--resolution", "4k"], "640x480.png", "invalid choice"),
        (["--duration", "7"], "640x480.png", "invalid choice"),
    ],
)
async def test_bad_input_is_one_line_exit_2_and_nothing_is_submitted(
    api_env: tuple[ScriptedApi, str],
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    image: str,
    expected: str,
) -> None:
    api, base = api_env
    code = await run_cli(*animate_args(base, *extra, image=image))
    out, err = capsys.readouterr()
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert expected in err
    assert out == ""
    assert api.hits["submit"] == 0


async def test_prompt_of_1900_chars_is_submitted(
    api_env: tuple[ScriptedApi, str], capsys: pytest.CaptureFixture[str]
) -> None:
    api, base = api_env
    running_then_done(api)
    assert await run_cli(*animate_args(base, "--prompt", "y" * 1900)) == 0
    assert len(api.submitted[0]["prompt"]) == 1900


async def test_missing_token_is_one_line_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.delenv("RUNCOMFY_API_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)
    assert main(["status", REQUEST_ID]) == 2
    assert capsys.readouterr().err == "error: RUNCOMFY_API_TOKEN is not set (in the environment or .env)\n"


async def test_the_token_and_base_are_read_from_dot_env(
    scripted: tuple[ScriptedApi, str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    api, base = scripted
    monkeypatch.delenv("RUNCOMFY_API_TOKEN", raising=False)
    monkeypatch.delenv("RUNCOMFY_API_BASE", raising=False)
    dot_env = f"RUNCOMFY_API_TOKEN={TOKEN}\nRUNCOMFY_API_BASE={base}\n"
    (tmp_path / ".env").write_text(dot_env, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    api.results = [{"request_id": REQUEST_ID, "status": "in_progress"}]
    assert await run_cli("status", REQUEST_ID) == 0
    assert capsys.readouterr().out.strip() == "in_progress"
    assert set(api.authorizations) == {f"Bearer {TOKEN}"}


@pytest.mark.parametrize("option", ["--image", "--last-frame"])
async def test_data_uris_are_refused_up_front_and_never_offered(
    api_env: tuple[ScriptedApi, str], capsys: pytest.CaptureFixture[str], option: str
) -> None:
    api, base = api_env
    args = animate_args(base)
    uri = "data:image/png;base64,iVBORw0KGgo="
    if option == "--image":
        args[args.index("--image") + 1] = uri
    else:
        args += ["--last-frame", uri]
    assert await run_cli(*args) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {option}: must be a public https URL; data: URIs are not accepted")
    assert api.hits["submit"] == 0
    assert not api.hits["image"]


async def test_help_never_offers_data_uris(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["animate", "--help"]) == 0
    assert "data: URIs are not accepted" in " ".join(capsys.readouterr().out.split())


async def test_no_message_carries_pydantics_value_error_prefix(
    api_env: tuple[ScriptedApi, str], capsys: pytest.CaptureFixture[str]
) -> None:
    _, base = api_env
    assert await run_cli(*animate_args(base, "--prompt", "   ")) == 2
    err = capsys.readouterr().err
    assert "blank" in err
    assert "Value error" not in err


async def test_api_failure_is_one_line_exit_1_without_token(
    api_env: tuple[ScriptedApi, str], capsys: pytest.CaptureFixture[str]
) -> None:
    api, base = api_env
    api.submit_error = (402, {"error_code": 400002, "error_message": f"no balance left for {TOKEN}"})
    code = await run_cli(*animate_args(base))
    _, err = capsys.readouterr()
    assert code == 1
    assert err.strip().splitlines()[-1].startswith("error: no balance left")
    assert "Traceback" not in err
    assert TOKEN not in err


async def test_a_failed_job_exits_1_with_its_error(
    api_env: tuple[ScriptedApi, str], capsys: pytest.CaptureFixture[str]
) -> None:
    api, base = api_env
    api.results = [{"request_id": REQUEST_ID, "status": "failed", "error": "content policy"}]
    assert await run_cli(*animate_args(base)) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert "failed at RunComfy: content policy" in err


async def test_status_prints_the_state_and_the_video(
    api_env: tuple[ScriptedApi, str], capsys: pytest.CaptureFixture[str]
) -> None:
    api, _ = api_env
    api.results = [{"request_id": REQUEST_ID, "status": "completed", "output": {"videos": [VIDEO]}}]
    assert await run_cli("status", REQUEST_ID) == 0
    assert capsys.readouterr().out.splitlines() == ["completed", VIDEO]


async def test_status_of_an_unsafe_id_is_bad_input(
    api_env: tuple[ScriptedApi, str], capsys: pytest.CaptureFixture[str]
) -> None:
    api, _ = api_env
    assert await run_cli("status", "../admin") == 2
    assert "request id" in capsys.readouterr().err
    assert not api.hits


@pytest.mark.parametrize(("outcome", "code"), [("cancelled", 0), ("not_cancellable", 1)])
async def test_cancel_reports_the_outcome(
    api_env: tuple[ScriptedApi, str], capsys: pytest.CaptureFixture[str], outcome: str, code: int
) -> None:
    api, _ = api_env
    api.cancel_answer = {"request_id": REQUEST_ID, "status": "in_queue", "outcome": outcome}
    assert await run_cli("cancel", REQUEST_ID) == code
    out, err = capsys.readouterr()
    assert (out + err).startswith("cancelled" if code == 0 else "not cancellable")
    assert api.hits["cancel"] == 1


async def start_cli(base: str, *argv: str) -> asyncio.subprocess.Process:
    env = {**os.environ, "RUNCOMFY_API_TOKEN": TOKEN, "RUNCOMFY_API_BASE": base}
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "client",
        *argv,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def test_subprocess_animate_succeeds(scripted: tuple[ScriptedApi, str]) -> None:
    api, base = scripted
    running_then_done(api)
    process = await start_cli(base, *animate_args(base))
    out, err = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 0, err.decode()
    assert out.decode().splitlines()[-1] == VIDEO


async def test_subprocess_ctrl_c_while_queued_cancels_remotely(scripted: tuple[ScriptedApi, str]) -> None:
    api, base = scripted
    process = await start_cli(base, *animate_args(base))
    await asyncio.wait_for(api.polled.wait(), timeout=30)
    process.send_signal(signal.SIGINT)
    out, err = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 130, err.decode()
    assert api.hits["cancel"] == 1
    assert "was cancelled at RunComfy" in err.decode()
    assert out == b""


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


async def test_progress_on_a_terminal_is_a_live_status_line() -> None:
    stream = FakeTerminal()
    progress = Progress(stream)
    progress.show(Queued(3))
    progress.close()
    assert "in_queue (position 3)" in stream.getvalue()
    plain = io.StringIO()
    Progress(plain).show(InProgress())
    assert plain.getvalue().startswith("in_progress — ")
