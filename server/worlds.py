"""``POST /api/worlds``: a new world from words. The prompt is built into a scene (agent.worlds),
saved in the scenes folder under its own name, and served as a new session."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, StrictStr
from starlette.concurrency import run_in_threadpool

from agent.worlds import NothingToBuild, new_world
from server.manager import SessionLookupError
from server.routes import Admin, ApiError, Manager, SessionCreated

router = APIRouter(prefix="/api")


class NewWorld(BaseModel):
    """Body of ``POST /api/worlds``."""

    model_config = ConfigDict(extra="forbid", strict=True)

    prompt: StrictStr = Field(min_length=1, max_length=500, description="What the world holds, e.g. 'three balls "
                              "on a pool table'.")
    """What the world holds."""


class WorldCreated(SessionCreated):
    """The new session, and what building the world assumed or left to the renderer."""

    assumptions: list[str] = []
    """What was assumed where the words did not say."""
    renderer_only: list[str] = []
    """Words the physics cannot represent (shown by the video only)."""


def _save(manager, prompt: str) -> tuple[str, object]:
    built = new_world(prompt)
    name, k = built.scene.name, 1
    while (manager.scenes_dir / f"{name}.yaml").exists():
        k += 1
        name = f"{built.scene.name}-{k}"
    (manager.scenes_dir / f"{name}.yaml").write_text(built.yaml_text.replace(
        f"name: {built.scene.name}\n", f"name: {name}\n", 1), encoding="utf-8")
    return name, built


@router.post("/worlds", status_code=201, response_model=WorldCreated,
             summary="Build a world from words and serve it as a new session (needs the server key)")
async def create_world(body: NewWorld, manager: Manager, _: Admin) -> WorldCreated:
    try:
        name, built = await run_in_threadpool(_save, manager, body.prompt)
        s = await run_in_threadpool(manager.create, name, asyncio.get_running_loop())
    except NothingToBuild as exc:
        raise ApiError(422, "nothing_to_build", str(exc), "prompt", body.prompt[:80]) from None
    except SessionLookupError as exc:
        raise ApiError(exc.status, exc.code, str(exc), exc.field, exc.value) from None
    return WorldCreated(session=s.id, scene=s.scene_name, player_token=s.player_token,
                        spectator_token=s.spectator_token, ws_url=f"/ws/{s.id}",
                        player_url=f"/#session={s.id}&token={s.player_token}",
                        spectator_url=f"/#session={s.id}&token={s.spectator_token}",
                        assumptions=built.assumptions + built.settled, renderer_only=built.renderer_only)
