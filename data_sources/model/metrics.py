"""The metric vocabulary: what each metric means, its unit, how its periods combine (flow, stock, price) and the bounds beyond which a value is absurd."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Metric:
    """A quantity the dashboard knows how to chart.

    `kind` decides how periods combine: flows add up (deaths in a month = sum of the weeks),
    stocks do not (IDPs at the end of a month = the last count), prices average.
    `upper_bound` is the largest value that is still plausible for one place and period; anything
    above is rejected as absurd rather than silently charted.
    """

    name: str
    label: str
    group: str
    kind: str  # "flow" | "stock" | "price"
    description: str
    upper_bound: float = 1e9
    breakdown: str = "breakdown"  # what the pages call its qualifier ("commodity" for food)
    default_qualifier: str | None = None  # the breakdown the pages open on, where it is stored

    @property
    def by_market(self) -> bool:
        """A price is quoted per market (`site`): the pages offer each market, the median of
        markets or one market, never a mean of them."""
        return self.kind == "price"


METRICS: dict[str, Metric] = {
    m.name: m
    for m in [
        Metric(
            "idps",
            "Internally displaced people",
            "displacement",
            "stock",
            "People displaced inside their country, counted at a date (stock).",
        ),
        Metric(
            "displaced_new",
            "Newly displaced",
            "displacement",
            "flow",
            "People newly displaced during the period (flow).",
        ),
        Metric("returnees", "Returnees", "displacement", "stock", "People who returned home."),
        Metric(
            "refugees_from",
            "Refugees from the country",
            "displacement",
            "stock",
            "Refugees originating from the country (UNHCR, by country of origin).",
        ),
        Metric(
            "civilians_killed",
            "Civilians killed",
            "casualties",
            "flow",
            "Civilian deaths in the period.",
        ),
        Metric(
            "civilians_injured",
            "Civilians injured",
            "casualties",
            "flow",
            "Civilians wounded in the period.",
        ),
        Metric(
            "conflict_fatalities",
            "Conflict fatalities",
            "casualties",
            "flow",
            "All deaths in conflict events (combatants and civilians).",
        ),
        Metric(
            "conflict_events",
            "Conflict events",
            "casualties",
            "flow",
            "Number of recorded conflict events.",
            upper_bound=1e6,
        ),
        Metric(
            "airstrikes",
            "Airstrikes",
            "casualties",
            "flow",
            "Number of airstrikes.",
            upper_bound=1e7,
        ),
        Metric(
            "food_price",
            "Food price",
            "supply",
            "price",
            "Market price of a commodity (qualifier: commodity and price type; site: market).",
            upper_bound=1e10,
            breakdown="commodity",
            default_qualifier="Wheat flour, retail",
        ),
        Metric(
            "healthworkers_killed",
            "Health workers killed",
            "casualties",
            "flow",
            "Number of health workers killed in incidents of the period (Insecurity Insight and kin); not part of conflict fatalities' meaning.",
        ),
        Metric(
            "healthworkers_injured",
            "Health workers injured",
            "casualties",
            "flow",
            "Number of health workers injured in incidents of the period (Insecurity Insight and kin); not part of conflict fatalities' meaning.",
        ),
        Metric(
            "healthworkers_kidnapped",
            "Health workers kidnapped",
            "casualties",
            "flow",
            "Number of health workers kidnapped in incidents of the period (Insecurity Insight and kin); not part of conflict fatalities' meaning.",
        ),
        Metric(
            "aidworkers_killed",
            "Aid workers killed",
            "casualties",
            "flow",
            "Number of aid workers killed in incidents of the period (Insecurity Insight and kin); not part of conflict fatalities' meaning.",
        ),
        Metric(
            "aidworkers_injured",
            "Aid workers injured",
            "casualties",
            "flow",
            "Number of aid workers injured in incidents of the period (Insecurity Insight and kin); not part of conflict fatalities' meaning.",
        ),
        Metric(
            "aidworkers_kidnapped",
            "Aid workers kidnapped",
            "casualties",
            "flow",
            "Number of aid workers kidnapped in incidents of the period (Insecurity Insight and kin); not part of conflict fatalities' meaning.",
        ),
        Metric(
            "educators_killed",
            "Educators killed",
            "casualties",
            "flow",
            "Number of educators (teachers and staff of schools and universities) killed in incidents of the period (Insecurity Insight and kin); not part of conflict fatalities' meaning.",
        ),
        Metric(
            "educators_injured",
            "Educators injured",
            "casualties",
            "flow",
            "Number of educators (teachers and staff of schools and universities) injured in incidents of the period (Insecurity Insight and kin); not part of conflict fatalities' meaning.",
        ),
        Metric(
            "educators_kidnapped",
            "Educators kidnapped",
            "casualties",
            "flow",
            "Number of educators (teachers and staff of schools and universities) kidnapped in incidents of the period (Insecurity Insight and kin); not part of conflict fatalities' meaning.",
        ),
        Metric(
            "students_killed",
            "Students killed",
            "casualties",
            "flow",
            "Number of students killed in incidents of the period (Insecurity Insight and kin); not part of conflict fatalities' meaning.",
        ),
        Metric(
            "students_injured",
            "Students injured",
            "casualties",
            "flow",
            "Number of students injured in incidents of the period (Insecurity Insight and kin); not part of conflict fatalities' meaning.",
        ),
        Metric(
            "students_kidnapped",
            "Students kidnapped",
            "casualties",
            "flow",
            "Number of students kidnapped in incidents of the period (Insecurity Insight and kin); not part of conflict fatalities' meaning.",
        ),
        Metric(
            "fuel_price",
            "Fuel price",
            "supply",
            "price",
            "Market price of fuel (diesel, petrol, cooking gas; qualifier: fuel and price type; site: market).",
            upper_bound=1e10,
            breakdown="fuel",
        ),
        Metric(
            "exchange_rate",
            "Exchange rate",
            "supply",
            "price",
            "Market rate of the local currency: units of it per US dollar (qualifier: official/unofficial rate; site: market).",
            upper_bound=1e10,
            breakdown="rate",
        ),
        Metric(
            "wage",
            "Wage",
            "supply",
            "price",
            "Daily wage of labour at a market (qualifier: kind of labour).",
            upper_bound=1e10,
            breakdown="kind of labour",
        ),
        Metric(
            "water_price",
            "Water price",
            "supply",
            "price",
            "Market price of drinking water (qualifier: item and price type; site: market).",
            upper_bound=1e10,
            breakdown="item",
        ),
        Metric(
            "nonfood_price",
            "Non-food price",
            "supply",
            "price",
            "Market price of a non-food item that is no fuel, water, wage or exchange rate.",
            upper_bound=1e10,
            breakdown="item",
        ),
        Metric(
            "people_targeted",
            "People targeted",
            "needs",
            "stock",
            "People a response plan aims to reach (HXL #targeted).",
        ),
        Metric(
            "people_reached",
            "People reached",
            "needs",
            "stock",
            "People a response reached (HXL #reached).",
        ),
        Metric(
            "water_access",
            "Water access",
            "supply",
            "stock",
            "Share of people with access to safe water (%).",
            upper_bound=100,
        ),
        Metric(
            "electricity_hours",
            "Electricity hours per day",
            "supply",
            "stock",
            "Hours of mains power per day.",
            upper_bound=24,
        ),
        Metric(
            "health_facilities_functioning",
            "Health facilities functioning",
            "supply",
            "stock",
            "Health facilities that still work.",
            upper_bound=1e5,
        ),
        Metric(
            "people_in_need",
            "People in need",
            "needs",
            "stock",
            "People in need of humanitarian assistance.",
        ),
        Metric("population", "Population", "needs", "stock", "Resident population."),
        Metric(
            "funding_received",
            "Humanitarian funding received",
            "needs",
            "flow",
            "Humanitarian funding received in the period, USD (OCHA FTS).",
            upper_bound=1e12,
        ),
        Metric(
            "reports",
            "Reports published",
            "attention",
            "flow",
            "Reports published about the place in the period.",
            upper_bound=1e6,
        ),
    ]
}


ESTIMATES = ("best", "low", "high", "reported")


CHART_DEFAULT = "food_price"  # the metric the chart pages open on, where the store holds it


def metric_spec(name: str) -> Metric:
    """The registry's entry, or a plain stock of that name for a metric no entry describes
    (an imported file's own; a stock, never added, as `overlaps.metric_kind` says), so
    pages can ask any metric the same questions."""
    return METRICS.get(name) or Metric(name, name, "other", "stock", "")


def metric_label(name: str) -> str:
    """A metric's human name, as every page, picker, link and download says it."""
    return metric_spec(name).label


def opening_metric(metrics) -> str:
    """The metric a chart page opens on among those stored (in vocabulary order)."""
    metrics = list(metrics)
    return CHART_DEFAULT if CHART_DEFAULT in metrics else metrics[0]


def opening_qualifier(metric: str, qualifiers) -> str:
    """The breakdown a page opens on: the metric's default where it is stored, else the first."""
    qualifiers = list(qualifiers)
    wanted = metric_spec(metric).default_qualifier
    return wanted if wanted in qualifiers else qualifiers[0]
