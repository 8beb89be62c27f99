"""OpenAI-style error bodies and the exception handlers that produce them."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from runtime.engine.errors import ContextLengthError, EngineError, RequestError


def error_body(message: str, type_: str = "invalid_request_error", code: str | None = None,
               param: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def error_response(status: int, message: str, type_: str = "invalid_request_error", code: str | None = None,
                   param: str | None = None) -> JSONResponse:
    return JSONResponse(error_body(message, type_, code, param), status_code=status)


def generation_error(message: str) -> tuple[int, dict[str, Any]]:
    """Status and body for a request that failed inside the engine."""
    if "out of memory" in message:
        return 503, error_body(message, "server_error", "out_of_memory")
    return 500, error_body(message, "server_error", "engine_error")


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        if first.get("type") == "json_invalid":
            return error_response(400, "request body is not valid JSON", code="invalid_json")
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        return error_response(400, f"{where or 'body'}: {first.get('msg', 'invalid value')}", param=where or None)

    @app.exception_handler(ContextLengthError)
    async def _too_long(_: Request, exc: ContextLengthError) -> JSONResponse:
        return error_response(400, str(exc), code="context_length_exceeded", param="messages")

    @app.exception_handler(RequestError)
    async def _bad(_: Request, exc: RequestError) -> JSONResponse:
        return error_response(400, str(exc))

    @app.exception_handler(EngineError)
    async def _engine(_: Request, exc: EngineError) -> JSONResponse:
        return error_response(500, str(exc), "server_error")

    @app.exception_handler(HTTPException)
    async def _http(_: Request, exc: HTTPException) -> JSONResponse:
        type_ = "not_found_error" if exc.status_code == 404 else "invalid_request_error"
        return error_response(exc.status_code, str(exc.detail), type_)
