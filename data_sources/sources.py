"""The registry of sources: every fact about a source, declared once.

A source's title (badges), licence, citation, link, attribution line and the settings that hold
its credentials live here and nowhere else. The connectors (`feeds/connectors/*`) and the bundled
snapshot (`snapshot/__init__.py`) point at their entry; scrubbing (`settings`, `feeds/redact.py`), the
pages' badges and "Sources:" captions, the ZIP's README and `snapshot/SOURCES.md` are generated
from it. So a new feed whose key setting is declared here is scrubbed without anyone having to
remember a second list, and SOURCES.md cannot drift from what the store records (a test renders
it and compares).

Pure data: no imports from the rest of the package, so anything may import it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Dataset:
    """A table a feed relays from another publisher, stored with that publisher's citation
    (and licence, when it is not the feed's)."""

    key: str
    citation: str
    licence: str = ""
    redistributable: bool = True  # False: the publisher's terms forbid serving its rows on


@dataclass(frozen=True)
class Source:
    """One source as the store names it (`series.source`).

    `licence` and `citation` are what the live feed stamps on every row it stores; a bundled
    file states its own (`BundledFile`). `line` is the attribution line of the pages' captions
    and the ZIP's README (default: citation — licence)."""

    key: str
    title: str  # badges and the freshness list
    licence: str
    citation: str
    url: str  # the publisher's page or the API's documentation
    line: str = ""
    feed_title: str = ""  # the refresh panel's name for the live feed, when it differs
    # settings whose values are credentials or identifiers: scrubbed from every URL, log line
    # and error message, and needed before the feed can run
    secret_settings: tuple[str, ...] = ()
    # settings holding URLs whose user-info (user:password@) is a credential; needed too
    url_settings: tuple[str, ...] = ()
    secret_params: tuple[str, ...] = ()  # query parameters that carry a secret
    # False: its data is never committed nor bundled, nor served by the API (`redistributable`)
    redistributable: bool = True
    datasets: tuple[Dataset, ...] = ()  # relayed tables with a citation of their own

    def dataset(self, key: str) -> Dataset:
        """The relayed table `key` (its citation and licence; the feed's licence if none)."""
        found = next(d for d in self.datasets if d.key == key)
        return Dataset(found.key, found.citation, found.licence or self.licence)

    @property
    def attribution(self) -> str:
        return self.line or f"{self.citation} — {self.licence}"

    @property
    def required_settings(self) -> tuple[str, ...]:
        """What the feed cannot run without: its credentials, and the URLs it reads."""
        return (*self.secret_settings, *self.url_settings)


@dataclass(frozen=True)
class BundledFile:
    """A file of the bundled snapshot: what every row read from it records (`licence`,
    `citation`, `url`) and the prose SOURCES.md gives about it."""

    file: str
    source: str  # a key of SOURCES
    licence: str
    citation: str  # "" when each row carries its own
    url: str  # "" when each row carries its own
    what: str
    origin: str
    attribution: str = ""  # SOURCES.md's words after the licence (default: "Cite: citation.")
    notes: str = ""  # a paragraph under the table (columns, how figures are derived)


UCDP_CITATION = (
    "UCDP Georeferenced Event Dataset: Sundberg, Ralph and Erik Melander (2013), Introducing the"
    " UCDP Georeferenced Event Dataset, Journal of Peace Research 50(4); Högbladh, Stina (2019),"
    " UCDP GED Codebook version 19.1, Department of Peace and Conflict Research, Uppsala"
    " University."
)

_SOURCES = (
    Source(
        key="wfp",
        title="WFP food prices",
        feed_title="WFP food prices (HDX)",
        licence="CC BY-IGO",
        citation="World Food Programme, VAM food prices (HDX)",
        url="https://data.humdata.org/organization/wfp",
        line="WFP VAM food prices via HDX — CC BY-IGO",
    ),
    Source(
        key="unhcr",
        title="UNHCR refugee statistics",
        feed_title="UNHCR population API",
        licence="CC BY 4.0",
        citation="UNHCR Refugee Population Statistics Database (api.unhcr.org)",
        url="https://api.unhcr.org/docs/refugee-statistics.html",
        line="UNHCR Refugee Population Statistics — CC BY 4.0",
    ),
    Source(
        key="idmc",
        title="IDMC internal displacement",
        licence="CC BY 4.0",
        citation="IDMC Global Internal Displacement Database, via UNHCR 'refugees' R package",
        url="https://www.internal-displacement.org/database/displacement-data/",
        line="IDMC Global Internal Displacement Database via UNHCR — CC BY 4.0",
    ),
    Source(
        key="reported",
        title="Reported figures",
        licence="quoted for reference; see source_url",
        citation="each figure's report (cited_in) and link (source_url)",
        url="",
        line="Figures quoted from cited reports (OCHA, ICRC, Airwars, AP, Amnesty, press): "
        "each links to its source",
    ),
    Source(
        key="ucdp",
        title="UCDP GED",
        licence="CC BY 4.0 (UCDP); cite Sundberg & Melander 2013 and Davies et al.",
        citation="Uppsala Conflict Data Program, Georeferenced Event Dataset (GED)",
        url="https://ucdp.uu.se/apidocs/",
        secret_settings=("UCDP_ACCESS_TOKEN",),
    ),
    Source(
        key="hapi",
        title="HDX HAPI",
        licence="as published on HDX per dataset (CC BY / CC BY-IGO; IOM DTM and ACLED terms "
        "apply)",
        citation="OCHA Centre for Humanitarian Data, HDX HAPI",
        url="https://hapi.humdata.org/docs",
        secret_settings=("HAPI_APP_IDENTIFIER",),
        secret_params=("app_identifier",),
        datasets=(
            Dataset(
                "conflict-events",
                "ACLED via HDX HAPI (monthly aggregates)",
                redistributable=False,  # ACLED's terms apply to ACLED's figures wherever relayed
            ),
            Dataset("food-prices", "WFP VAM market prices via HDX HAPI", "CC BY-IGO"),
        ),
    ),
    Source(
        key="dtm",
        title="IOM DTM",
        licence="IOM DTM terms: non-commercial use, no redistribution",
        citation="Source: International Organization for Migration (IOM), Displacement Tracking "
        "Matrix (DTM)",
        url="https://dtm.iom.int/data-and-analysis/dtm-api",
        secret_settings=("DTM_SUBSCRIPTION_KEY",),
        redistributable=False,
    ),
    Source(
        key="acled",
        title="ACLED",
        licence="ACLED Terms of Use: no redistribution of the data",
        citation="Armed Conflict Location & Event Data (ACLED), acleddata.com",
        url="https://acleddata.com/api-documentation/getting-started",
        secret_settings=("ACLED_USERNAME", "ACLED_PASSWORD"),
        secret_params=("username", "password"),
        redistributable=False,
    ),
    Source(
        key="reliefweb",
        title="ReliefWeb",
        licence="ReliefWeb terms; each report keeps its publisher's copyright",
        citation="ReliefWeb (UN OCHA), reports API v2",
        url="https://apidoc.reliefweb.int/",
        secret_settings=("RELIEFWEB_APPNAME",),
        secret_params=("appname",),
    ),
    Source(
        key="fts",
        title="OCHA FTS",
        licence="CC BY-IGO",
        citation="OCHA Financial Tracking Service (fts.unocha.org)",
        url="https://fts.unocha.org/",
    ),
    Source(
        key="insecurity_insight",
        title="Insecurity Insight",
        licence="CC BY-SA 4.0",
        citation="Insecurity Insight, incident data (attacks on health care, education in "
        "danger), via HDX",
        url="https://data.humdata.org/organization/insecurity-insight",
    ),
    Source(
        key="hxl",
        title="HXL CSV by URL",
        licence="as stated by each file's publisher",
        citation="HXL-tagged CSV",
        url="https://hxlstandard.org/",
        url_settings=("HXL_URLS",),
    ),
)

# key -> entry; tests may add an entry (monkeypatch.setitem) to check that everything built on
# the registry follows it
SOURCES: dict[str, Source] = {s.key: s for s in _SOURCES}

_REPORTED_COLUMNS = (
    "Columns of `reported_figures.csv`: `reported_on, period_start, period_end, place, "
    'place_kind (city/country/region), country_iso3, site (a part of the city, e.g. "eastern '
    'Mosul"), metric, qualifier (what exactly is counted), value, unit, estimate (low = "at '
    'least", high = "as many as", reported = as stated), original_source (the organisation '
    "that produced the figure), source_url, quote, cited_in, note`."
)

_UCDP_DERIVED = (
    "How the UCDP events become figures (`data_sources/formats/ucdp.py`): per reported location "
    "(`where_coordinates`, kept as the figure's site) and day, in total and by type of violence, "
    "deaths best, low and high (`conflict_fatalities`), civilian deaths (`civilians_killed`) and "
    "the number of events (`conflict_events`), summed over the events of that place and day. An "
    "event is counted on its earliest possible day (`date_start`), as the monthly sums above "
    'are. A location is its city when a GeoNames city of that name lies within 25 km of it ("Mosul '
    'town"); otherwise it is placed on the district (`adm_2`) or governorate (`adm_1`) the row '
    'names, as a place of its own ("Mansoura village", 10 km from Aleppo, is Jabal Saman '
    "district's, not Aleppo's); a location naming the country (\"Iraq\") is the country's. Events "
    'that name neither ("Northern Iraq", "Iraq-Turkey border") are rejected with that reason.'
)

# In the order the snapshot loads them (its fingerprint hashes them in this order).
_BUNDLED = (
    BundledFile(
        file="wfp_food_prices_syr.csv",
        source="wfp",
        licence="CC BY-IGO",
        citation="World Food Programme, VAM food prices for the Syrian Arab Republic (HDX)",
        url="https://data.humdata.org/dataset/wfp-food-prices-for-syrian-arab-republic",
        what="WFP market prices for Syria, Jan 2014 – Dec 2018: 28,014 rows, 48 markets, 43 "
        "commodities, SYP and USD; Aleppo city's markets Aleppo, Al-Cha'ar and Moghambo included",
        origin='Rows with `countryiso3 = SYR` of the HDX "global" yearly files '
        "`wfp_food_prices_global_2014..2018.csv` (OCHA-DAP/hdx-scraper-wfp-foodprices @ "
        "9ce3b116, tests/fixtures), written in the per-country HDX layout "
        "(`wfp_food_prices_syr.csv`: no country column, HXL row under the header). Values "
        "unchanged.",
        attribution='"Source: World Food Programme (WFP), VAM food prices, via the Humanitarian '
        'Data Exchange."',
    ),
    BundledFile(
        file="population_irq_syr_derived.csv",
        source="unhcr",
        licence="CC BY 4.0",
        citation="UNHCR Refugee Population Statistics Database (R package 'refugees' 2025.12.1)",
        url="https://www.unhcr.org/refugee-statistics/",
        what="UNHCR population statistics where the country of origin or asylum is Iraq or "
        "Syria, 1968–2025",
        origin="Rows of `population.rda` of the UNHCR R package `refugees` 2025.12.1 "
        "(PopulationStatistics/refugees @ 0c16a6d0)",
        attribution='"Source: UNHCR Refugee Population Statistics Database."',
    ),
    BundledFile(
        file="idmc_irq_syr_derived.csv",
        source="idmc",
        licence=SOURCES["idmc"].licence,
        citation=SOURCES["idmc"].citation,
        url=SOURCES["idmc"].url,
        what="IDMC totals of internally displaced people, Iraq and Syria, 2009–2025",
        origin="`idmc.rda` of the same package",
        attribution='"Source: Internal Displacement Monitoring Centre (IDMC), via UNHCR."',
    ),
    BundledFile(
        file="reported_figures.csv",
        source="reported",
        licence=SOURCES["reported"].licence,
        citation="",
        url="",
        what='32 figures for Mosul, Aleppo and "Iraq and Syria" (2014–2017) quoted in situation '
        "reports and press: UN OCHA situation reports (ReliefWeb, un.org.au), ICRC via OCHA, "
        "Iraq's Ministry of Migration and Displaced via OCHA, Airwars, Associated Press, Amnesty "
        "International via PRI, IOM via Antiwar.com, The New Arab, Anadolu Agency, and the "
        "figures of `shared/data/reported-figures/mosul_aleppo_dec2016.csv` (Bill Van Auken, "
        "WSWS, 16 Dec 2016).",
        origin="Curated by hand: every row has the URL it was read on (`source_url`), and 26 of "
        "32 rows carry the sentence verbatim (`quote`). The six rows without a quote come from "
        "the shared table of the WSWS article; their sentence could not be retrieved, which the "
        '`note` column says. Periods given as "as of" a date use that date; the `note` column '
        "says where a period bound was taken from the same report.",
        attribution="Copyright stays with each publisher; each row cites its report (`cited_in`).",
        notes=_REPORTED_COLUMNS,
    ),
    BundledFile(
        file="conflict_data_irq.csv.xz",
        source="ucdp",
        licence="CC BY-IGO (HDX); UCDP data CC BY 4.0",
        citation=UCDP_CITATION + " Iraq file of UCDP GED 19.1 on HDX (conflict_data_irq.csv).",
        url="https://data.humdata.org/dataset/ucdp-data-for-iraq",
        what="UCDP GED 19.1 events in Iraq, 1989-01-01 – 2018-12-25: 7,473 events (one row each; "
        'HXL row under the header). **Mosul**: `where_coordinates` "Mosul town", 558 events in '
        "2016-17; Mosul, sum of `best` by month of `date_start`: 2016-10 520 · 2016-11 521 · "
        "2016-12 503 · 2017-01 797 · 2017-02 905 · 2017-03 1,296 · 2017-04 1,160 · 2017-05 1,133 "
        "· 2017-06 1,072 · 2017-07 306.",
        origin='HDX resource `conflict_data_irq.csv` of the dataset "ucdp-data-for-iraq", '
        "byte-exact copy found at mcdimant/refugee_predictive_model @ 01a04033 : "
        "data/conflict_data_irq.csv; compressed with `xz -9` (no row or value changed).",
    ),
    BundledFile(
        file="ged_syria_2016-2019.csv.xz",
        source="ucdp",
        licence="CC BY 4.0",
        citation=UCDP_CITATION + " UCDP GED Syria release 652.1601.1911 (2016-2019).",
        url="https://ucdp.uu.se/downloads/",
        what='UCDP\'s special Syria release ("GED Syria 652.1601.1911": GED 19.1 variables, every '
        "clear event, not only dyads above 25 deaths a year), 2016-01-01 – 2019-11-30: 16,566 "
        'events. **Aleppo**: `where_coordinates` "Aleppo town", 782 events in 2016-17; Aleppo, '
        "sum of `best` by month of `date_start`: 2016-07 556 · 2016-08 562 · 2016-09 497 · "
        "2016-10 728 · 2016-11 1,160 · 2016-12 398.",
        origin="knapply/data4ds4da @ a1a309a0 : data/ucdp_syria_df.rda, converted to CSV "
        "(pyreadr → pandas; no row or value changed; dates as YYYY-MM-DD), then compressed with "
        "`xz -9`.",
        notes=_UCDP_DERIVED,
    ),
)

_II_ORIGIN = (
    "Rows with `Country ISO` IRQ or SYR, in the sheet's order, of the first sheet of "
    "OCHA-DAP/hdx-scraper-insecurity-insight @ ebc76c52 : src/hdx_scraper_insecurity_insight/"
    "spreadsheet-samples/{sheet} (written as CSV by pandas, every cell as text; "
    "tests/fixtures/columns/{fixture}), by `scripts/build_snapshot.py --insecurity-insight`; "
    "no row or value changed; `xz -9`."
)
_II_DERIVED = (
    "How Insecurity Insight's incidents become figures (`data_sources/formats/insecurity_insight.py`): "
    "each incident's killed, injured and kidnapped health workers (or educators, students) are "
    "metrics of their own, never conflict deaths, summed per place and day of the incident. An "
    "incident at point precision ((2) 25 km, (3) district or commune) is the city of its country "
    "within 10 km of its point, else the governorate its row names; at (4) province precision "
    "it is that governorate; at (6) country precision the country. This derived subset is "
    "shared under the same licence (CC BY-SA 4.0)."
)

_BUNDLED = (
    *_BUNDLED,
    BundledFile(
        file="ii_health_care_irq_syr.csv.xz",
        source="insecurity_insight",
        licence="CC BY-SA 4.0 (as stated in the workbook; HDX lists CC BY)",
        citation="Insecurity Insight. 2024. 2016-2023 Attacks on Health Care Incident Data, "
        "v. 05 January 2024. Iraq and Syria rows.",
        url="https://data.humdata.org/organization/insecurity-insight",
        what="Insecurity Insight's attacks on health care, Iraq and Syria, 2016–2023: 958 "
        "incidents (54 IRQ, 904 SYR); health workers killed, injured, kidnapped per incident, "
        "with coordinates and their precision.",
        origin=_II_ORIGIN.format(
            sheet="2016-2023-attacks-on-health-care-incident-data.xlsx",
            fixture="ii_attacks_on_health_care_2016_2023.csv.xz",
        ),
        notes=_II_DERIVED,
    ),
    BundledFile(
        file="ii_education_irq_syr.csv.xz",
        source="insecurity_insight",
        licence="CC BY-SA 4.0 (as stated in the workbook; HDX lists CC BY)",
        citation="Insecurity Insight. 2024. 2020-2023 Education in Danger Incident Data. Iraq "
        "and Syria rows.",
        url="https://data.humdata.org/organization/insecurity-insight",
        what="Insecurity Insight's education in danger, Iraq and Syria, 2020–2023: 125 incidents "
        "(24 IRQ, 101 SYR); educators and students killed, injured, kidnapped per incident.",
        origin=_II_ORIGIN.format(
            sheet="2020-2023-education-in-danger-incident-data.xlsx",
            fixture="ii_education_in_danger_2020_2023.csv.xz",
        ),
    ),
)

BUNDLED: dict[str, BundledFile] = {f.file: f for f in _BUNDLED}


def source(key: str) -> Source:
    """The entry of `key`; a connector or bundled file naming a key that has none fails here,
    at import, rather than showing a source without its licence."""
    try:
        return SOURCES[key]
    except KeyError:
        raise KeyError(f"source '{key}' has no entry in data_sources/sources.py") from None


def title(key: str) -> str:
    """A source's name on badges; an imported file's source is its own name."""
    return SOURCES[key].title if key in SOURCES else key


def redistributable(key: str, dataset: str = "") -> bool:
    """Whether rows of source `key` (and relayed table `dataset`) may be served to others: the
    API's rule (`/api/v1/`), decided here and nowhere else. A source the registry does not know
    (an imported file's own name) is the host's own import, served as its file states."""
    entry = SOURCES.get(key)
    if entry is None:
        return True
    if not entry.redistributable:
        return False
    return all(d.redistributable for d in entry.datasets if d.key == dataset)


def attributions() -> dict[str, str]:
    """The attribution line per source: the pages' "Sources:" captions, the ZIP's README."""
    return {key: s.attribution for key, s in SOURCES.items()}


def secret_settings() -> tuple[str, ...]:
    """Every setting declared secret by any source, in registry order."""
    return tuple(dict.fromkeys(n for s in SOURCES.values() for n in s.secret_settings))


def url_settings() -> tuple[str, ...]:
    return tuple(dict.fromkeys(n for s in SOURCES.values() for n in s.url_settings))


def secret_params() -> set[str]:
    return {p.lower() for s in SOURCES.values() for p in s.secret_params}
