"""Search: identifier-normalized BM25 and exact symbol lookup."""

from __future__ import annotations

from indexer.search import terms


def test_terms_split_identifiers() -> None:
    assert terms("parseHTTPResponse") == ["parse", "http", "response", "parsehttpresponse"]
    assert terms("parse_http_response") == ["parse", "http", "response"]
    assert "the" not in terms("how is the cache written")


def test_camel_and_snake_find_each_other(make_repo, open_index) -> None:
    index = open_index(make_repo({
        "net/http.py": "def parse_http_response(raw):\n    '''Decode a response.'''\n    return raw\n",
        "web/client.ts": "export function sendHttpRequest(url: string) { return url; }\n",
        "misc/other.py": "def unrelated():\n    pass\n",
    }))
    hits = index.search("parseHttpResponse")
    assert hits[0].symbol == "parse_http_response" and hits[0].path == "net/http.py"
    assert hits[0].line == 1 and hits[0].snippet.startswith("def parse_http_response")
    hits = index.search("send http request")
    assert hits[0].symbol == "sendHttpRequest"


def test_exact_symbol_comes_first(make_repo, open_index) -> None:
    index = open_index(make_repo({
        "a.py": "def load():\n    '''load load load the loader'''\n",
        "b.py": "def loader_for_load_of_load():\n    pass\n",
    }))
    assert index.search("load", k=1)[0].symbol == "load"
    assert index.search("b.loader_for_load_of_load")[0].path == "b.py"


def test_k_limits_results(make_repo, open_index) -> None:
    files = {f"m{i}.py": f"def handler_{i}():\n    pass\n" for i in range(20)}
    index = open_index(make_repo(files))
    assert len(index.search("handler", k=5)) == 5
    assert index.search("zzz_not_there") == []


def test_qualified_name_prefers_its_owner(make_repo, open_index) -> None:
    index = open_index(make_repo({
        "c.py": "class Other:\n    def load(self):\n        pass\n\n\nclass Loader:\n    def load(self):\n        pass\n",
    }))
    first = index.search("Loader.load")[0]
    assert (first.symbol, first.line) == ("load", 7)
