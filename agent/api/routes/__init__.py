"""One ``APIRouter`` per resource; ``agent.api.app`` mounts them under ``/v1``."""
