"""The fuzz test's parts: hostile values, the forms of a real page, the parameters a view reads."""

from __future__ import annotations

import inspect
import random
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

# Values that broke, or could break, a parser, a converter, a database or a header. A field
# that expects numbers, dates, times, time zones or links gets all of its kind.
NUMBERS = (
    "99999999999999999999", "-1", "9" * 5000, "1e309", "NaN", "²", "2147483648", "0",
    "-1e309", "inf", "1_000", "5.5",
)  # fmt: skip
DATES = (
    "0001-01-01", "9999-12-31", "0001-01-01T00:00", "9999-12-31T23:59:59-14:00", "0000-00-00",
    "10000-01-01", "2014-02-30", "2014-03-30T02:30", "2014-W01", "1e309-01-01",
)  # fmt: skip
TIMES = ("24:00", "23:59:60", "00:00", "-1:00", "00:10", "23:59:59.999999", "02:30")
NAMES = (
    "Europe", "Etc", "x" * 256, "../../../../etc/passwd", "Europe/Stockholm\x00", "Europe/",
    "posixrules", "localtime", "EUROPE/STOCKHOLM",
)  # fmt: skip
LINKS = (
    "/\r\nLocation: https://evil.example", "//evil.example", "/\t/evil.example",
    "/\\evil.example", "https://meet.example.se/\r\nX-Evil: 1", "javascript:alert(1)",
    "/ok\x00", "/\u2028",
)  # fmt: skip
UNICODE = (
    "\u202eevil\u202c", "مرحبا بالعالم", "שלום", "😀👍🏽👨\u200d👩\u200d👧",
    "e\u0301\u0301\u0301\u0301",
    "Z\u0351\u0352\u0353\u0354\u0355a\u0356\u0357l\u0358\u0359g\u035ao", "\x00", "a\x00b",
    "\r\n", "line\r\nX-Header: injected", "\x1b[31m", "\x7f\x80\x9f", "\u2028\u2029",
    "\ufeff", "\ud800", "\udfff", "\uffff", "\U0010ffff", "Åsa Öberg", "<script>x</script>",
    "' OR 1=1 --", "%s%n%x", "{{ 7*7 }}", "\t", " ", "",
)  # fmt: skip
# 100 KB each: mostly ASCII, so that the client's and the framework's percent-encoding of
# them (not the code under test) does not take most of the run.
_LONG = random.Random("oversized")
OVERSIZED = (
    "a" * 100_000,
    "9" * 100_000,
    "".join(
        _LONG.choices("abcdefghij ABC 0123456789" * 40 + "åä<>&\"'\u202e😀\r\n\x00", k=100_000)
    ),
)
POOLS = {
    "unicode": UNICODE,
    "numbers": NUMBERS,
    "dates": DATES,
    "times": TIMES,
    "names": NAMES,
    "links": LINKS,
}
CATEGORIES = ("random", "oversized", "unicode", "numbers", "dates", "names", "links")
CHARS = (
    [chr(c) for c in range(0x20, 0x7F)] * 4
    + [chr(c) for c in range(0, 0x20)]
    + list("åäöÅÄÖéü€ß\u202e\u200d\u0301\ufeff\u2028😀")
)


def kind_of(name: str, input_type: str = "") -> str | None:
    """The kind of value a field or parameter expects, from its name or input type."""
    if input_type == "url" or name == "next" or name.endswith("url"):
        return "links"
    if name == "timezone":
        return "names"
    if input_type == "time" or name in ("starts", "ends", "at"):
        return "times"
    if input_type == "date" or name in ("as_of", "day") or name.endswith(("_on", "_at")):
        return "dates"
    if input_type == "number" or name in ("page", "group", "pilot_group", "attended"):
        return "numbers"
    return None


class Values:
    """Hostile values, seeded: the same seed gives the same values in the same order."""

    def __init__(self, seed: str) -> None:
        self.rng = random.Random(seed)
        self._turn = self.rng.randrange(len(CATEGORIES))

    def next(self) -> str:
        """Return a value of the next category in turn, so every field sees each kind."""
        self._turn = (self._turn + 1) % len(CATEGORIES)
        return self.of(CATEGORIES[self._turn])

    def of(self, category: str) -> str:
        if category == "random":
            return "".join(self.rng.choices(CHARS, k=self.rng.randrange(1, 60)))
        if category == "oversized":
            return self.rng.choice(OVERSIZED)
        return self.rng.choice(POOLS[category])

    def upload(self) -> bytes:
        """Random bytes for a file field: half of the time text that looks like a list."""
        if self.rng.random() < 0.5:
            return bytes(self.rng.randrange(256) for _ in range(self.rng.randrange(1, 2000)))
        rows = [f"{self.next()};{self.next()}" for _ in range(self.rng.randrange(1, 5))]
        return ("E-post;Namn\n" + "\n".join(rows)).encode("utf-8", "surrogatepass")


@dataclass
class Form:
    """A form of a page: where it goes, its fields with their values, which of them are files."""

    action: str
    method: str
    fields: dict[str, list[str]] = field(default_factory=dict)
    files: set[str] = field(default_factory=set)
    types: dict[str, str] = field(default_factory=dict)  # the input's type, e.g. "date"

    def baseline(self) -> dict[str, str]:
        """A value for each field that a person filling it in would plausibly send."""
        return {
            name: (values or [""])[0]
            for name, values in self.fields.items()
            if name not in self.files
        }


# What a person would type in an empty field of each type (or name), so the others are valid.
PLAUSIBLE = {
    "date": "2014-03-20",
    "time": "09:00",
    "number": "5",
    "url": "https://meet.example.se/rum",
    "email": "fuzz@example.se",
    "password": "correct horse battery staple",
    "checkbox": "y",
    "ends": "10:00",  # after "starts"
}


class _FormParser(HTMLParser):
    def __init__(self, page_url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page_url = page_url
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            action = urljoin(self.page_url, a.get("action") or self.page_url)
            self._form = Form(urlsplit(action).path, (a.get("method") or "get").upper())
            self.forms.append(self._form)
        elif tag == "option" and self._form is not None and self._select:
            self._add(self._select, a.get("value", ""), prefer="selected" in a)
        elif self._form is None or not a.get("name"):
            return
        elif tag == "input":
            kind = a.get("type", "text").lower()
            self._form.types[a["name"]] = kind
            if kind == "file":
                self._form.files.add(a["name"])
            value = a.get("value") or PLAUSIBLE.get(a["name"]) or PLAUSIBLE.get(kind, "Test")
            self._add(a["name"], value, prefer=kind != "checkbox" or "checked" in a)
        elif tag == "button":
            self._add(a["name"], a.get("value", ""))
        elif tag == "select":
            self._select = a["name"]
            self._form.fields.setdefault(a["name"], [])
        elif tag == "textarea":
            self._textarea = a["name"]
            self._form.fields.setdefault(a["name"], [])

    def handle_data(self, data: str) -> None:
        if self._form is not None and self._textarea and data.strip():
            self._add(self._textarea, data, prefer=True)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            if self._form is not None and self._textarea and not self._form.fields[self._textarea]:
                self._form.fields[self._textarea] = ["Test"]
            self._textarea = None

    def _add(self, name: str, value: str, prefer: bool = False) -> None:
        assert self._form is not None
        values = self._form.fields.setdefault(name, [])
        if value in values:
            return
        # A selected option, a checked box or a filled field comes first: it is the baseline;
        # an empty option ("choose…") comes last.
        if prefer or (values and values[0] == "" and value):
            values.insert(0, value)
        else:
            values.append(value)


def forms_of(html: str, page_url: str) -> list[Form]:
    """Return the forms of a page, with the action of each as a path."""
    parser = _FormParser(page_url)
    parser.feed(html)
    return parser.forms


_ARGS = re.compile(r"request\.args\.get\(\s*\"(\w+)\"")
_FORM = re.compile(r"request\.form(?:\.get|\.getlist)?\(\s*\"([\w-]+)\"")
_CALLS = re.compile(r"\b(_?\w+)\(")


def read_by(view: Any) -> tuple[set[str], set[str]]:
    """Return the query and form parameters a view reads by name, itself or through the
    functions of its module it calls (two calls deep)."""
    view = inspect.unwrap(view)
    module = inspect.getmodule(view)
    sources, seen, todo = [], set(), [view]
    for _depth in range(3):
        found = []
        for function in todo:
            if function in seen:
                continue
            seen.add(function)
            source = inspect.getsource(function)
            sources.append(source)
            for name in _CALLS.findall(source):
                called = getattr(module, name, None)
                if inspect.isfunction(called) and called.__module__ == view.__module__:
                    found.append(called)
        todo = found
    text = "\n".join(sources)
    return set(_ARGS.findall(text)), set(_FORM.findall(text))
