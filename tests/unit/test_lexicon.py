"""The lexicon: its readers agree on the words they share, and no other module of ``rag/`` keeps
a word list of its own.

Where two readers of one meaning differ (the negation lists), the difference is written out here
as an asserted set: a word added to one list and not the other fails this test until someone
decides, here, whether the difference is meant.
"""

from __future__ import annotations

import ast
import re

import pytest
from helpers import REPO

from rag.question.read import read_text
from rag.text import lexicon as L
from rag.text.analysis import polarity, stem
from rag.text.claims import claim_direction


def parse_property(question: str):
    return read_text(question).property

RAG = REPO / "rag"

# --- negation: four readers, one meaning, asserted differences ------------------------------------
# Words the readers of "not there" do not share. Found as they were when the lists were gathered
# into the lexicon (issue 24) and kept, so answers stay identical; change one only with a before /
# after snapshot of the gold answers (eval/results/lexicon-neutral.md).
NOT_ABSENCE_CUES = {"not", "none", "neither"}  # a question's "do not" is read by QUESTION_NEGATION
NOT_DIRECTION_NEGATORS = {"none"}
ABSENCE_ONLY = {"needless", "reduction", "shortening", "removal", "elimination"}  # nouns and "needless"
DIRECTION_ONLY = {"little", "hardly", "cannot", "don", "doesn", "didn", "isn", "aren"}  # weak negators, contractions


def test_grammatical_negators_are_known_to_every_negation_reader_or_listed():
    assert L.GRAMMATICAL_NEGATORS <= L.POLARITY_NEGATORS
    assert L.GRAMMATICAL_NEGATORS - L.ABSENCE_CUE_WORDS == NOT_ABSENCE_CUES & L.GRAMMATICAL_NEGATORS
    assert L.GRAMMATICAL_NEGATORS - L.DIRECTION_NEGATORS == NOT_DIRECTION_NEGATORS


def test_absence_cues_are_polarity_negators_plus_reduction():
    assert L.POLARITY_NEGATORS - L.ABSENCE_CUE_WORDS == NOT_ABSENCE_CUES
    assert L.ABSENCE_CUE_WORDS - L.POLARITY_NEGATORS == (L.ABSENCE_CUE_WORDS & L.FEWER_WORDS) | ABSENCE_ONLY
    # the reduction words the absence reader lacks are those that say "lower", not "shorter"
    assert L.FEWER_WORDS - L.ABSENCE_CUE_WORDS == {"smaller", "lower", "minimal"}


def test_direction_negators_add_only_weak_negators_and_contractions():
    assert L.DIRECTION_NEGATORS - L.POLARITY_NEGATORS == DIRECTION_ONLY


@pytest.mark.parametrize("word", sorted(L.GRAMMATICAL_NEGATORS | L.DIRECTION_NEGATORS & L.POLARITY_NEGATORS))
def test_negation_readers_agree_on_shared_words(word):
    """Each reader that lists a negator reads it as negation; one that does not list it does not."""
    assert polarity(f"we train {word} warmup")["warmup"] == ({"absent"} if word in L.POLARITY_NEGATORS
                                                              else {"present"})
    # a question's bare "not" / "never" is read by QUESTION_NEGATION ("papers not using warmup")
    listed = word in L.ABSENCE_CUE_WORDS or bool(L.QUESTION_NEGATION.fullmatch(word))
    assert (parse_property(f"which papers train {word} warmup").polarity == "absence") == listed
    assert claim_direction(f"{word} warmup helps accuracy") == ("none" if word in L.DIRECTION_NEGATORS else "up")


def test_question_negation_pattern_covers_what_absence_cues_lack():
    assert parse_property("which papers do not use warmup?").polarity == "absence"
    assert L.QUESTION_NEGATION.search("papers that don't use warmup")
    assert parse_property("do any papers not use a warmup phase?") == parse_property("which papers skip warmup?")
    assert not L.QUESTION_NEGATION.search("papers with none of the noted warmup")


# --- quantity and direction ----------------------------------------------------------------------
def test_quantity_words():
    assert L.PRESENCE_ONLY_WORDS <= L.MORE_WORDS
    assert not L.FEWER_WORDS & L.MORE_WORDS
    assert not L.PRESENCE_ONLY_WORDS & L.ABSENCE_CUE_WORDS


def _stems(words):
    return {stem(w) for w in words}


def test_directions_are_disjoint_after_stemming():
    up, down, none = _stems(L.IMPROVE_WORDS), _stems(L.HARM_WORDS), _stems(L.NO_EFFECT_WORDS)
    assert not up & down and not up & none and not down & none
    assert not _stems(L.ATTACK_WORDS) & _stems(L.DEFENCE_WORDS)


def test_comparatives_agree_with_directions():
    """A comparative that names the winner on its left is never a harm word, and the reverse."""
    wins = {w for w, s in L.COMPARATIVES_BETTER.items() if s > 0}
    loses = {w for w, s in L.COMPARATIVES_BETTER.items() if s < 0}
    assert not _stems(wins) & _stems(L.HARM_WORDS)
    assert not _stems(loses) & _stems(L.IMPROVE_WORDS)
    assert wins & L.IMPROVE_WORDS and loses & L.HARM_WORDS  # they do share words


def test_query_noise_is_question_words_plus_a_stopword():
    assert L.QUERY_NOISE - L.QUESTION_WORDS == {"there"}
    assert "there" in L.STOPWORDS and "there" in L.INDEX_STOPWORDS


# --- no word list outside the lexicon ------------------------------------------------------------
MAX_WORDS = 6
# Modules that read file formats or settings, not English phrasing: their lists are field names,
# month abbreviations and markup, owned by the format.
EXCLUDED = {
    "ingest/fields.py": "parses paper files (month names of the date line)",
    "ingest/pages.py": "parses paper files (page boilerplate of a source format)",
    "ingest/references.py": "parses BibTeX / RIS / CSL-JSON (month abbreviations, field names)",
    "text/latex.py": "LaTeX markup to text (command names)",
    "text/sanitize.py": "character-level cleaning",
    "settings.py": "setting names and choices",
    "text/dates.py": "URL patterns of arXiv / Hugging Face paper links (host and path names)",
    "fetch/arxiv.py": "arXiv API ids and URLs (host and path names)",
}
# Literal lists of identifiers that happen to be lower-case words: names, not English.
IDENTIFIER_LISTS = {
    ("storage/chroma_layout.py", "_SCALAR_FIELDS"): "Chroma metadata field names",
}
_WORD = re.compile(r"^[a-z][a-z' -]*$")


def _name_of(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> str | None:
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            return node.targets[0].id
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            return node.target.id
    return None


def _word_lists(tree: ast.AST):
    """(node, how many lower-case English words) for each literal collection or ``"...".split()``."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript):
            continue
        strings: list[str] = []
        if isinstance(node, (ast.Set, ast.List, ast.Tuple)):
            strings = [e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
        elif isinstance(node, ast.Dict) and all(isinstance(v, ast.Constant) for v in node.values):
            # a table of words ({"faster": 1, ...}), not a record built from values ({"title": self.title})
            strings = [k.value for k in node.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)]
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "split"
              and isinstance(node.func.value, ast.Constant) and isinstance(node.func.value.value, str)):
            strings = node.func.value.value.split()
        yield node, sum(1 for s in strings if _WORD.match(s))


def _regex_words(tree: ast.AST):
    """(node, how many words) for each pattern literal passed to ``re``."""
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "re" and node.args):
            # the pattern's literal pieces, also when built by "+" or an f-string
            pieces = [n.value for n in ast.walk(node.args[0]) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
            pattern = re.sub(r"\\[A-Za-z]", " ", " ".join(pieces))
            yield node, len(re.findall(r"[A-Za-z]{2,}", pattern))


def _modules():
    for path in sorted(RAG.rglob("*.py")):
        rel = path.relative_to(RAG).as_posix()
        if rel == "text/lexicon.py" or rel in EXCLUDED:
            continue
        yield rel, ast.parse(path.read_text(encoding="utf-8"))


def test_no_word_list_outside_the_lexicon():
    found = []
    scanned = list(_modules())
    assert len(scanned) > 40, "the scan found too few rag modules: is RAG the package folder?"
    for rel, tree in scanned:
        parents = {child: parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)}
        for node, n in _word_lists(tree):
            if n > MAX_WORDS and (rel, _name_of(node, parents)) not in IDENTIFIER_LISTS:
                found.append(f"rag/{rel}:{node.lineno}: a list of {n} words (move it to rag/text/lexicon.py)")
        for node, n in _regex_words(tree):
            if n > MAX_WORDS:
                found.append(f"rag/{rel}:{node.lineno}: a pattern of {n} words (move it to rag/text/lexicon.py)")
    assert not found, "\n".join(found)


def test_the_scan_finds_a_word_list():
    tree = ast.parse('X = frozenset("a b c d e f g".split())\nY = re.compile(r"\\b(?:one|two|three|four|five|six|seven)")\n'
                     'Z = {"a": 1, "b": 1, "c": 1, "d": 1, "e": 1, "f": 1, "g": 1}')
    assert [n for _, n in _word_lists(tree) if n > MAX_WORDS] == [7, 7]
    assert [n for _, n in _regex_words(tree) if n > MAX_WORDS] == [7]


def test_every_exclusion_still_exists():
    for rel in [*EXCLUDED, *(m for m, _ in IDENTIFIER_LISTS)]:
        assert (RAG / rel).is_file(), rel


def test_every_list_of_the_word_file_is_read_under_its_name_and_the_file_ships():
    """rag/text/lexicon.txt holds no list that the lexicon leaves unread, and the wheel carries it."""
    import tomllib

    from rag.text.lexicon_file import FILE, entries, sections, words

    for name, lines in sections().items():
        value = getattr(L, name, None)
        assert value is not None, f"[{name}] in {FILE} is read by no name of rag/text/lexicon.py"
        if isinstance(value, frozenset):
            assert value == words(name), name
        elif isinstance(value, tuple):
            assert value == entries(name), name
        else:  # a table
            assert list(value) == [line.split()[0] for line in lines], name
    setuptools = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))["tool"]["setuptools"]
    assert f"text/{FILE}" in setuptools["package-data"]["rag"]
