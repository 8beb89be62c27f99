"""Arguments of the model's tools (pydantic: they become the JSON schemas the model sees)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ReadFileArgs(BaseModel):
    """Read a file of the repository, optionally only some lines."""

    path: str = Field(description="Repository-relative path of the file.")
    start_line: int | None = Field(default=None, ge=1, description="First line to show (1-based).")
    end_line: int | None = Field(default=None, ge=1, description="Last line to show (inclusive).")


class ListFilesArgs(BaseModel):
    """List the repository's files (secret and ignored files are left out)."""

    folder: str = Field(default="", description="Only files under this folder ('' for all).")
    pattern: str | None = Field(default=None, description="Glob on the file name, e.g. '*.py'.")


class SearchCodeArgs(BaseModel):
    """Search the code by words and identifiers; best matches first."""

    query: str = Field(description="Words, identifiers or a phrase to look for.")
    k: int = Field(default=10, ge=1, le=50, description="How many hits to return.")


class FindSymbolArgs(BaseModel):
    """Find where a function, class or variable is defined and used."""

    name: str = Field(description="The symbol; 'Class.method' narrows to one class.")


class EditFileArgs(BaseModel):
    """Replace one unique piece of a file's text by another."""

    path: str = Field(description="Repository-relative path of the file.")
    search: str = Field(description="The exact current text to replace, with enough lines to be unique.")
    replace: str = Field(description="The text to put instead.")


class WriteFileArgs(BaseModel):
    """Create a file, or replace a file's whole content."""

    path: str = Field(description="Repository-relative path of the file.")
    content: str = Field(description="The complete new content of the file.")


class DeleteFileArgs(BaseModel):
    """Delete a file of the repository."""

    path: str = Field(description="Repository-relative path of the file.")


class RunTestsArgs(BaseModel):
    """Run the project's tests in the sandbox (all of them, or the ids given)."""

    ids: list[str] = Field(default_factory=list,
                           description="Test ids or test files to run; empty runs the suite.")


class RunCommandArgs(BaseModel):
    """Run a shell command in the repository, sandboxed (no network)."""

    command: str = Field(description="The command line, run with /bin/sh -c in the repository root.")
    timeout_s: float | None = Field(default=None, gt=0, le=3600, description="Wall-clock limit.")


class RememberArgs(BaseModel):
    """Remember a durable fact about this project for future tasks."""

    text: str = Field(description="The fact, convention or command, in one or two sentences.")
    kind: str = Field(default="fact",
                      description="fact, convention, command, failure, fix or preference.")
