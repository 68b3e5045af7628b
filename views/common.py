"""The pages' one import: the names they use, each defined in the module that holds its one job
(so a page reads `common.series`, `common.url_select`, … and a reader finds the job by its
module):

- `views.store_access`: the engine, the data version, the watch for new figures, store errors
- `views.cached`: every query a page runs, cached per data version and as-of moment
- `views.url_state`: widgets bound to the URL, messages about the link, `as_of`
- `views.link_format`: links of earlier forms in today's form (pure)
- `views.pickers`: the shared pickers (cities, metric) and their labels
- `views.provenance`: freshness badges, the "Sources:" line, safe links
- `views.view_link`: the as-of banner and the link to this exact view
- `views.text`: values shown literally
"""

from views.cached import (
    catalogue,
    catalogue_all,
    change_csv,
    change_view,
    city_table,
    freshness,
    latest,
    map_points,
    period_bounds,
    place_table,
    reported,
    series,
    series_at,
)
from views.pickers import (
    DEFAULT_CITIES,
    metric_label,
    metric_order,
    metric_select,
    place_labels,
    selected_cities,
    translate_link,
    window_select,
)
from views.provenance import attribution, freshness_badges, link_column
from views.store_access import (
    _what_changed,
    data_version,
    engine,
    engine_for,
    start_run,
    store_guard,
    store_moments,
    watch_for_new_data,
)
from views.text import plain, safe
from views.url_state import (
    as_of,
    as_of_key,
    as_of_text,
    begin_run,
    link_problem,
    show_link_problems,
    url_text,
)
from views.url_state import select as url_select
from views.url_state import toggle as url_toggle
from views.view_link import (
    as_of_banner,
    copy_link,
    download_links,
    pinned_link,
    share_chart,
)

__all__ = [
    "DEFAULT_CITIES",
    "_what_changed",
    "as_of",
    "as_of_banner",
    "as_of_key",
    "as_of_text",
    "attribution",
    "begin_run",
    "catalogue",
    "catalogue_all",
    "change_csv",
    "change_view",
    "city_table",
    "copy_link",
    "data_version",
    "download_links",
    "engine",
    "engine_for",
    "freshness",
    "freshness_badges",
    "latest",
    "link_column",
    "link_problem",
    "map_points",
    "metric_label",
    "metric_order",
    "metric_select",
    "period_bounds",
    "pinned_link",
    "place_labels",
    "place_table",
    "plain",
    "reported",
    "safe",
    "selected_cities",
    "series",
    "series_at",
    "share_chart",
    "show_link_problems",
    "start_run",
    "store_guard",
    "store_moments",
    "translate_link",
    "url_select",
    "url_text",
    "url_toggle",
    "watch_for_new_data",
    "window_select",
]
