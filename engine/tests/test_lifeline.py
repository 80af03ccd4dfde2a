"""The engine stops when the keiko process that started it dies (stdin lifeline, parent-death signal)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def _serve(model: str, port: int, lifeline: bool) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k not in ("KEIKO_LIFELINE", "KEIKO_PARENT_PID")}
    env["PYTHONPATH"] = os.pathsep.join([os.path.dirname(os.path.dirname(__file__)), env.get("PYTHONPATH", "")])
    if lifeline:
        env["KEIKO_LIFELINE"] = "stdin"
    cmd = [sys.executable, "-m", "keiko_engine", "serve", "--model", model, "--port", str(port), "--threads", "1", "--reference", "none"]
    proc = subprocess.Popen(cmd, env=env, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None and not _healthy(port):
        time.sleep(0.2)
    assert _healthy(port), proc.stderr.read().decode() if proc.poll() is not None else "engine not healthy"
    return proc


def test_engine_exits_when_its_lifeline_closes(tiny_model_dir):
    port = _free_port()
    proc = _serve(tiny_model_dir, port, lifeline=True)
    try:
        proc.stdin.close()  # what the kernel does when keiko dies, even by SIGKILL
        assert proc.wait(timeout=30) is not None
        assert b"keiko process that started this engine is gone" in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()


def test_engine_started_by_hand_ignores_stdin(tiny_model_dir):
    port = _free_port()
    proc = _serve(tiny_model_dir, port, lifeline=False)
    try:
        proc.stdin.close()
        time.sleep(1.5)
        assert proc.poll() is None and _healthy(port)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
