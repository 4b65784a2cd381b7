"""LaTeX markup out of abstracts, at parse time: ``10\\%`` -> ``10%``, ````recalibrate''`` ->
``“recalibrate”``, ``Fr\\'echet`` -> ``Fréchet``, ``\\emph{scan and snap}`` -> ``scan and snap``,
``$O(n^2)$`` -> ``O(n^2)``, ``3.3times`` (a ``$\\times$`` whose markup a page dump stripped) ->
``3.3×``.

The normalised text is the abstract: what is shown, embedded, searched, quoted and verified, so a
quote is always a verbatim span of what the reader sees. The source's own text is kept beside it
(``Paper.abstract_raw``) for provenance. Pure and idempotent; unknown author macros
(``\\ours``, ``\\method{}``) keep their name without the backslash, and text that is not markup
(a price such as ``$200``, a number range ``2.97~25.22x``) is left alone.
"""

from __future__ import annotations

import re
import unicodedata

# accent commands -> combining marks (\'e, \'{e}, {\'e}, \"\i)
_ACCENTS = {"'": "\u0301", "`": "\u0300", '"': "\u0308", "^": "\u0302", "~": "\u0303", "=": "\u0304",
            ".": "\u0307", "u": "\u0306", "v": "\u030c", "H": "\u030b", "c": "\u0327", "k": "\u0328"}
_ACCENT = re.compile(r"(\{)?\\(?:([`'\"^~=.])\s*|([uvHck])(?=\{))(?:\{(\\i|[A-Za-z])\}|(\\i|[A-Za-z]))(?(1)\})")
_ESCAPED = re.compile(r"\\([%$&#_{}])")
# \cmd{text} whose text stays (font, emphasis, text-in-math)
_WRAPPERS = re.compile(r"\\(?:emph|textit|textbf|texttt|textsc|textrm|textsf|textsl|textup|textnormal|underline|"
                       r"mbox|text|mathrm|mathbf|mathit|mathsf|mathtt|mathcal|mathbb|operatorname|bm)\s*\{([^{}]*)\}")
_COLOR = re.compile(r"\\textcolor\s*(?:\[[^\]]*\])?\s*\{[^{}]*\}\s*\{([^{}]*)\}")
_DROP = re.compile(r"\\(?:color\s*(?:\[[^\]]*\])?\s*\{[^{}]*\}|noindent|xspace|/)")
_DECLARATIONS = re.compile(r"\{\\(?:bf|em|it|sc|tt|rm|sf|sl|bfseries|itshape|scshape)\s+([^{}]*)\}")
# closed by '' or, as some authors type it, by " (not across a sentence's end)
_QUOTED = re.compile(r"``((?:[^`'\"]|'(?!')){1,200}?)(?:''|\")")
# inline math: only when it looks like math, so "$200 ... $5" stays two prices
_MATH = re.compile(r"(?<![\\$])\$(?!\s)([^$]{1,80}?)(?<![\s\\])\$")
_MATH_HINT = re.compile(r"[\\^_{]")
_SYMBOLS = {
    "times": "×", "sim": "~", "approx": "≈", "leq": "≤", "le": "≤", "geq": "≥", "ge": "≥", "neq": "≠",
    "pm": "±", "mp": "∓", "cdot": "·", "cdots": "⋯", "ldots": "…", "dots": "…", "infty": "∞",
    "rightarrow": "→", "to": "→", "leftarrow": "←", "Rightarrow": "⇒", "leftrightarrow": "↔",
    "uparrow": "↑", "downarrow": "↓", "in": "∈", "propto": "∝", "ell": "ℓ", "circ": "∘", "deg": "°",
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "varepsilon": "ε", "zeta": "ζ",
    "eta": "η", "theta": "θ", "lambda": "λ", "mu": "μ", "nu": "ν", "xi": "ξ", "pi": "π", "rho": "ρ",
    "sigma": "σ", "tau": "τ", "phi": "φ", "varphi": "φ", "chi": "χ", "psi": "ψ", "omega": "ω",
    "Gamma": "Γ", "Delta": "Δ", "Theta": "Θ", "Lambda": "Λ", "Sigma": "Σ", "Phi": "Φ", "Omega": "Ω",
}
_SYMBOL = re.compile(r"\\(" + "|".join(sorted(_SYMBOLS, key=len, reverse=True)) + r")(?![A-Za-z])\s?")
_ABBREVIATIONS = {"ie": "i.e.", "eg": "e.g.", "etal": "et al.", "etc": "etc.", "wrt": "w.r.t.", "vs": "vs."}
_ABBREVIATION = re.compile(r"\\(" + "|".join(_ABBREVIATIONS) + r")(?![A-Za-z])(?:\{\})?\.?")
# what a page dump left of $\times$ / $\rightarrow$: "3.3times", "COrrection rightarrow ModificatIon"
_BARE_TIMES = re.compile(r"(?<=\d)times(?![A-Za-z])")
_BARE_ARROW = re.compile(r"(?<![A-Za-z\\])(rightarrow|leftarrow)(?![A-Za-z])")
_URL_SLASH = re.compile(r"\\(?=https?://)")
_MACRO = re.compile(r"\\([A-Za-z]{2,})(?:\{\})?")
_LINE_BREAK = re.compile(r"\\\\")
# LaTeX's tie (a non-breaking space) between words; "2.97~25.22x" / "1M~60M" are ranges, kept
_TIE = re.compile(r"([^\s~]*[A-Za-z0-9])~(?=[A-Za-z0-9(\\])")
_NUMBERISH = re.compile(r"^[\d.,]+[A-Za-z]{0,2}$")
_SPACES = re.compile(r"[ ]{2,}")


def _accent(m: re.Match[str]) -> str:
    mark = _ACCENTS[m[2] or m[3]]
    base = m[4] or m[5]
    base = "i" if base == "\\i" else base
    return unicodedata.normalize("NFC", base + mark)


def _math(m: re.Match[str]) -> str:
    body = m[1]
    if not _MATH_HINT.search(body):
        return m[0]
    return body


def _tie(m: re.Match[str]) -> str:
    before = m[1]
    return f"{before}~" if _NUMBERISH.match(before) else f"{before} "


def _until_stable(pattern: re.Pattern[str], repl, text: str) -> str:
    """Apply ``pattern`` until nothing changes (nested wrappers: \\emph{\\textbf{x}})."""
    for _ in range(8):
        new = pattern.sub(repl, text)
        if new == text:
            return new
        text = new
    return text


def normalise_latex(text: str) -> str:
    """``text`` with LaTeX markup turned into the characters it stands for (see the module doc)."""
    if "\\" not in text and "$" not in text and "`" not in text and "~" not in text and "times" not in text \
            and "arrow" not in text:
        return text
    out = _TIE.sub(_tie, text)  # first: "~" from \sim below is not a tie
    out = _ACCENT.sub(_accent, out)
    out = _QUOTED.sub(lambda m: f"\u201c{m[1]}\u201d", out)
    out = _MATH.sub(_math, out)
    out = _until_stable(_COLOR, r"\1", out)
    out = _until_stable(_WRAPPERS, r"\1", out)
    out = _until_stable(_DECLARATIONS, r"\1", out)
    out = _DROP.sub("", out)
    out = _SYMBOL.sub(lambda m: _SYMBOLS[m[1]] + (" " if m[0].endswith(" ") else ""), out)
    out = _ABBREVIATION.sub(lambda m: _ABBREVIATIONS[m[1]], out)
    out = _URL_SLASH.sub("", out)
    out = _LINE_BREAK.sub(" ", out)
    out = _ESCAPED.sub(r"\1", out)
    out = _MACRO.sub(r"\1", out)
    out = _BARE_TIMES.sub("×", out)
    out = _BARE_ARROW.sub(lambda m: "→" if m[1] == "rightarrow" else "←", out)
    return _SPACES.sub(" ", out).strip()
