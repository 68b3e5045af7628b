"""The one small interface every live feed implements, declarative in the manner of singer-sdk.

A connector is a few attributes — its registry entry, base-URL setting, where the records sit
in a page (`records_path`) and which fields each must carry (`required_fields`) — plus
`requests()` (what to ask: URL, params, paginator, per country or city), `auth()` (an
`httpx.Auth`, feeds/auth.py) and `normalize()` (one page's records to observation rows: pure,
testable without HTTP). The base sends every page through the shared `FeedClient`, drives the
paginator (feeds/paging.py) and checks each page's records once. The refresh runs connectors;
the store places, validates and keeps revisions.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any, ClassVar

import httpx
import pandas as pd

from data_sources import settings
from data_sources.feeds.checks import records_at
from data_sources.feeds.client import FeedClient
from data_sources.feeds.paging import BasePaginator, SinglePage
from data_sources.model.validation import OBSERVATION_COLUMNS, conform
from data_sources.redact import shown_url
from data_sources.sources import Source

PAGE_KEY = "_page_url"  # put on each record by normalize_all: the page it came on


@dataclass
class Scope:
    """What to refresh: countries (ISO3), cities (names), figures from `since` (to `until`)."""

    countries: list[str] = field(default_factory=list)
    cities: list[str] = field(default_factory=list)
    since: date | None = None
    until: date | None = None
    # incremental refresh: per country, the first date worth asking for (newest stored period
    # minus the revision overlap); a country absent here gets `since`, else the full history
    since_by_country: dict[str, date] = field(default_factory=dict)

    def until_year(self) -> int:
        return (self.until or date.today()).year

    def since_for(self, country: str) -> date | None:
        """The first date to ask the feed for about `country` (None: its whole history)."""
        return self.since_by_country.get(country, self.since)

    def since_iso(self, default: str = "2014-01-01", country: str | None = None) -> str:
        since = self.since_for(country) if country else self.since
        return since.isoformat() if since else default


@dataclass
class Batch:
    """One raw page as the feed sent it, with where it came from (URL without secrets)."""

    dataset: str
    url: str
    records: list[Any]
    context: dict[str, Any] = field(default_factory=dict)


@dataclass
class PageRequest:
    """One request a connector wants answered, however many pages long: where, with what,
    paged how, and what its records are (each None: the connector's class attribute)."""

    url: str
    dataset: str
    params: dict[str, Any] = field(default_factory=dict)
    context: dict[str, Any] = field(default_factory=dict)
    paginator: BasePaginator = field(default_factory=SinglePage)
    method: str = "GET"
    json_body: dict[str, Any] | None = None  # with it, the paginator's params go in the body
    records_path: str | None = None
    required_fields: tuple[str, ...] | None = None
    one_record: bool = False  # `records_path` holds one object, not a list (FTS's totals)


class Connector:
    # The feed's registry entry (`sources.py`): its name, title, licence, citation, link and
    # credentials are read from there, never declared here a second time.
    source: ClassVar[Source]
    name: ClassVar[str]
    title: ClassVar[str]
    licence: ClassVar[str]
    citation: ClassVar[str]
    homepage: ClassVar[str] = ""
    required_settings: ClassVar[tuple[str, ...]] = ()
    base_url_setting: ClassVar[str]
    default_base_url: ClassVar[str]
    covers: ClassVar[str] = ""  # one line for the README and the Data page
    id_field: ClassVar[str | None] = None  # a record's identity in the feed, if it has one
    records_path: ClassVar[str] = "data"  # dotted path to the list of records in a page
    required_fields: ClassVar[tuple[str, ...]] = ()  # every record must carry these
    cache: ClassVar[bool] = True  # False: never answer from, or write to, the disk cache

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        entry = cls.source
        cls.name = entry.key
        cls.title = entry.feed_title or entry.title
        cls.licence, cls.citation, cls.homepage = entry.licence, entry.citation, entry.url
        cls.required_settings = entry.required_settings

    def __init__(self) -> None:
        self.notes: list[str] = []  # what a refresh should tell the user without failing
        # records that give no figure on purpose, by reason ("not intersectoral": 120): said in
        # the summary, so that rows in = stored + rejected + skipped adds up
        self.skipped: Counter[str] = Counter()
        # records the connector itself refused (no date, no place code…), with a `reason`,
        # stored as rejects beside the store's own
        self.rejected: list[pd.DataFrame] = []

    def skip(self, reason: str, count: int) -> None:
        if count:
            self.skipped[reason] += int(count)

    def reject(self, batch: Batch, frame: pd.DataFrame, reason: str | pd.Series) -> None:
        """Refuse rows (observation columns, as far as known) with a reason each."""
        if frame.empty:
            return
        out = self.rows(batch, frame).assign(reason=reason)
        self.rejected.append(out[[*OBSERVATION_COLUMNS, "reason"]])

    def rejected_rows(self) -> pd.DataFrame | None:
        return pd.concat(self.rejected, ignore_index=True) if self.rejected else None

    def base_url(self) -> str:
        return (settings.setting(self.base_url_setting) or self.default_base_url).rstrip("/")

    def missing_settings(self) -> list[str]:
        return [n for n in self.required_settings if not settings.setting(n)]

    def auth(self, client: FeedClient) -> httpx.Auth | None:
        """The feed's credentials (feeds/auth.py), made once per fetch; None: no key."""
        return None

    def requests(self, client: FeedClient, scope: Scope) -> Iterator[PageRequest]:
        """What to ask the feed for `scope`, one request per country, city or table."""
        raise NotImplementedError

    def fetch(self, client: FeedClient, scope: Scope) -> Iterator[Batch]:
        """Every page of every request, in order, records checked."""
        auth = self.auth(client)
        for request in self.requests(client, scope):
            yield from self.pages(client, request, auth)

    def pages(
        self, client: FeedClient, request: PageRequest, auth: httpx.Auth | None = None
    ) -> Iterator[Batch]:
        """The pages of one request: its paginator says which next and when to stop (a loop
        or a runaway is a FeedError); each page's records are checked here, once."""
        paginator = request.paginator
        while not paginator.finished:
            url, paging = paginator.url(request.url), paginator.params()
            body = request.json_body
            if body is None:
                params = {**request.params, **paging}
            else:
                params, body = dict(request.params), {**body, **paging}
            shown = self.shown_url(url, params, auth, request, paging)
            payload = client.json(
                request.method,
                url,
                params=params or None,
                json_body=body,
                auth=auth,
                cache=self.cache,
            )
            self.check_payload(shown, payload)
            records = records_at(
                self.name,
                shown,
                payload,
                request.records_path or self.records_path,
                request.required_fields or self.required_fields,
                one=request.one_record,
            )
            yield Batch(request.dataset, shown, records, request.context)
            paginator.advance(payload, records, self.name, shown)

    def shown_url(
        self,
        url: str,
        params: dict,
        auth: httpx.Auth | None,
        request: PageRequest,
        paging: dict[str, Any],
    ) -> str:
        """The page's URL as stored and shown: a query key where the feed expects it (masked),
        every secret scrubbed."""
        shown_auth = auth.shown_params() if hasattr(auth, "shown_params") else {}
        return shown_url(url, {**shown_auth, **params})

    def check_payload(self, shown: str, payload: Any) -> None:
        """A hook for a feed that reports failure inside a 200 answer (DTM's isSuccess)."""

    def normalize(self, batch: Batch, scope: Scope) -> pd.DataFrame:
        raise NotImplementedError

    def normalize_all(self, batches: list[Batch], scope: Scope) -> pd.DataFrame:
        """All pages of one refresh, merged per dataset and request before normalizing: a
        record repeated on two pages (the feed moved under us) counts once, and sums over
        records (a district's total, events at one place and day) never count it twice."""
        groups: dict[str, list[Batch]] = {}
        for batch in batches:
            key = json.dumps([batch.dataset, batch.context], sort_keys=True, default=str)
            groups.setdefault(key, []).append(batch)
        frames = []
        for group in groups.values():
            seen: set[str] = set()
            records = []
            for batch in group:
                for record in batch.records:
                    identity = (
                        str(record.get(self.id_field))
                        if self.id_field and isinstance(record, dict) and self.id_field in record
                        else json.dumps(record, sort_keys=True, default=str)
                    )
                    if identity not in seen:
                        seen.add(identity)
                        # each record keeps the page it came on: its provenance link
                        records.append(
                            {**record, PAGE_KEY: batch.url} if isinstance(record, dict) else record
                        )
            first = group[0]
            url = first.url + (f" (+{len(group) - 1} more pages)" if len(group) > 1 else "")
            frames.append(self.normalize(Batch(first.dataset, url, records, first.context), scope))
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def rows(self, batch: Batch, frame: pd.DataFrame, **columns: Any) -> pd.DataFrame:
        """Stamp provenance and defaults on a normalizer's frame and conform it."""
        defaults = {
            "source": self.name,
            "dataset": batch.dataset,
            "source_url": batch.url,
            "citation": self.citation,
            "licence": self.licence,
            "estimate": "best",
        }
        if "source_url" in frame and frame["source_url"].fillna("").ne("").all():
            del defaults["source_url"]  # each row's own page, set by the normalizer
        out = frame.assign(**{k: v for k, v in {**defaults, **columns}.items()})
        return conform(out)


def drop_before_since(frame: pd.DataFrame, scope: Scope) -> pd.DataFrame:
    """Rows older than their country's since-date, dropped: for feeds that only serve whole
    files (WFP's CSV on HDX, HXL sheets) incremental refresh is a filter on our side; the
    download itself is saved by revalidation (304) when the file did not change."""
    if frame.empty or "country_iso3" not in frame or not (scope.since or scope.since_by_country):
        return frame
    since = pd.to_datetime(
        frame["country_iso3"].map(lambda c: scope.since_for(str(c))), errors="coerce"
    )
    end = pd.to_datetime(frame["period_end"], errors="coerce")
    return frame[since.isna() | end.isna() | (end >= since)]


def numeric(values: pd.Series) -> pd.Series:
    """Numbers as numbers; anything else left as the source sent it, so that validation
    rejects it with the original text in the reason."""
    parsed = pd.to_numeric(values, errors="coerce")
    return parsed.where(parsed.notna(), values)
