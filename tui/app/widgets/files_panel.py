"""The Files tab: the project's tree, folders filled in when opened, changed files marked."""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

_Dir = dict[str, "_Dir | None"]


class FilesPanel(Tree[str]):
    """Folders first; ``●`` marks a changed file and counts changes under a folder."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(".", data="", id=id)
        self._tree: _Dir = {}
        self.changed: set[str] = set()
        self.show_root = False
        self.guide_depth = 2

    def set_files(self, paths: list[str]) -> None:
        self._tree = {}
        self._add(paths)
        self._rebuild()

    def set_changed(self, paths: set[str]) -> None:
        self.changed = set(paths)
        self._add(paths)  # a file the agent created is part of the tree now
        self._rebuild()

    def _add(self, paths: Iterable[str]) -> None:
        for path in paths:
            node = self._tree
            parts = path.split("/")
            for part in parts[:-1]:
                child = node.setdefault(part, {})
                node = child if isinstance(child, dict) else {}
            node.setdefault(parts[-1], None)

    def _rebuild(self) -> None:
        expanded = {str(n.data) for n in self._walk(self.root) if n.is_expanded}
        self.clear()
        self._fill(self.root, self._tree, "", expanded)
        self.root.expand()

    def _walk(self, node: TreeNode[str]) -> list[TreeNode[str]]:
        out = [node]
        for child in node.children:
            out.extend(self._walk(child))
        return out

    def _label(self, name: str, path: str, is_dir: bool) -> Text:
        if is_dir:
            count = sum(1 for c in self.changed if c.startswith(path + "/"))
            label = Text(name + "/", style="bold")
            if count:
                label.append(f" ●{count}", style="yellow")
            return label
        if path in self.changed:
            return Text.assemble((name, "yellow"), (" ●", "yellow"))
        return Text(name)

    def _fill(self, node: TreeNode[str], tree: _Dir, prefix: str, expanded: set[str]) -> None:
        dirs = sorted(k for k, v in tree.items() if isinstance(v, dict))
        files = sorted(k for k, v in tree.items() if v is None)
        for name in dirs:
            path = f"{prefix}{name}"
            child = node.add(self._label(name, path, True), data=path)
            if path in expanded:
                self._fill(child, tree[name], f"{path}/", expanded)  # type: ignore[arg-type]
                child.expand()
            else:
                child.allow_expand = True
        for name in files:
            path = f"{prefix}{name}"
            node.add_leaf(self._label(name, path, False), data=path)

    def on_tree_node_expanded(self, event: Tree.NodeExpanded[str]) -> None:
        node = event.node
        if node is self.root or node.children:
            return
        sub: object = self._tree
        for part in str(node.data).split("/"):
            sub = sub.get(part) if isinstance(sub, dict) else None
        if isinstance(sub, dict):
            self._fill(node, sub, f"{node.data}/", set())
