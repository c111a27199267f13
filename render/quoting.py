r"""Escape author text for DOT and Mermaid: small pure functions, each with doctests.

Authors write questions, choices and outcomes in YAML; any of it may hold quotes,
backslashes, angle brackets, pipes, `end`, `-->`, `%%` or newlines. Nothing an author
writes is ever used as an identifier: node ids in both outputs are generated (`n0`,
`n1`, ...), so only labels and tooltips pass through here.

DOT: every label and tooltip is a double-quoted escString (never an HTML-like label),
so `<b>` stays literal text. Backslashes are doubled (Graphviz would read `\N`, `\l`
etc. as escapes), quotes become `\"`, and line breaks become `\n` (centred lines).

Mermaid: labels are written as `["..."]` (or `|"..."|` on edges). Inside them every
character that could end the string, open markup or start an entity is replaced by a
Mermaid entity code (`#quot;`, `#lt;`, `#35;`, ...), and line breaks become `<br/>`.

>>> dot_escape('say "hi" \\ <b>')
'say \\"hi\\" \\\\ <b>'
>>> mermaid_escape('a "b" | end')
'a #quot;b#quot; #124; end'
"""

from __future__ import annotations

import re
import textwrap

WRAP_WIDTH = 30

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean(text: object) -> str:
    r"""Normalise author text: str() it, unify line ends, tabs to spaces, drop other
    control characters and trailing blanks.

    >>> clean("a\r\nb\tc\x07")
    'a\nb c'
    >>> clean(None)
    ''
    >>> clean(3.0)
    '3.0'
    """
    if text is None:
        return ""
    s = str(text).replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    s = _CONTROL.sub("", s)
    return "\n".join(line.rstrip() for line in s.split("\n")).strip("\n")


def wrap(text: object, width: int = WRAP_WIDTH) -> list[str]:
    """Split text into lines of at most about `width` characters, keeping the author's
    own line breaks; long words are not broken (URLs stay whole).

    >>> wrap("Do we share a goal that none of us can reach alone?")
    ['Do we share a goal that none', 'of us can reach alone?']
    >>> wrap("one\\ntwo")
    ['one', 'two']
    >>> wrap("")
    []
    """
    out: list[str] = []
    for para in clean(text).split("\n"):
        if not para.strip():
            if out:
                out.append("")
            continue
        out.extend(
            textwrap.wrap(para, width, break_long_words=False, break_on_hyphens=False)
            or [para]
        )
    while out and out[-1] == "":
        out.pop()
    return out


def truncate(text: object, limit: int = 200) -> str:
    """Cut text to `limit` characters with an ellipsis.

    >>> truncate("abcdef", 4)
    'abc…'
    >>> truncate("abc", 4)
    'abc'
    """
    s = clean(text)
    return s if len(s) <= limit else s[: limit - 1] + "…"


# ---------------------------------------------------------------- DOT


def dot_escape(text: object) -> str:
    r"""One line of author text as the inside of a DOT double-quoted escString.

    >>> print(dot_escape('He said "no"'))
    He said \"no\"
    >>> print(dot_escape('C:\\temp\\new'))
    C:\\temp\\new
    >>> print(dot_escape('\\N is not the node name'))
    \\N is not the node name
    >>> print(dot_escape('two\nlines'))
    two\nlines
    """
    s = clean(text)
    return s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def dot_lines(lines: list[str]) -> str:
    r"""Several lines as one escString body, centred (`\n` between lines).

    >>> print(dot_lines(['a "q"', 'b\\c']))
    a \"q\"\nb\\c
    """
    return "\\n".join(dot_escape(line) for line in lines)


def dot_label(text: object, width: int = WRAP_WIDTH) -> str:
    r"""Author text wrapped at `width` and escaped for a DOT label.

    >>> print(dot_label('Is the <b>goal</b> shared by "all" of us, really?'))
    Is the <b>goal</b> shared by\n\"all\" of us, really?
    """
    return dot_lines(wrap(text, width))


def dot_quote(body: str) -> str:
    r"""Wrap an escaped body in double quotes: a complete DOT string.

    >>> print(dot_quote(dot_escape('a"b')))
    "a\"b"
    """
    return f'"{body}"'


# ---------------------------------------------------------------- Mermaid

_MERMAID_ENTITIES = {
    "#": "#35;",  # first: entity codes start with '#'
    "&": "#amp;",
    '"': "#quot;",
    "<": "#lt;",
    ">": "#gt;",
    "`": "#96;",
    "|": "#124;",
    "[": "#91;",
    "]": "#93;",
    "{": "#123;",
    "}": "#125;",
    "(": "#40;",
    ")": "#41;",
    "%": "#37;",
    "\\": "#92;",
}
_MERMAID_RE = re.compile("|".join(re.escape(k) for k in _MERMAID_ENTITIES))


def mermaid_escape(text: object) -> str:
    """One line of author text for the inside of a Mermaid `"..."` label.

    Everything that could close the string, open markup, start an entity or a
    comment is written as an entity code; the rest passes through.

    >>> mermaid_escape('<b>x</b>')
    '#lt;b#gt;x#lt;/b#gt;'
    >>> mermaid_escape('a --> b %% c')
    'a --#gt; b #37;#37; c'
    >>> mermaid_escape('#quot; stays literal')
    '#35;quot; stays literal'
    >>> mermaid_escape('`md` & [x]')
    '#96;md#96; #amp; #91;x#93;'
    """
    return _MERMAID_RE.sub(lambda m: _MERMAID_ENTITIES[m.group(0)], clean(text).replace("\n", " "))


def mermaid_lines(lines: list[str]) -> str:
    """Several lines as one Mermaid label body, joined by `<br/>`.

    >>> mermaid_lines(['a "b"', 'c'])
    'a #quot;b#quot;<br/>c'
    """
    return "<br/>".join(mermaid_escape(line) for line in lines)


def mermaid_label(text: object, width: int = WRAP_WIDTH) -> str:
    """Author text wrapped at `width` and escaped for a Mermaid label.

    >>> mermaid_label('Shall we end here? "yes" | "no"', 20)
    'Shall we end here?<br/>#quot;yes#quot; #124; #quot;no#quot;'
    """
    return mermaid_lines(wrap(text, width))


def mermaid_quote(body: str) -> str:
    """Wrap an escaped body in double quotes for `["..."]` or `|"..."|`.

    >>> mermaid_quote(mermaid_escape('x"y'))
    '"x#quot;y"'
    """
    return f'"{body}"'
