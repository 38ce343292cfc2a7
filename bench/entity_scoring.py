"""Score resolved entities against the hand-written gold file, and validate that file.

The gold file (``bench/entities/gold.jsonl``, described in ``bench/entities/README.md``) holds
one article per line with every person, organisation and place it mentions, resolved to one
record per real-world entity: a canonical ``name`` plus the ``aliases`` used in the article.

Scoring compares, per article and per type (PERSON, ORG, PLACE), the system's resolved
entities with the gold ones. A predicted entity matches a gold entity of the same type when
its normalised name equals the gold entity's normalised name or one of its normalised
aliases. Each gold entity is matched at most once (a maximum bipartite matching, so the
result does not depend on the order of the predictions); a further prediction that could
only match an already matched gold entity is a false positive, i.e. a resolution split.
Counts are micro-averaged over articles. Other system types (NORP, EVENT, DATE, ...) are
ignored.

    python bench/entity_scoring.py [GOLD] [--predicted FILE] [--details]

Without ``--predicted`` it validates the gold file and prints counts per type; exit status 1
when the file has errors. ``--predicted`` takes a JSON object mapping article id to a list of
``{"name": ..., "entity_type": ...}``, or JSON lines of ``{"id": ..., "entities": [...]}``;
the scores are printed as a table, and ``--details`` adds the false positives and false
negatives per article.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

TYPES: tuple[str, ...] = ("PERSON", "ORG", "PLACE")
DEFAULT_GOLD = Path(__file__).resolve().parent / "entities" / "gold.jsonl"
REQUIRED_KEYS = ("id", "title", "text", "language", "published_at", "source", "entities")
MIN_WORDS, MAX_WORDS = 150, 450

# Removed outright ("U.S." -> "us", "Workers' Party" -> "workers party").
_DROP = re.compile(r"[.,'‘’`\"“”()\[\]{}!?;:]")
# Read as a word break ("Kamau-Otieno" == "Kamau Otieno").
_BREAK = re.compile(r"[-‐‑‒–—/]")
_SPACE = re.compile(r"\s+")
_TITLES = frozenset(
    (
        *("mr", "mrs", "ms", "miss", "dr", "prof", "sir", "dame", "lord", "lady", "rev"),
        *("president", "senator", "judge", "justice", "governor", "mayor", "minister"),
        *("general", "colonel", "captain", "king", "queen", "prince", "princess", "sheikh"),
    )
)


def load_gold(path: str | Path) -> list[dict]:
    """Read the gold JSON-lines file: one article object per non-blank line."""
    articles: list[dict] = []
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                articles.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{lineno}: invalid JSON: {exc}") from exc
    return articles


def normalise(name: str) -> str:
    """Matching key for a name: NFKC, casefolded, punctuation dropped, no leading "the".

    Dots, commas, quotes, apostrophes and brackets are dropped; hyphens, dashes and slashes
    become spaces; runs of whitespace collapse to one space. Accents are kept, and so are
    ``+`` and ``&`` ("OPEC+" is not "OPEC").
    """
    text = unicodedata.normalize("NFKC", name).casefold()
    text = _DROP.sub("", text)
    text = _BREAK.sub(" ", text)
    text = _SPACE.sub(" ", text).strip()
    if text.startswith("the "):
        text = text[4:].lstrip()
    return text


def _keys(entity: dict) -> set[str]:
    """Normalised canonical name and aliases of a gold entity (empty strings left out)."""
    keys = {normalise(entity["name"])}
    keys.update(normalise(alias) for alias in entity.get("aliases") or ())
    keys.discard("")
    return keys


def _match(gold: Sequence[dict], predicted: Sequence[dict]) -> dict[int, int]:
    """Maximum matching of predicted to gold entities; returns {predicted index: gold index}.

    Kuhn's augmenting paths. Candidates whose canonical name matches are tried before those
    matching only by alias, so the choice among equally large matchings is stable.
    """
    gold_names = [normalise(g["name"]) for g in gold]
    gold_keys = [_keys(g) for g in gold]
    candidates: list[list[int]] = []
    for pred in predicted:
        key = normalise(str(pred.get("name") or ""))
        exact = [i for i, name in enumerate(gold_names) if key and name == key]
        alias = [i for i, ks in enumerate(gold_keys) if key in ks and i not in exact]
        candidates.append(exact + alias)

    owner: dict[int, int] = {}  # gold index -> predicted index

    def augment(p: int, seen: set[int]) -> bool:
        for g in candidates[p]:
            if g in seen:
                continue
            seen.add(g)
            if g not in owner or augment(owner[g], seen):
                owner[g] = p
                return True
        return False

    for p in range(len(predicted)):
        if candidates[p]:
            augment(p, set())
    return {p: g for g, p in owner.items()}


def _pred_type(entity: dict) -> str | None:
    """System type of a predicted entity (``entity_type``, or ``type`` as a fallback)."""
    value = entity.get("entity_type", entity.get("type"))
    return str(value).upper() if value is not None else None


def _prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "precision": precision,
        "recall": recall,
        "f1": f1,
    }


def score(
    gold: list[dict], predicted: dict[str, list[dict]], *, details: bool = False
) -> dict[str, Any]:
    """Micro-averaged tp/fp/fn/precision/recall/f1 per type and over all three types.

    ``predicted`` maps article id to the system's resolved entities for that article, each
    ``{"name": str, "entity_type": str}``; only PERSON, ORG and PLACE are compared. Gold
    articles missing from ``predicted`` count as predicting nothing; predicted ids that are
    not in the gold are ignored. Returns ``{"PERSON": {...}, "ORG": {...}, "PLACE": {...},
    "ALL": {...}}``; with ``details=True`` also ``"details"``: ``{article id: {"fp": [...],
    "fn": [...]}}`` listing the unmatched ``{"name", "type"}`` on each side (articles
    without errors are left out).
    """
    counts = {t: [0, 0, 0] for t in TYPES}
    errors: dict[str, dict[str, list[dict[str, str]]]] = {}
    for article in gold:
        preds = predicted.get(article["id"]) or []
        fps: list[dict[str, str]] = []
        fns: list[dict[str, str]] = []
        for typ in TYPES:
            g_ents = [e for e in article["entities"] if e["type"] == typ]
            p_ents = [e for e in preds if _pred_type(e) == typ]
            pairs = _match(g_ents, p_ents)
            matched_gold = set(pairs.values())
            counts[typ][0] += len(pairs)
            counts[typ][1] += len(p_ents) - len(pairs)
            counts[typ][2] += len(g_ents) - len(pairs)
            fps += [
                {"name": str(p.get("name")), "type": typ}
                for i, p in enumerate(p_ents)
                if i not in pairs
            ]
            fns += [
                {"name": g["name"], "type": typ}
                for i, g in enumerate(g_ents)
                if i not in matched_gold
            ]
        if fps or fns:
            errors[article["id"]] = {"fp": fps, "fn": fns}

    result: dict[str, Any] = {t: _prf(*counts[t]) for t in TYPES}
    result["ALL"] = _prf(*(sum(counts[t][k] for t in TYPES) for k in range(3)))
    if details:
        result["details"] = errors
    return result


def format_table(scores: dict[str, Any]) -> str:
    """Fixed-width table of the per-type rows of :func:`score` (the details are left out)."""
    lines = [f"{'type':<7} {'tp':>5} {'fp':>5} {'fn':>5} {'prec':>6} {'rec':>6} {'f1':>6}"]
    for typ in (*TYPES, "ALL"):
        row = scores.get(typ)
        if row is None:
            continue
        lines.append(
            f"{typ:<7} {int(row['tp']):>5} {int(row['fp']):>5} {int(row['fn']):>5} "
            f"{row['precision']:>6.3f} {row['recall']:>6.3f} {row['f1']:>6.3f}"
        )
    return "\n".join(lines)


def format_details(details: dict[str, dict[str, list[dict[str, str]]]]) -> str:
    """One line per false positive / false negative, grouped by article."""
    lines: list[str] = []
    for article_id, errs in details.items():
        for kind in ("fp", "fn"):
            for ent in errs[kind]:
                lines.append(f"{article_id}  {kind}  {ent['type']:<6} {ent['name']}")
    return "\n".join(lines)


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def occurs(needle: str, haystack: str) -> bool:
    """Whether ``needle`` occurs in ``haystack`` as a whole word or phrase.

    Case-insensitive, except that an all-capitals needle ("US", "WHO", "AU") must match
    case-sensitively, so the pronoun "us" does not vouch for "US".
    """
    needle = unicodedata.normalize("NFKC", needle).strip()
    if not needle:
        return False
    haystack = unicodedata.normalize("NFKC", haystack)
    letters = [c for c in needle if c.isalpha()]
    if not (len(letters) >= 2 and all(c.isupper() for c in letters)):
        needle, haystack = _fold(needle), _fold(haystack)
    pattern = r"(?<!\w)" + re.escape(needle) + r"(?!\w)"
    return re.search(pattern, haystack) is not None


def validate(articles: list[dict]) -> tuple[list[str], list[str]]:
    """Check the gold articles; returns (errors, notes).

    Errors: missing keys, duplicate ids, unknown types, empty names, a PERSON name starting
    with a title, an ORG name starting with "the", a malformed country code, and any name or
    alias that does not occur in the title or text. A PLACE's canonical name may be absent
    (a GeoNames name such as "Turkey" for "Türkiye", or a country named only by a demonym)
    when at least one of its aliases occurs. Notes: word counts outside 150-450, and surface
    forms shared by two entities of the same type in one article (legitimate for "Paris"
    and "Paris", but worth a look).
    """
    errors: list[str] = []
    notes: list[str] = []
    seen_ids: set[str] = set()
    for n, article in enumerate(articles, 1):
        aid = str(article.get("id", f"#{n}"))
        missing = [k for k in REQUIRED_KEYS if k not in article]
        if missing:
            errors.append(f"{aid}: missing keys {missing}")
            continue
        if aid in seen_ids:
            errors.append(f"{aid}: duplicate id")
        seen_ids.add(aid)
        haystack = f"{article['title']}\n{article['text']}"
        words = len(article["text"].split())
        if not MIN_WORDS <= words <= MAX_WORDS:
            notes.append(f"{aid}: text has {words} words (expected {MIN_WORDS}-{MAX_WORDS})")
        surface: dict[tuple[str, str], list[str]] = {}
        for ent in article["entities"]:
            errors += [f"{aid}: {msg}" for msg in _check_entity(ent, haystack)]
            if isinstance(ent.get("name"), str):
                for key in _keys(ent):
                    surface.setdefault((str(ent.get("type")), key), []).append(ent["name"])
        for (typ, key), names in surface.items():
            if len(names) > 1:
                notes.append(f"{aid}: {typ} surface form {key!r} shared by {names}")
    return errors, notes


def _check_entity(ent: dict, haystack: str) -> list[str]:
    """Problems with one gold entity, as messages."""
    name, typ = ent.get("name"), ent.get("type")
    aliases = ent.get("aliases", [])
    if not isinstance(name, str) or not name.strip():
        return [f"entity without a name: {ent}"]
    problems: list[str] = []
    if typ not in TYPES:
        problems.append(f"{name!r}: unknown type {typ!r}")
    if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
        return [*problems, f"{name!r}: aliases must be a list of strings"]
    code = ent.get("country_code")
    if code is not None and not (isinstance(code, str) and re.fullmatch(r"[A-Z]{2}", code)):
        problems.append(f"{name!r}: bad country_code {code!r}")
    first = normalise(name).split(" ", 1)[0]
    if typ == "PERSON" and first in _TITLES:
        problems.append(f"{name!r}: PERSON name starts with a title")
    if typ == "ORG" and name.casefold().startswith("the "):
        problems.append(f"{name!r}: ORG name starts with 'the'")
    for alias in aliases:
        if not occurs(alias, haystack):
            problems.append(f"{name!r}: alias {alias!r} not in title or text")
    if not occurs(name, haystack):
        if typ != "PLACE":
            problems.append(f"{name!r}: name not in title or text")
        elif not any(occurs(a, haystack) for a in aliases):
            problems.append(f"{name!r}: neither the name nor an alias is in title or text")
    return problems


def type_counts(articles: Iterable[dict]) -> dict[str, int]:
    """Number of gold entities per type, plus "ALL"."""
    counts = dict.fromkeys(TYPES, 0)
    for article in articles:
        for ent in article.get("entities", []):
            if ent.get("type") in counts:
                counts[ent["type"]] += 1
    counts["ALL"] = sum(counts[t] for t in TYPES)
    return counts


def load_predicted(path: str | Path) -> dict[str, list[dict]]:
    """Predictions as a JSON object {id: [entity, ...]} or JSON lines {"id", "entities"}."""
    text = Path(path).read_text(encoding="utf-8")
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        data = None
    if isinstance(data, dict):
        return {str(k): list(v) for k, v in data.items()}
    out: dict[str, list[dict]] = {}
    for line in text.splitlines():
        if line.strip():
            record = json.loads(line)
            out.setdefault(str(record["id"]), []).extend(record.get("entities") or [])
    return out


def main(argv: list[str] | None = None) -> int:
    """Validate the gold file, print its counts, and score predictions if given."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("gold", nargs="?", default=str(DEFAULT_GOLD), help="gold JSONL file")
    parser.add_argument("--predicted", help="predictions: JSON {id: [...]} or JSON lines")
    parser.add_argument("--details", action="store_true", help="list fp/fn per article")
    args = parser.parse_args(argv)

    articles = load_gold(args.gold)
    errors, notes = validate(articles)
    for note in notes:
        print(f"note: {note}")
    for error in errors:
        print(f"ERROR: {error}")
    counts = type_counts(articles)
    datelined = sum(1 for a in articles if re.match(r"[A-ZÀ-Þ .,'-]{3,}(,| \()", a["text"]))
    print(
        f"{len(articles)} articles ({datelined} with a dateline), {counts['ALL']} entities: "
        + ", ".join(f"{t} {counts[t]}" for t in TYPES)
    )
    if errors:
        print(f"{len(errors)} error(s)")
        return 1
    if args.predicted:
        scores = score(articles, load_predicted(args.predicted), details=args.details)
        print(format_table(scores))
        if args.details and scores["details"]:
            print(format_details(scores["details"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
