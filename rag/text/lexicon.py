"""The one lexicon: every English word list and phrasing pattern the engine reads text by.

Word lists scattered over a dozen modules drift apart (there were four negation lists, each a
little different), so they live here, named by what they mean, and ``tests/test_lexicon.py``
checks that the readers agree on the words they share, or asserts the differences that are
intended. A module that needs English imports it from here; the rest of ``rag/`` holds none
(the test scans for literal word lists elsewhere).

The words themselves are in ``lexicon.txt`` beside this module (read once, at import, by
:mod:`rag.text.lexicon_file`): each list is named, explained and read (a set, ordered entries or a
table) here, under the same name as its section there. Lists hold words as written (lower case, not
stemmed): a reader that compares stems stems them itself, once, at its own import
(``frozenset(stem(w) for w in ...)``). Patterns are compiled here, with the flags that are part of
their meaning (the case-sensitive ones read capitals on purpose). Nothing here does more than build
constants: no other file is read, no model loaded.

Sections, by meaning: the analyser's stopwords · negation and absence · quantity · direction of a
finding · comparisons · attack and defence · questions and follow-ups · quoting · titles and names.
"""

from __future__ import annotations

import re

from rag.text.lexicon_file import entries, table, words

# --- the analyser's stopwords (rag.text.analysis) -----------------------------------------------------------
INDEX_STOPWORDS = words("INDEX_STOPWORDS")
"""Lucene's English stopwords (bm25s's "en" list): dropped from BM25 index tokens. Short on purpose,
so BM25 scores stay those of the library's defaults."""

QUERY_NOISE = words("QUERY_NOISE")
"""Words of a question's form, not its topic, dropped from BM25 *queries* only: "which papers ..."
would otherwise reward every abstract that says "in this paper"."""

STOPWORDS = words("STOPWORDS")
"""Content-term stopwords (evidence, verification, names): longer than :data:`INDEX_STOPWORDS`,
with the words every abstract uses ("paper", "method", "propose")."""

QUESTION_WORDS = words("QUESTION_WORDS")
"""Question-form words, dropped from a question's content terms: they say what is asked, not what
it is about. A wider reading of :data:`QUERY_NOISE` (which BM25 uses)."""

PARTICLES = words("PARTICLES")
"""The particle of a hyphenated compound noun ("warm-up", "trade-off", "roll-out"): a question's
compound is read as one word, so "the warm-up stage" asks about warmup, not "warm"."""

SENTENCE_ABBREVIATIONS = r"(?:a\.k\.a|e\.g|i\.e|et al|etc|vs|cf|Fig|Figs|Eq|Eqs|Sec|No|approx|resp|al)"
"""Abbreviations whose dot does not end a sentence (a regex source, for ``rag.text.analysis``'s splitter)."""

# --- negation and absence --------------------------------------------------------------------------
# Four readers ask "is this said not to be there?", each for its own job; the lists differ on
# purpose and sit together so the differences stay visible (tests/test_lexicon.py asserts them).
GRAMMATICAL_NEGATORS = words("GRAMMATICAL_NEGATORS")
"""The grammatical negators only: "without X", "no X", "do not use X". Read by the list judge's
question reader (``rag.lists.features``) to find the term a question asks to be absent. Verbs that
drop or shorten ("token dropping", "reduce overconfident predictions") name a method or a problem
that papers state as present, so they are not here."""

POLARITY_NEGATORS = words("POLARITY_NEGATORS")
"""Words that state the term after them absent, for verification (``rag.text.analysis.polarity``): the
grammatical negators plus verbs of removal and omission ("removes warmup", "skip the warmup").
Reduction words are not here: they state "fewer", see :data:`FEWER_WORDS`."""

ABSENCE_CUE_WORDS = words("ABSENCE_CUE_WORDS")
"""Words that turn "X" into "without X / less X" in a list question or an abstract
(``rag.lists.rules``, stemmed there): removal and omission as in :data:`POLARITY_NEGATORS`, and also
reduction ("shorter warmup" counts as skipping it for "which papers skip warmup?"). It holds no
"not", "none" or "neither": a question's "do not" is read by :data:`QUESTION_NEGATION`, and a bare
"not" in an abstract is no cue (the differences are asserted in ``tests/test_lexicon.py``)."""

FRAME_NOUNS = words("FRAME_NOUNS")
"""Nouns that name a part of a procedure, not what the part does: "get rid of the warm-up stage"
asks for papers without warmup, and no paper need say "stage" (``rag.question.property`` drops them
from an absence's topic)."""

GENERIC_ACTIONS = words("GENERIC_ACTIONS")
"""What every paper of the corpus does: "train without learning-rate warmup" asks about warmup
alone, since all papers train (``rag.question.property``)."""

DIRECTION_NEGATORS = words("DIRECTION_NEGATORS")
"""Words that turn an evaluative word into "makes no difference" ("no benefit", "does not help",
"little effect"), for the direction of a finding (``rag.text.claims``). Adds the weak negators
("little", "hardly") and the stems of contractions ("don't" -> "don"), which the words reader
leaves as separate tokens; no verbs of removal ("removes the gain" is not "no gain")."""

QUESTION_NEGATION = re.compile(r"\bnot\b|\bnever\b|\b(?:don|doesn|didn)'?t\b|\bwithout\b|\bno\b", re.IGNORECASE)
"""A question that asks for an absence in so many words ("papers that do not use warmup"), read on
the raw question because "not" and "no" are stopwords of its terms (``rag.lists.rules``)."""

# --- quantity --------------------------------------------------------------------------------------
FEWER_WORDS = words("FEWER_WORDS")
"""A word before a term that says there is less of it (``rag.text.analysis.polarity``: "fewer")."""

MORE_WORDS = words("MORE_WORDS")
"""A word before a term that says there is more of it (``rag.text.analysis.polarity``: "more")."""

PRESENCE_ONLY_WORDS = words("PRESENCE_ONLY_WORDS")
"""Length words that state a term present and never absent ("a long warmup"): the list judge
(``rag.lists.rules``) counts them against an absence. A subset of :data:`MORE_WORDS`."""

# --- the direction of a finding (rag.text.claims) -------------------------------------------------------
IMPROVE_WORDS = words("IMPROVE_WORDS")
"""Evaluative words that say the subject helps or matters ("up")."""

HARM_WORDS = words("HARM_WORDS")
"""Evaluative words that say the subject hurts ("down"); the hyphenated forms are matched as written."""

NO_EFFECT_WORDS = words("NO_EFFECT_WORDS")
"""Evaluative words that say the subject makes no difference ("none")."""

EFFECT_NOUNS = words("EFFECT_NOUNS")
"""Nouns that, negated, say "no difference": "no effect", "little impact"."""

SUBJECT_FILLER = words("SUBJECT_FILLER")
"""Verbs and fillers a claim's subject phrase carries that say nothing about what it is."""

FINDING_CLAUSE = re.compile(r"\b(?:find|finds|found|finding|show|shows|showed|shown|showing|conclude|concludes|"
                            r"concluding|argue|argues|arguing|demonstrate|demonstrates|demonstrating|report|reports|"
                            r"suggest|suggests|claim|claims|prove|proves|establish|establishes|evidence|confirm|"
                            r"confirms|predict|predicts|reveal|reveals|observe|observes|indicate|indicates|"
                            r"hypothesize|hypothesizes|hypothesise|hypothesises|posit|posits)\s+that,?\s+(.+)$",
                            re.IGNORECASE)
"""The claim a question asks a paper to make: group 1 is the clause after "finds/shows ... that"."""

TURN_OF_CLAUSE = re.compile(r";|,\s*(?:while|whereas|but|although|though|yet)\b|\s(?:while|whereas|but)\s",
                            re.IGNORECASE)
"""Where a sentence turns to another subject: "A has substantial impact, while B is of negligible
importance"; a direction is read within one piece."""

COMPARISON_CUE = re.compile(r"\b(?:than|compared|versus|vs|relative to|over|beat|beats|outperform\w*|"
                            r"underperform\w*|under-perform\w*)\b", re.IGNORECASE)
"""A claim that compares two things: which side is its subject is a matter of syntax, so it states
no single direction."""

# --- comparisons: which side wins (rag.text.claims) -----------------------------------------------------
# A comparison names a winner and a loser; families keep measures apart ("faster" says nothing
# against "cheaper"). +1: the left side wins, -1: the right side wins.
COMPARATIVES_BETTER = table("COMPARATIVES_BETTER", int)
"""Comparative words of quality, with the side that wins."""

COMPARATIVES_FASTER = table("COMPARATIVES_FASTER", int)
"""Comparative words of speed."""

COMPARATIVES_CHEAPER = table("COMPARATIVES_CHEAPER", int)
"""Comparative words of cost."""

MORE_LESS_ADJECTIVES = table("MORE_LESS_ADJECTIVES", str)
"""Adjectives that "more" / "less" make comparative, and their family ("more expensive" loses)."""

COMPARING_VERB_PREFIXES = entries("COMPARING_VERB_PREFIXES")
"""Comparative verbs that name what they beat without "than": "X outperforms Y" (a bare "better"
compares nothing named)."""

COMPARISON_LEFT_STOPS = words("COMPARISON_LEFT_STOPS")
"""Words before a comparative that end its left side: a complementiser ("why Adam converges ...")."""

COMPARISON_RIGHT_STOPS = words("COMPARISON_RIGHT_STOPS")
"""Words after a comparative that end its right side: a qualifier ("... than SGD when training")."""

COMPARISON_NOISE = words("COMPARISON_NOISE")
"""Words a comparison's side carries that name no compared thing ("plain SGD", "reliably beats")."""

# --- attack or defence (rag.text.frames) ----------------------------------------------------------------
ATTACK_WORDS = words("ATTACK_WORDS")
"""Cues of an attack as the act."""

DEFENCE_WORDS = words("DEFENCE_WORDS")
"""Cues of a defence as the act."""

OBJECT_MARKERS = words("OBJECT_MARKERS")
"""Words after which a cue names what is acted against, not the act: "robust against attacks"."""

CUE_MODIFIERS = words("CUE_MODIFIERS")
"""Words after a cue that make it a modifier naming no act: "attack-agnostic"."""

OWN_WORK = re.compile(r"\b(?:we|our|ours|us|this (?:paper|work|study|article))\b", re.IGNORECASE)
"""A sentence in which a paper speaks of its own work."""

# --- questions and follow-ups ----------------------------------------------------------------------
_KINDS = r"(?:papers|works|studies|articles|methods|approaches|research)"
AGGREGATE_QUESTION = re.compile(
    r"^\s*(?:(?:which|what)\s+(?:other\s+)?" + _KINDS + r"\b"
    r"|(?:which|what)\s+(?:[\w-]+\s+){1,4}?(?:papers|studies|articles)\b"  # "which federated learning papers"
    r"|(?:list|name|find|show(?:\s+me)?|give(?:\s+me)?)\s+(?:all\s+)?(?:the\s+)?(?:\w+\s+){0,3}?"
    r"(?:papers|works|studies|articles)\b"
    r"|find\s+(?:[\w-]+\s+){0,3}?(?:work|research|literature|surveys|reviews)\b"  # "find preference-tuning work"
    r"|how\s+many\s+(?:papers|works|studies|articles)\b"
    r"|(?:are\s+there\s+)?any\s+(?:papers|works|studies)\b"
    r"|are\s+there\s+(?:\w+\s+){0,2}?(?:papers|works|studies)\b"
    r"|is\s+there\s+(?:a|an|any)\s+(?:\w+\s+){0,2}?(?:paper|work|study)\b"
    r"|(?:is|are)\s+there\s+(?:any\s+)?(?:\w+\s+)?(?:work|research|literature)\s+(?:on|about|that|which|using|where)\b"
    r"|(?:do|does)\s+any\s+(?:papers?|works?|studies)\b"
    r"|(?:papers|works|studies)\s+(?:that|which|about|on|using|with|where|whose)\b)",
    re.IGNORECASE,
)
"""A question whose answer is a set of papers rather than a fact (matched at the start)."""

NUMBER_QUESTION_PHRASES = entries("NUMBER_QUESTION_PHRASES")
"""Phrases (substrings of the lower-cased question) of a question that asks for a number."""

MEASURE_QUESTION = re.compile(
    r"\b(?:what|which)\s+(?:(?!(?:papers?|works?|stud(?:y|ies)|that|metrics?|benchmarks?|datasets?)\b)[\w@.-]+\s+){0,4}?(?:accurac(?:y|ies)|scores?|rates?|ratios?|speed-?ups?|gains?|"
    r"improvements?|reductions?|increases?|margins?|errors?|sizes?|range|resolutions?|fractions?|share|"
    r"throughput|fid|bleu|perplexit(?:y|ies)|latenc(?:y|ies)|budget|cost|dice|miou|recall@\d+|"
    r"top-\d\s+accuracy|win\s+rate)\b(?!\s+(?:method|model|approach|technique|metric|benchmark|dataset)s?\b)"
    r"|\b(?:how\s+(?:far|low|high|close|quickly|short|deep|wide)|up\s+to\s+what|by\s+what|at\s+what\s+rate)\b",
    re.IGNORECASE,
)
"""A question asking for a measured quantity in other words than NUMBER_QUESTION_PHRASES: "what
top-1 accuracy ...", "what average improvement over X ...", "by what margin ...", "how far did
... shrink the gap", "up to what share of layers ..."; not "which metric" or "what score function
model" (a name)."""

COMPARE_QUESTION = re.compile(
    r"\b(?:compare[sd]?|comparing|comparison|differ(?:s|ent|ence|ences)?|versus|vs\.?|contrast|"
    r"similarit(?:y|ies)|better)\b|\bbetween\b.+\band\b|\bboth\b",
    re.IGNORECASE,
)
"""A question that compares things ("How do AdaBelief and AdaBound differ?")."""

SEVERAL_PAPERS = re.compile(r"\b(?:two|both|three|these|those|the\s+\w+\s+papers)\b", re.IGNORECASE)
"""A question that speaks of several papers at once."""

QUANTITY_IN_WORDS = re.compile(
    r"\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|fifty|"
    r"hundred|thousand|several|multiple|a\s+few|dozens?\s+of|half\s+an?)\s+(?:hundred\s+|thousand\s+)?"
    r"(?:seconds?|minutes?|hours?|days?|weeks?|months?|times|million|billion|thousand|hundred|percent|fold|"
    r"orders?\s+of\s+magnitude)\b", re.IGNORECASE)
"""A quantity written in words ("under one second", "nine times faster", "one million images"): a
sentence with one states a number as surely as "1s" or "9x"."""

COUNT_OF = re.compile(r"\b(?:two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|"
                      r"forty|fifty)\s+(?:[a-z][\w-]*\s+){0,2}?([a-z][\w-]*s)\b", re.IGNORECASE)
"""A count in words and the plural it counts ("seven datasets", "four ZS-CIR benchmarks"): group 1
is the counted noun, which answers "how many datasets ...?" when the question names it."""

NAME_OF = re.compile(r"\bnames?\s+of\b", re.IGNORECASE)
"""A question asking for "the name(s) of" something: its answer is a name (``rag.question.focus``)."""

NAME_CATEGORIES = words("NAME_CATEGORIES")
"""What a lookup asks for when its answer is a name or a list of names ("which datasets ...", "on
which languages ...", "what hardware ...", "the name of ..."): a sentence naming things answers it
(``rag.question.focus``)."""

OTHERS_NAME_CATEGORIES = words("OTHERS_NAME_CATEGORIES")
"""The named things a paper takes from others ("which datasets", "which baselines", "on which
languages"): the paper's own names (its title's, the acronyms its abstract defines) do not answer."""

ASKING_WORDS = words("ASKING_WORDS")
"""The words that open what a question asks for ("what masking ratio does ...", ``rag.question.focus``)."""

AUXILIARIES = words("AUXILIARIES")
"""The auxiliary that ends what a question asks for and starts how it names the paper: "what masking
ratio | does the self-supervised method that ... reach?" (``rag.question.focus``)."""

COPULAS = words("COPULAS")
"""The auxiliaries after which "what is ..." names what it asks for ("what is the name of the X"),
unlike "how does X work?" (``rag.question.focus``)."""

DESCRIPTION_OPENERS = words("DESCRIPTION_OPENERS")
"""Words after which "what is the name of the X ..." goes on to describe the paper, not X: "proposed
in the report that ...", "that", "in" (``rag.question.focus``)."""

ORIGIN_QUESTION = re.compile(
    r"\b(?:which|what)\s+(?:paper|work|article|study|publication)\s+(?:first\s+|originally\s+)?"
    r"(?:introduced|proposed|presented|invented|coined|developed)\b"
    r"|\bwhere\s+(?:was|were|is|are)\b.*\b(?:introduced|proposed|presented|invented|coined|described)\b"
    r"|\bwho\s+(?:first\s+|originally\s+)?(?:introduced|proposed|invented|coined)\b"
    r"|\b(?:the\s+)?original\s+(?:paper|work|article|publication)\b",
    re.IGNORECASE)
"""A question that asks which paper introduced what it names ("which paper introduced Adam?",
"where was HER originally proposed?"): a paper that only uses the name does not answer it
(``rag.question.read``, ``rag.text.origin``)."""

# --- results: a sentence that reports what a paper found (rag.text.results) --------------------------
RESULT_VERB = re.compile(
    r"\b(?:find|finds|found|show|shows|showed|shown|demonstrate|demonstrates|demonstrated|reveal|reveals|"
    r"revealed|observe|observes|observed|confirm|confirms|confirmed|prove|proves|proved|proven|establish|"
    r"establishes|established|indicate|indicates|indicated|identify|identifies|identified|discover|"
    r"discovers|discovered|conclude|concludes|concluded|suggest|suggests|suggested|verify|verifies|"
    r"verified|achieve|achieves|achieved|attain|attains|attained|surpass|surpasses|surpassed|exceed|"
    r"exceeds|exceeded|match|matches|matched|yield|yields|yielded|(?:leads?|led|results?|resulted)\s+(?:to|in)|"
    r"emerge|emerges|emerged|arise|arises|arose|drive|drives|driven|depends?\s+on|cause|causes|caused|"
    r"explain|explains|explained|accounts?\s+for|(?:comparable|competitive|on\s+par|similar)\s+(?:to|with)|"
    r"(?:based\s+on|according\s+to|from)\s+(?:these|our|the)\s+(?:results|findings|observations|analys[ie]s|"
    r"experiments))\b",
    re.IGNORECASE)
"""How a sentence reports what was found or reached ("we find that ...", "experiments show ...",
"X achieves ...", "learning emerges when ...", "comparable to", "based on these results, ...")."""

MEASURED_CHANGE = re.compile(r"\d[\d.,]*\s*(?:%|x\b|\u00d7|-?fold\b|times\b)|\bup\s+to\s+\d", re.IGNORECASE)
"""A measured change ("by 25%", "3x faster", "up to 4 times"): a sentence with one reports a result."""

BACKGROUND_OPENING = re.compile(
    r"(?:recent|recently|existing|previous|previously|prior|modern|current|currently|traditional|"
    r"traditionally|conventional|conventionally|many|most|numerous|various|nowadays|typically|commonly|"
    r"despite|popular|standard|state-of-the-art)\b", re.IGNORECASE)
"""How a sentence about other work opens ("Recent methods ...", "Existing approaches ...",
"Despite ..."), read after any framing opener (``OPENING_MARKER``)."""

OPEN_QUESTION = re.compile(
    r"\b(?:remains?|remained|is|are|was|were)\s+(?:still\s+|largely\s+)?(?:a\s+mystery|unclear|unknown|"
    r"not\s+(?:well\s+)?(?:clear|known|understood)|an?\s+open\s+(?:question|problem)|elusive|understudied|"
    r"unexplored|underexplored|poorly\s+understood)\b", re.IGNORECASE)
"""A question still open ("how the representation emerges ... remains a mystery"): not a result."""

GENERAL_PERFECT = re.compile(
    r"\b(?:has|have)\s+(?:\w+\s+)?(?:been|become|achieved|shown|demonstrated|emerged|attracted|gained|made|"
    r"led|enabled|received|seen|proven)\b", re.IGNORECASE)
"""The present perfect of a field's history ("diffusion models have achieved remarkable
success"): without the paper's own voice (``OWN_WORK``) such a sentence is background."""

CONTRIBUTION_VERBS = words("CONTRIBUTION_VERBS")
"""Verbs a paper presents its own contribution with ("we propose X", "a technique called X")
(``rag.text.origin``)."""

FIRST_PERSON = words("FIRST_PERSON")
"""Words by which a sentence speaks for the paper itself ("we", "our", "here") (``rag.text.origin``)."""

NOT_THE_THING_ITSELF = words("NOT_THE_THING_ITSELF")
"""Words between a contribution verb and a name that make the contribution something else: "we
propose a variant of Adam", "an optimizer better than Adam" (``rag.text.origin``)."""

USAGE_WORDS = words("USAGE_WORDS")
"""Words that say how a paper uses a named thing, not what the thing is: "which papers report
ROUGE scores?", "... experiments on the SVHN dataset?" ask which papers use the name
(``rag.lists.mention``)."""

FOLLOW_UP_WORDS = words("FOLLOW_UP_WORDS")
"""Words a follow-up uses to point and ask for more, not to name a topic (``rag.engine`` stems them)."""

ORDINALS = table("ORDINALS", int)
"""Ordinal words and their positions ("the third one"); "last" is read apart."""

ORDINAL_REF = re.compile(
    r"\b(?:the\s+)?(?P<ord>first|1st|second|2nd|third|3rd|fourth|4th|fifth|5th|sixth|seventh|eighth|ninth|tenth|last)"
    r"\s+(?:one|paper|result|item|source|work|study|method)s?\b", re.IGNORECASE)
"""A reference to one earlier paper by its place: "the second paper", "the last one"."""

NUMBER_REF = re.compile(r"(?:\[(?P<a>\d+)\]|\b(?:paper|source|item|number|no\.?|#)\s*(?P<b>\d+)\b)", re.IGNORECASE)
"""A reference to one earlier paper by its number: "[2]", "paper 2", "#2"."""

PRONOUN_REF = re.compile(
    r"\b(?:it|its|this paper|that paper|this work|that work|this method|that method|this one|that one|the paper|"
    r"they|their|them|these papers|those papers|both)\b", re.IGNORECASE)
"""A pronoun that points back at the previous answer's paper(s)."""

PLURAL_REF = re.compile(r"\b(?:they|their|them|these papers|those papers|both)\b", re.IGNORECASE)
"""The plural pronouns of :data:`PRONOUN_REF`: they point at several papers."""

ALL_REF = re.compile(r"\b(?:(?:which|what|how\s+many)\s+of\s+(?:these|those|them)|compare\s+(?:them|these|those)|"
                     r"all\s+of\s+them|each\s+of\s+them)\b", re.IGNORECASE)
"""A reference to every paper of the previous answer: "which of these ...", "compare them"."""

DANGLING_PREPOSITION = re.compile(r"\s+(?:about|on|of|for|regarding|in|from|with)$", re.IGNORECASE)
"""A follow-up that ends on a preposition ("what about ... on"), whose object is the earlier topic."""

CONTINUATION = re.compile(r"^\s*(?:and|what about|how about|and what about|what of)\b[\s,]*", re.IGNORECASE)
"""The opening of a follow-up that continues the previous question: "and what about X?"."""

INCLUDE_BACK = re.compile(r"^\s*(?:please\s+)?(?:(?:include|add|pin)\b|(?:put|bring)\b.*\bback\b)", re.IGNORECASE)
"""A request to pin back a paper a list answer left out: "include the third one", "put it back"."""

BARE_NUMBER = re.compile(r"(?:\b(?:number\s+|no\.?\s*)|#)(?P<n>\d{1,2})\b|\b(?P<o>\d{1,2})(?:st|nd|rd|th)\b",
                         re.IGNORECASE)
"""A position given as a number: "number 2", "#2", "2nd"."""

INSTRUCTION = re.compile(
    r"\b(?:ignore|disregard|forget)\s+(?:all\s+|any\s+)?(?:the\s+)?(?:previous|prior|above|earlier|preceding)\s+"
    r"(?:instructions?|prompts?|messages?|context)"
    r"|\byou\s+are\s+now\b|\bsystem\s+prompt\b|\b(?:reply|respond|answer)\s+only\s+with\b"
    r"|\bas\s+an\s+ai\s+(?:language\s+)?model\b",
    re.IGNORECASE,
)
"""Text addressed to a model rather than a reader (prompt injection in an abstract)."""

# --- quoting: what a sentence says and how it may be cut ------------------------------------------
CONTRIBUTION = re.compile(r"\b(?:we|this paper|this work)\s+(?:propose|present|introduce|show|find|develop|"
                          r"demonstrate|achieve|study)", re.IGNORECASE)
"""A sentence that says what the paper does ("we propose ...")."""

OPENING_MARKER = re.compile(
    r"(?:However|Moreover|Furthermore|Further|Additionally|Specifically|Finally|Here|Thus|Therefore|"
    r"Consequently|Overall|Notably|Recently|Importantly|Concretely|Hence|Besides|Surprisingly|"
    r"Interestingly|Lastly|First|Firstly|Second|Secondly|Third|Next|Meanwhile|Crucially|Nowadays|"
    r"Currently|Traditionally|Typically|Empirically|Experimentally|Theoretically|In particular|"
    r"In addition|In contrast|In practice|In summary|In short|In this (?:paper|work|study|article|note)|"
    r"To this end|To that end|As a result|On the other hand|At the same time|"
    r"To (?:address|tackle|overcome|solve|mitigate|remedy|bridge|fill|fix|alleviate|close|"
    r"understand|answer|study|investigate|this end)(?: [A-Za-z-]+){0,5}"
    r"|To [a-z]+(?: [A-Za-z-]+){0,6}(?=, (?:we|our|this|it|these|they)\b))(?=, )")
"""An opening phrase a quote may drop, one that frames the sentence rather than says anything
("In this paper, we ...", "To address this, we ...", "However, ..."). Case-sensitive: it is read at
a sentence's start. Fronted qualifiers ("Using an ensemble, we ...") are not here: without them
the rest claims more than the paper does."""

CONCESSIVE_OPENING = re.compile(r"(?:While|Although|Though|Whereas)\b")
"""A concessive clause a quote may drop at its start ("While X works well, it ..."). Case-sensitive."""

QUOTE_SUBJECTS = words("QUOTE_SUBJECTS")
"""Words that begin the main clause after a dropped opening ("..., we propose")."""

CLAUSE_TAILS = words("CLAUSE_TAILS")
"""Words after ", " that begin a clause a quote may end before ("..., which ...")."""

NOT_A_CLAUSE = words("NOT_A_CLAUSE")
"""Words after ", " that continue a list rather than begin a clause ("..., including X")."""

SUMMARY_FRAMING_WORDS = words("SUMMARY_FRAMING_WORDS")
"""Words that frame a summary sentence rather than inform: "the authors find", "this approach
improves" (``rag.answer.summary_check`` stems them)."""

# --- titles and names ------------------------------------------------------------------------------
TITLE_WEAK_ENDINGS = words("TITLE_WEAK_ENDINGS")
"""Words a cut title must not end on ("Scaling up Zeroth-Order Optimization for")."""

NAME_VARIANT_SUFFIXES = ("", "s", "es", "n", "an", "ian", "ns", "ic", "er", "ers", "ing", "ed")
"""Endings under which a name counts as used by the corpus: "NPU" / "NPUs", "Africa" / "African"."""
