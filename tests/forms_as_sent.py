"""A form as a browser sends it: read from the page's HTML, each field with the value shown.

A select with no option marked `selected` sends its first option, as a browser does: that is
how a form that does not show a stored value changes it on a save that changed nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

TEXT_TYPES = {
    "text", "hidden", "date", "time", "number", "email", "url", "search", "tel",
    "datetime-local", "password",
}  # fmt: skip


@dataclass
class _Select:
    name: str
    multiple: bool
    options: list[tuple[str, bool]] = field(default_factory=list)  # (value, selected)

    def sent(self) -> list[str]:
        """The values a browser sends: the selected options, else the first one."""
        chosen = [value for value, selected in self.options if selected]
        if chosen or self.multiple:
            return chosen
        return [self.options[0][0]] if self.options else []


@dataclass
class Form:
    method: str
    action: str
    fields: list[tuple[str, str]] = field(default_factory=list)
    names: set[str] = field(default_factory=set)  # every control's name, sent or not
    submit: tuple[str, str] | None = None  # the first named submit button

    def data(self) -> list[tuple[str, str]]:
        """The pairs a browser posts when the first submit button is pressed."""
        return self.fields + ([self.submit] if self.submit else [])


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._select: _Select | None = None
        self._option: list[str] | None = None  # value, then whether selected
        self._option_text: list[str] = []
        self._textarea: tuple[str, list[str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(a.get("method", "get").lower(), a.get("action", "")))
        elif not self.forms or "disabled" in a:
            return
        elif tag == "input":
            self._input(a)
        elif tag == "button":
            self._button(a)
        elif tag == "select":
            self._select = _Select(a.get("name", ""), "multiple" in a)
        elif tag == "option" and self._select is not None:
            self._option = [a.get("value", "\0"), "selected" if "selected" in a else ""]
            self._option_text = []
        elif tag == "textarea":
            self._textarea = (a.get("name", ""), [])

    def _input(self, a: dict[str, str]) -> None:
        form, name, kind = self.forms[-1], a.get("name"), a.get("type", "text").lower()
        if not name:
            return
        form.names.add(name)
        if kind in TEXT_TYPES:
            form.fields.append((name, a.get("value", "")))
        elif kind in ("checkbox", "radio") and "checked" in a:
            form.fields.append((name, a.get("value", "on")))
        elif kind == "submit" and form.submit is None:
            form.submit = (name, a.get("value", ""))

    def _button(self, a: dict[str, str]) -> None:
        form = self.forms[-1]
        if a.get("type", "submit") == "submit" and a.get("name") and form.submit is None:
            form.submit = (a["name"], a.get("value", ""))

    def handle_data(self, data: str) -> None:
        if self._option is not None:
            self._option_text.append(data)
        if self._textarea is not None:
            self._textarea[1].append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "option" and self._option is not None and self._select is not None:
            value = self._option[0]
            if value == "\0":
                value = "".join(self._option_text).strip()
            self._select.options.append((value, bool(self._option[1])))
            self._option = None
        elif tag == "select" and self._select is not None:
            self._close_select(self._select)
        elif tag == "textarea" and self._textarea is not None:
            name, text = self._textarea
            # A browser drops the one newline right after <textarea>.
            value = "".join(text).replace("\r\n", "\n")
            value = value[1:] if value.startswith("\n") else value
            # ... and sends its line ends as CRLF.
            self.forms[-1].fields.append((name, value.replace("\n", "\r\n")))
            self.forms[-1].names.add(name)
            self._textarea = None

    def _close_select(self, select: _Select) -> None:
        form = self.forms[-1]
        form.names.add(select.name)
        form.fields += [(select.name, value) for value in select.sent()]
        self._select = None


def forms_of(html: str) -> list[Form]:
    """Return every form of the page, each with what a browser would send."""
    parser = _FormParser()
    parser.feed(html)
    return parser.forms


def form_with(html: str, name: str) -> Form:
    """Return the page's POST form that has a control named `name`."""
    found = [f for f in forms_of(html) if f.method == "post" and name in f.names]
    assert found, f"no POST form with a field {name!r}"
    return found[0]
